"""Headline figures with the data contract's definitions (one definition for every page and export)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, case, distinct, func, select

from data_access.reads.filters import Filters, apply_people_filters
from data_access.reads.programmes import AVERAGES, SHARES, programme_outcomes
from data_access.reads.uptake import latest_snapshot, uptake_by
from data_access.schema import Headcount

RATE_DIGITS = 4


def headcount_figures(conn: Connection, filters: Filters) -> dict[str, Any]:
    """Staff, entities and duty stations in the latest snapshot on or before the period end."""
    as_of = latest_snapshot(conn, filters)
    if as_of is None:
        return {"as_of_date": None, "headcount": 0, "entities": 0, "duty_stations": 0}
    staffed = Headcount.headcount > 0
    query = apply_people_filters(
        select(
            func.coalesce(func.sum(Headcount.headcount), 0),
            func.count(distinct(case((staffed, Headcount.entity_code)))),
            func.count(distinct(case((staffed, Headcount.duty_station_code)))),
        ).where(Headcount.as_of_date == as_of),
        Headcount,
        filters,
    )
    headcount, entities, duty_stations = conn.execute(query).one()
    return {
        "as_of_date": as_of.isoformat(),
        "headcount": int(headcount),
        "entities": int(entities),
        "duty_stations": int(duty_stations),
    }


def _plain(value: Any, digits: int | None = None) -> Any:
    """A table cell as JSON takes it: ints as int, rates rounded, missing as None."""
    if value is None or pd.isna(value):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    return round(float(value), digits) if digits is not None else float(value)


def platform_figures(conn: Connection, filters: Filters) -> dict[str, dict[str, Any]]:
    """learners, completers, activities, completions and reach_rate per platform (the pages' own query)."""
    frame = uptake_by(conn, filters, "platform").sort_values("platform")
    counts = ("learners", "completers", "activities", "completions")
    return {
        row["platform"]: {**{c: _plain(row[c]) for c in counts}, "reach_rate": _plain(row["reach_rate"], RATE_DIGITS)}
        for row in frame.to_dict("records")
    }


PROGRAMME_FIGURES = ("cohorts", "participants", "graduates", *SHARES, *AVERAGES)


def programme_figures(conn: Connection, filters: Filters) -> dict[str, dict[str, Any]]:
    """Cohorts, participants, graduates, their shares and evaluation levels per programme (the pages' own query).

    Cohorts are the time unit of a programme, so the period filter does not apply here.
    """
    frame = programme_outcomes(conn, filters, by_cohort=False)
    return {
        row["programme"]: {
            key: _plain(row[key], RATE_DIGITS if key in SHARES else 2 if key in AVERAGES else None)
            for key in PROGRAMME_FIGURES
        }
        for row in frame.to_dict("records")
    }


def staff_figures(engine: Engine, filters: Filters) -> dict[str, Any]:
    """Headcount, entities and duty stations of the latest snapshot (``headcount_figures`` on its own connection)."""
    with engine.connect() as conn:
        return headcount_figures(conn, filters)


def headline_kpis(engine: Engine, filters: Filters | None = None) -> dict[str, Any]:
    """The headline figures for a slice, as ``flask kpis --json`` prints them.

    >>> headline_kpis(engine)["platforms"]["Coursera"]["completers"]
    1300
    """
    filters = filters or Filters()
    with engine.connect() as conn:
        staff = headcount_figures(conn, filters)
        return {
            "filters": {
                "entity": filters.entity,
                "duty_station": filters.duty_station,
                "from": filters.date_from.isoformat() if filters.date_from else None,
                "to": filters.date_to.isoformat() if filters.date_to else None,
            },
            **staff,
            "platforms": platform_figures(conn, filters),
            "programmes": programme_figures(conn, filters),
        }

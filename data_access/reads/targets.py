"""KPI targets (JIU recommendation 1): each target against the actual figure for its year and scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, func, select

from data_access.contract import ALL_SCOPE
from data_access.reads.filters import Filters
from data_access.reads.programmes import programme_outcome_columns
from data_access.reads.uptake import uptake_total_columns
from data_access.schema import KpiTarget, LearningActivity

#: A figure at or above this fraction of its target is "at risk" rather than "off track".
AT_RISK_FRACTION = 0.9

#: KPI key -> the column of the actuals that measures it (graduates' shares, labelled as such).
MEASURED = {
    "learners": "learners",
    "completers": "completers",
    "activities": "activities",
    "completions": "completions",
    "reach_rate": "reach_rate",
    "completion_rate": "completion_rate",
    "female_share": "female_share_graduates",
    "field_share": "field_share_graduates",
    "national_share": "national_share_graduates",
    "avg_satisfaction": "avg_satisfaction",
    "avg_score_gain": "avg_score_gain",
    "applied_on_job_rate": "applied_on_job_rate",
}


def target_year(conn: Connection, filters: Filters, activity: Connection | None = None) -> int:
    """The year the targets are read for: the period end's, else the latest year with activity."""
    if filters.date_to:
        return filters.date_to.year
    latest = (activity or conn).execute(select(func.max(LearningActivity.enrolled_on))).scalar()
    return latest.year if latest else dt.date.today().year


def kpi_actuals(conn: Connection, filters: Filters, activity: Connection | None = None) -> pd.DataFrame:
    """One row of every measurable KPI for the target year (activity in that year, cohorts named by it)."""
    year = target_year(conn, filters, activity)
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    period = replace(
        filters,
        date_from=max(start, filters.date_from) if filters.date_from else start,
        date_to=min(end, filters.date_to) if filters.date_to else end,
    )
    columns: dict[str, Any] = {"year": [year]} | uptake_total_columns(conn, period, activity)
    columns |= programme_outcome_columns(conn, filters, by_cohort=False, overall=True, cohort_year=year)
    del columns["cohorts"]
    return pd.DataFrame(columns)


def status_of(actual: float | None, target: float) -> str:
    """on track (at or above target), at risk (within 10% below), off track, or withheld."""
    if actual is None or pd.isna(actual):
        return "withheld"
    if actual >= target:
        return "on track"
    return "at risk" if actual >= AT_RISK_FRACTION * target else "off track"


STATUS_COLUMNS = ("kpi", "scope", "year", "target", "actual", "status")


def kpi_status(engine: Engine, filters: Filters, actuals: pd.DataFrame) -> pd.DataFrame:
    """Targets for the actuals' year and the filtered entity (or ALL), each with its actual and status.

    ``actuals`` is the suppressed ``kpi_actuals`` view, so a withheld figure gets no status.
    """
    return pd.DataFrame(kpi_status_records(engine, filters, actuals), columns=list(STATUS_COLUMNS))


def kpi_status_records(engine: Engine, filters: Filters, actuals: pd.DataFrame) -> list[dict[str, Any]]:
    """``kpi_status`` as one dict per target (what a page draws from)."""
    if actuals.empty:
        return []
    row = actuals.iloc[0]
    year = int(row["year"])
    scopes = (ALL_SCOPE, filters.entity) if filters.entity else (ALL_SCOPE,)
    rows = _targets(engine, year, scopes)
    records = []
    for kpi, scope, year, target in rows:
        actual = row[MEASURED[kpi]]
        actual = None if pd.isna(actual) else actual
        values = (kpi, scope, year, target, actual, status_of(actual, target))
        records.append(dict(zip(STATUS_COLUMNS, values, strict=True)))
    return records


def _targets(engine: Engine, year: int, scopes: tuple[str, ...]) -> list[tuple[Any, ...]]:
    query = (
        select(KpiTarget.kpi, KpiTarget.scope, KpiTarget.year, KpiTarget.target)
        .where(KpiTarget.year == year, KpiTarget.scope.in_(scopes), KpiTarget.kpi.in_(list(MEASURED)))
        .order_by(KpiTarget.scope.desc(), KpiTarget.kpi)
    )
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query).all()]

"""Leadership programme outcomes per programme and cohort, and the workforce baseline they compare with."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, case, func, select

from data_access.reads.filters import Filters, apply_people_filters
from data_access.reads.uptake import latest_snapshot
from data_access.schema import DutyStation, Headcount, ProgrammeParticipation

P = ProgrammeParticipation

#: Staff categories recruited locally: the workforce baseline for the share of national participants.
LOCALLY_RECRUITED = ("GS", "NPO")

COUNTS = (
    "participants",
    "graduates",
    "female_participants",
    "female_graduates",
    "field_participants",
    "field_graduates",
    "national_participants",
    "national_graduates",
    "evaluated",
    "tested",
    "followed_up",
    "applied_on_job",
)
#: rate -> (numerator, denominator) among COUNTS.
SHARES = {
    "completion_rate": ("graduates", "participants"),
    "female_share_participants": ("female_participants", "participants"),
    "female_share_graduates": ("female_graduates", "graduates"),
    "field_share_participants": ("field_participants", "participants"),
    "field_share_graduates": ("field_graduates", "graduates"),
    "national_share_participants": ("national_participants", "participants"),
    "national_share_graduates": ("national_graduates", "graduates"),
    "applied_on_job_rate": ("applied_on_job", "followed_up"),
}
#: averages -> the count of people they are built on.
AVERAGES = {"avg_satisfaction": "evaluated", "avg_score_gain": "tested"}


def _count_if(condition: Any) -> Any:
    return func.count(case((condition, 1)))


def programme_outcomes(
    conn: Connection,
    filters: Filters,
    *,
    by_cohort: bool,
    overall: bool = False,
    cohort_year: int | None = None,
) -> pd.DataFrame:
    """Participants, graduates, their shares and evaluation levels 1-3, per programme (and cohort).

    Cohorts are a programme's own time unit, so the period filter does not apply; ``cohort_year``
    keeps the cohorts whose name starts with that year, and ``overall`` adds all programmes up.
    """
    return pd.DataFrame(
        programme_outcome_columns(conn, filters, by_cohort=by_cohort, overall=overall, cohort_year=cohort_year)
    )


def programme_outcome_columns(
    conn: Connection,
    filters: Filters,
    *,
    by_cohort: bool,
    overall: bool = False,
    cohort_year: int | None = None,
) -> dict[str, Any]:
    """``programme_outcomes`` as columns (arrays), before they are made a table."""
    key_names = [] if overall else ["programme", "cohort"] if by_cohort else ["programme"]
    columns = [*key_names, "cohorts", *COUNTS, *AVERAGES]
    rows = conn.execute(_outcomes_query(filters, key_names, cohort_year)).all()
    data = dict(zip(columns, zip(*rows, strict=True), strict=True)) if rows else {}
    data = {name: list(data.get(name, ())) for name in columns}
    for name in key_names:  # text, even with no rows (an empty list would make a float column)
        data[name] = np.array(data[name], dtype=object)
    for name in ("cohorts", *COUNTS):
        data[name] = np.asarray(data[name], dtype=np.int64)
    for rate, (part, whole) in SHARES.items():
        base = data[whole].astype(float)
        data[rate] = np.divide(data[part], base, out=np.full(len(base), np.nan), where=base > 0)
    for average in AVERAGES:
        values = np.round(np.array([np.nan if v is None else float(v) for v in data[average]], dtype=float), 2)
        data[average] = pd.arrays.FloatingArray(np.nan_to_num(values), np.isnan(values))
    if by_cohort and not overall:
        del data["cohorts"]
    return data


def _outcomes_query(filters: Filters, key_names: list[str], cohort_year: int | None) -> Any:
    graduate = P.status == "completed"
    female = P.gender == "female"
    field = DutyStation.is_headquarters.is_(False)
    national = P.contract_scope == "national"
    gain = P.post_score - P.pre_score
    keys = [getattr(P, name) for name in key_names]
    query = select(
        *keys,
        func.count(func.distinct(P.cohort)),
        func.count(),
        _count_if(graduate),
        _count_if(female),
        _count_if(and_(graduate, female)),
        _count_if(field),
        _count_if(and_(graduate, field)),
        _count_if(national),
        _count_if(and_(graduate, national)),
        func.count(P.satisfaction),
        func.count(gain),
        func.count(P.applied_on_job),
        _count_if(P.applied_on_job == "yes"),
        func.avg(P.satisfaction),
        func.avg(gain),
    ).join(DutyStation, DutyStation.duty_station_code == P.duty_station_code, isouter=True)
    if filters.programme:
        query = query.where(P.programme == filters.programme)
    if cohort_year is not None:
        query = query.where(P.cohort.startswith(str(cohort_year), autoescape=True))
    query = apply_people_filters(query, P, filters)
    if keys:
        query = query.group_by(*keys).order_by(*keys)
    return query


def programme_summary(conn: Connection, filters: Filters, activity: Connection | None = None) -> pd.DataFrame:
    return programme_outcomes(conn, filters, by_cohort=False)


def programme_total(conn: Connection, filters: Filters, activity: Connection | None = None) -> pd.DataFrame:
    return programme_outcomes(conn, filters, by_cohort=False, overall=True)


def programme_cohorts(conn: Connection, filters: Filters, activity: Connection | None = None) -> pd.DataFrame:
    return programme_outcomes(conn, filters, by_cohort=True)


def workforce_baseline(conn: Connection, filters: Filters, activity: Connection | None = None) -> pd.DataFrame:
    """Female, field and locally recruited shares of headcount in the latest snapshot (one row)."""
    as_of, counts = _workforce(conn, filters)
    whole = counts["headcount"]
    columns: dict[str, list[Any]] = {"as_of_date": [as_of.isoformat() if as_of else None]}
    columns |= {name: [count] for name, count in counts.items()}
    for share, part in (
        ("female", "female_staff"),
        ("field", "field_staff"),
        ("locally_recruited", "locally_recruited_staff"),
    ):
        columns[f"{share}_share"] = [counts[part] / whole if whole > 0 else np.nan]
    return pd.DataFrame(columns)


def _workforce(conn: Connection, filters: Filters) -> tuple[dt.date | None, dict[str, int]]:
    as_of = latest_snapshot(conn, filters)
    h = Headcount
    query = (
        select(
            func.coalesce(func.sum(h.headcount), 0),
            func.coalesce(func.sum(case((h.gender == "female", h.headcount), else_=0)), 0),
            func.coalesce(func.sum(case((DutyStation.is_headquarters.is_(False), h.headcount), else_=0)), 0),
            func.coalesce(func.sum(case((h.staff_category.in_(LOCALLY_RECRUITED), h.headcount), else_=0)), 0),
        )
        .join(DutyStation, DutyStation.duty_station_code == h.duty_station_code, isouter=True)
        .where(h.as_of_date == as_of)
    )
    staff, female, field, local = conn.execute(apply_people_filters(query, h, filters)).one()
    return as_of, {"headcount": int(staff), "female_staff": int(female), "field_staff": int(field),
                   "locally_recruited_staff": int(local)}  # fmt: skip

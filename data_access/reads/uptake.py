"""Uptake of learning platforms: raw counts per slice, before suppression (``views`` applies it)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, case, distinct, func, or_, select

from data_access.reads.filters import Filters, apply_people_filters, in_period
from data_access.schema import DutyStation, Entity, Headcount, LearningActivity

A = LearningActivity

#: Breakdown name -> the activity column it groups by (``location`` is HQ vs field).
DIMENSIONS = {
    "entity": "entity_code",
    "duty_station": "duty_station_code",
    "platform": "platform",
    "staff_category": "staff_category",
    "gender": "gender",
    "location": "location",
}


def month_of(conn: Connection, column: Any) -> Any:
    """``YYYY-MM`` of a date column, in the connection's SQL dialect."""
    if conn.dialect.name == "sqlite":
        return func.strftime("%Y-%m", column)
    return func.to_char(column, "YYYY-MM")


def _location() -> Any:
    return case((DutyStation.is_headquarters.is_(True), "Headquarters"), else_="Field")


def _activity_scope(query: Any, filters: Filters) -> Any:
    query = query.where(or_(in_period(A.enrolled_on, filters), in_period(A.completed_on, filters)))
    if filters.platform:
        query = query.where(A.platform == filters.platform)
    return apply_people_filters(query, A, filters)


def _completed(filters: Filters) -> Any:
    return and_(A.status == "completed", in_period(A.completed_on, filters))


def latest_snapshot(conn: Connection, filters: Filters) -> Any:
    """The latest headcount date on or before the period end, or None."""
    query = apply_people_filters(select(func.max(Headcount.as_of_date)), Headcount, filters)
    if filters.date_to:
        query = query.where(Headcount.as_of_date <= filters.date_to)
    return conn.execute(query).scalar()


def headcount_by(conn: Connection, filters: Filters, dimension: str) -> pd.DataFrame:
    """Staff in the latest snapshot on or before the period end, per ``dimension`` value."""
    as_of = latest_snapshot(conn, filters)
    if dimension == "platform":
        return pd.DataFrame({"headcount": [0 if as_of is None else headcount_total(conn, filters, as_of)]})
    if as_of is None:
        return pd.DataFrame({dimension: pd.Series(dtype=object), "headcount": pd.Series(dtype="int64")})
    column = _location() if dimension == "location" else getattr(Headcount, DIMENSIONS[dimension])
    query = select(column.label(dimension), func.sum(Headcount.headcount).label("headcount")).where(
        Headcount.as_of_date == as_of
    )
    if dimension == "location":
        query = query.join(DutyStation, DutyStation.duty_station_code == Headcount.duty_station_code)
    query = apply_people_filters(query, Headcount, filters).group_by(column)
    return pd.DataFrame(conn.execute(query).all(), columns=[dimension, "headcount"])


def headcount_total(conn: Connection, filters: Filters, as_of: Any) -> int:
    query = select(func.coalesce(func.sum(Headcount.headcount), 0)).where(Headcount.as_of_date == as_of)
    return int(conn.execute(apply_people_filters(query, Headcount, filters)).scalar() or 0)


def activity_counts(conn: Connection, filters: Filters, dimension: str | None) -> pd.DataFrame:
    """learners, completers, activities and completions per ``dimension`` value (None: one row), by SQL."""
    completed = _completed(filters)
    counts = [
        func.count(distinct(A.learner_id)).label("learners"),
        func.count(distinct(case((completed, A.learner_id)))).label("completers"),
        func.count().label("activities"),
        func.count(case((completed, 1))).label("completions"),
    ]
    names = ["learners", "completers", "activities", "completions"]
    if dimension is None:
        return pd.DataFrame([conn.execute(_activity_scope(select(*counts), filters)).one()], columns=names)
    column = _location() if dimension == "location" else getattr(A, DIMENSIONS[dimension])
    query = select(column.label(dimension), *counts)
    if dimension == "location":
        query = query.join(DutyStation, DutyStation.duty_station_code == A.duty_station_code)
    query = _activity_scope(query, filters).group_by(column)
    return pd.DataFrame(conn.execute(query).all(), columns=[dimension, *names])


ACTIVITY_COUNTS = ("learners", "completers", "activities", "completions")


def _counts(
    conn: Connection, filters: Filters, dimension: str | None, activity: Connection | None
) -> dict[str, list[Any]]:
    """The activity counts per ``dimension`` value as columns of plain values, from the activity
    snapshot when given, else from the store."""
    frame = activity_counts(activity or conn, filters, dimension)
    return {column: frame[column].tolist() for column in frame.columns}


def uptake_by(conn: Connection, filters: Filters, dimension: str, activity: Connection | None = None) -> pd.DataFrame:
    """learners, completers, activities, completions, headcount and reach_rate per ``dimension`` value.

    With ``activity`` (the snapshot of the same data version) the activity counts come from it; the
    result is the same either way.
    """
    return pd.DataFrame(uptake_by_columns(conn, filters, dimension, activity))


def uptake_by_columns(
    conn: Connection, filters: Filters, dimension: str, activity: Connection | None = None
) -> dict[str, np.ndarray]:
    """``uptake_by`` as columns (arrays), before they are made a table."""
    found = _counts(conn, filters, dimension, activity)
    columns = [found[c] for c in (dimension, *ACTIVITY_COUNTS)]
    table = headcount_by(conn, filters, dimension)
    keys = table[dimension].tolist() if dimension != "platform" else []
    staff = table["headcount"].tolist()
    # Either side may lack a value (staff who learned nothing, learners outside the snapshot): an outer
    # join in key order, missing counts 0. A few hundred rows at most, so plain Python beats a merge.
    if dimension == "platform":
        total = int(staff[0])
        cells = {key: [*counts, total] for key, *counts in zip(*columns, strict=True)}
    else:
        cells = {key: [*counts, 0] for key, *counts in zip(*columns, strict=True)}
        for key, headcount in zip(keys, staff, strict=True):
            cells.setdefault(key, [0, 0, 0, 0, 0])[4] = headcount
    keys = list(cells) if dimension == "platform" else sorted(cells)
    values = np.array([cells[key] for key in keys], dtype=np.int64).reshape(len(keys), 5)
    learners, headcount = values[:, 0], values[:, 4]
    order = np.argsort(-learners, kind="stable")
    out = {dimension: np.array(keys, dtype=object)[order]}
    out |= {name: values[order, position] for position, name in enumerate((*ACTIVITY_COUNTS, "headcount"))}
    out["reach_rate"] = np.divide(learners, headcount, out=np.full(len(keys), np.nan), where=headcount > 0)[order]
    return out


def uptake_total(conn: Connection, filters: Filters, activity: Connection | None = None) -> pd.DataFrame:
    """One row: distinct learners and completers across platforms, activities, completions, reach_rate."""
    return pd.DataFrame(uptake_total_columns(conn, filters, activity))


def uptake_total_columns(
    conn: Connection, filters: Filters, activity: Connection | None = None
) -> dict[str, list[Any]]:
    """``uptake_total`` as columns of one value each, before they are made a table."""
    row = _counts(conn, filters, None, activity)
    as_of = latest_snapshot(conn, filters)
    headcount = 0 if as_of is None else headcount_total(conn, filters, as_of)
    row["headcount"] = [headcount]
    row["reach_rate"] = [row["learners"][0] / headcount if headcount > 0 else np.nan]
    return row


def uptake_by_entity(conn: Connection, filters: Filters, activity: Connection | None = None) -> pd.DataFrame:
    columns = uptake_by_columns(conn, filters, "entity", activity)
    names = entity_names(conn)
    found = dict(zip(names["entity"].tolist(), names["name"].tolist(), strict=True))
    codes = columns.pop("entity")
    named = {"entity": codes, "name": np.array([found.get(code) for code in codes.tolist()], dtype=object)}
    return pd.DataFrame(named | columns)


def uptake_by_duty_station(conn: Connection, filters: Filters, activity: Connection | None = None) -> pd.DataFrame:
    columns = uptake_by_columns(conn, filters, "duty_station", activity)
    return with_places(duty_stations(conn), pd.DataFrame(columns))


def with_places(places: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (a ``duty_station`` column first) with each station's name, headquarters flag and
    position from ``places`` (``duty_stations``), in the frame's row order; a station not there gets none."""
    return places.merge(frame, on="duty_station", how="right")[
        ["duty_station", "name", "headquarters", *frame.columns[1:], "latitude", "longitude"]
    ]


def entity_names(conn: Connection) -> pd.DataFrame:
    """Each entity's code and name."""
    return pd.DataFrame(conn.execute(select(Entity.entity_code, Entity.entity_name)).all(), columns=["entity", "name"])


def duty_stations(conn: Connection) -> pd.DataFrame:
    """Each duty station's code, name, headquarters flag and position."""
    return pd.DataFrame(
        conn.execute(
            select(
                DutyStation.duty_station_code,
                DutyStation.duty_station_name,
                DutyStation.is_headquarters,
                DutyStation.latitude,
                DutyStation.longitude,
            )
        ).all(),
        columns=["duty_station", "name", "headquarters", "latitude", "longitude"],
    )


def uptake_by_platform(conn: Connection, filters: Filters, activity: Connection | None = None) -> pd.DataFrame:
    return uptake_by(conn, filters, "platform", activity)


def uptake_by_location(conn: Connection, filters: Filters, activity: Connection | None = None) -> pd.DataFrame:
    frame = uptake_by(conn, filters, "location", activity)
    return frame.sort_values("location").reset_index(drop=True)


def uptake_by_month(conn: Connection, filters: Filters, activity: Connection | None = None) -> pd.DataFrame:
    """Per month and platform: distinct learners enrolling, and completions."""
    source = activity or conn
    return _side_by_side(_enrolling_by_month(source, filters), _completions_by_month(source, filters))


def completions_by_month(conn: Connection, filters: Filters, activity: Connection | None = None) -> pd.DataFrame:
    """Per month and platform: completions, in the rows of ``uptake_by_month`` (a month with enrolments and
    no completion counts 0), without counting distinct learners, the costly part of that view."""
    source = activity or conn
    months = source.execute(_enrolments_by_month(source, filters))
    enrolling = pd.DataFrame([(*row, 0) for row in months], columns=["month", "platform", "none"])
    return _side_by_side(enrolling, _completions_by_month(source, filters)).drop(columns="learners_enrolling")


def _side_by_side(enrolling: pd.DataFrame, completing: pd.DataFrame) -> pd.DataFrame:
    """Learners enrolling and completions per (month, platform) with either, in month and platform order
    (a few hundred cells at most: plain Python is quicker here than a pandas merge and sort)."""
    cells: dict[tuple[str, str], list[int]] = {}
    for month, platform, learners in zip(*(enrolling[c].tolist() for c in enrolling.columns), strict=True):
        cells[(month, platform)] = [int(learners), 0]
    for month, platform, completions in zip(*(completing[c].tolist() for c in completing.columns), strict=True):
        cells.setdefault((month, platform), [0, 0])[1] = int(completions)
    rows = [(*key, *cells[key]) for key in sorted(cells)]
    return pd.DataFrame(rows, columns=["month", "platform", "learners_enrolling", "completions"])


def _by_month(conn: Connection, column: Any) -> tuple[Any, Any]:
    """(``YYYY-MM`` of a date column, what to group by for it). DuckDB groups by the month's first day and
    writes the text once per group, not once per row: the monthly counts take about half the time."""
    if conn.dialect.name == "duckdb":
        first_day = func.date_trunc("month", column)
        return func.strftime(first_day, "%Y-%m"), first_day
    month = month_of(conn, column)
    return month, month


def _enrolments_by_month(conn: Connection, filters: Filters, *counts: Any) -> Any:
    """month, platform and ``counts`` of the slice's enrolments in the period, per month and platform."""
    enrolled_month, group = _by_month(conn, A.enrolled_on)
    query = select(enrolled_month.label("month"), A.platform, *counts).where(in_period(A.enrolled_on, filters))
    query = apply_people_filters(query, A, filters).group_by(group, A.platform)
    return query.where(A.platform == filters.platform) if filters.platform else query


def _enrolling_by_month(conn: Connection, filters: Filters) -> pd.DataFrame:
    enrolling = _enrolments_by_month(conn, filters, func.count(distinct(A.learner_id)).label("learners_enrolling"))
    return pd.DataFrame(conn.execute(enrolling).all(), columns=["month", "platform", "learners_enrolling"])


def _completions_by_month(conn: Connection, filters: Filters) -> pd.DataFrame:
    completed_month, group = _by_month(conn, A.completed_on)
    completing = select(completed_month.label("month"), A.platform, func.count().label("completions")).where(
        _completed(filters)
    )
    completing = apply_people_filters(completing, A, filters).group_by(group, A.platform)
    if filters.platform:
        completing = completing.where(A.platform == filters.platform)
    return pd.DataFrame(conn.execute(completing).all(), columns=["month", "platform", "completions"])

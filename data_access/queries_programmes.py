"""Leadership programme outcomes per programme and cohort, and the workforce baseline they compare with."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, case, func, select

from data_access.filters import PEOPLE_COLUMNS, Filters, apply_people_filters
from data_access.frames import frame_from
from data_access.queries_uptake import latest_snapshot
from data_access.schema import DutyStation, Headcount, ProgrammeParticipation

if TYPE_CHECKING:
    from data_access.reference import Reference

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
    participation: Participation | None = None,
) -> pd.DataFrame:
    """Participants, graduates, their shares and evaluation levels 1-3, per programme (and cohort).

    Cohorts are a programme's own time unit, so the period filter does not apply; ``cohort_year``
    keeps the cohorts whose name starts with that year, and ``overall`` adds all programmes up.
    With ``participation`` (the same data version, in memory) no SQL is asked; the result is the same.
    """
    return frame_from(
        programme_outcome_columns(
            conn, filters, by_cohort=by_cohort, overall=overall, cohort_year=cohort_year, participation=participation
        )
    )


def programme_outcome_columns(
    conn: Connection,
    filters: Filters,
    *,
    by_cohort: bool,
    overall: bool = False,
    cohort_year: int | None = None,
    participation: Participation | None = None,
) -> dict[str, Any]:
    """``programme_outcomes`` as columns (arrays), before they are made a table."""
    key_names = [] if overall else ["programme", "cohort"] if by_cohort else ["programme"]
    columns = [*key_names, "cohorts", *COUNTS, *AVERAGES]
    if participation is not None:
        data = participation.outcomes(filters, key_names, cohort_year)
    else:
        rows = conn.execute(_outcomes_query(filters, key_names, cohort_year)).all()
        data = dict(zip(columns, zip(*rows, strict=True), strict=True)) if rows else {}
        data = {name: list(data.get(name, ())) for name in columns}
    # Built column by column in numpy and made a table once: pandas' per-column arithmetic cost more
    # than the query on a small slice.
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


@dataclass(frozen=True)
class Participation:
    """One data version's programme participation as arrays (thousands of rows), so that a slice's
    programme figures and KPI actuals are counted in memory instead of by a query each."""

    columns: dict[str, np.ndarray]
    years: dict[int, np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def read(cls, conn: Connection) -> Participation:
        text = ["programme", "cohort", *PEOPLE_COLUMNS.values(), "status", "contract_scope", "applied_on_job"]
        query = select(
            *(getattr(P, name) for name in text), P.satisfaction, P.pre_score, P.post_score, DutyStation.is_headquarters
        ).join(DutyStation, DutyStation.duty_station_code == P.duty_station_code, isouter=True)
        rows = conn.execute(query).all()
        values = [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(len(text) + 4)]
        table = {name: np.array(values[i], dtype=object) for i, name in enumerate(text)}
        satisfaction, pre, post = (np.array([np.nan if v is None else float(v) for v in values[len(text) + i]], float)
                                   for i in range(3))  # fmt: skip
        graduate = table["status"] == "completed"
        columns = {name: table[name] for name in ("programme", "cohort", *PEOPLE_COLUMNS.values())}
        columns |= {
            "graduate": graduate,
            "female": table["gender"] == "female",
            "field": np.array([flag is False for flag in values[-1]], dtype=bool),  # IS FALSE: unknown stations are not
            "national": table["contract_scope"] == "national",
            "satisfaction": satisfaction,
            "gain": post - pre,
            "followed_up": np.array([v is not None for v in table["applied_on_job"]], dtype=bool),
            "applied": table["applied_on_job"] == "yes",
        }
        return cls(columns)

    def _named_by_year(self, year: int) -> np.ndarray:
        """The rows whose cohort's name starts with ``year`` (the KPI actuals ask for one year often)."""
        found = self.years.get(year)
        if found is None:
            found = np.array([cohort.startswith(str(year)) for cohort in self.columns["cohort"]], dtype=bool)
            self.years[year] = found
        return found

    def outcomes(self, filters: Filters, key_names: list[str], cohort_year: int | None) -> dict[str, Any]:
        """``programme_outcomes``' counts, averages and keys, as the SQL query returns them."""
        c = self.columns
        keep = np.ones(len(c["programme"]), dtype=bool)
        for name, column in PEOPLE_COLUMNS.items():
            if getattr(filters, name) is not None:
                keep &= c[column] == getattr(filters, name)
        if filters.programme:
            keep &= c["programme"] == filters.programme
        if cohort_year is not None:
            keep &= self._named_by_year(cohort_year)
        rows = np.flatnonzero(keep)
        keys = list(zip(*(c[name][rows].tolist() for name in key_names), strict=True)) if key_names else []
        groups = sorted(set(keys)) if key_names else [()]
        position = {key: n for n, key in enumerate(groups)}
        group = np.array([position[k] for k in keys] if key_names else np.zeros(len(rows)), dtype=np.int64)
        size = len(groups)

        def count(flags: np.ndarray) -> np.ndarray:
            return np.bincount(group, weights=flags[rows], minlength=size).astype(np.int64)

        cohorts = [set() for _ in range(size)]
        for g, cohort in zip(group.tolist(), c["cohort"][rows].tolist(), strict=True):
            cohorts[g].add(cohort)
        data: dict[str, Any] = {name: [k[i] for k in groups] for i, name in enumerate(key_names)}
        data["cohorts"] = [len(found) for found in cohorts]
        g, f, n = c["graduate"], c["female"], c["national"]
        for name, flags in (
            ("participants", np.ones(len(keep), dtype=bool)),
            ("graduates", g),
            ("female_participants", f),
            ("female_graduates", g & f),
            ("field_participants", c["field"]),
            ("field_graduates", g & c["field"]),
            ("national_participants", n),
            ("national_graduates", g & n),
            ("evaluated", ~np.isnan(c["satisfaction"])),
            ("tested", ~np.isnan(c["gain"])),
            ("followed_up", c["followed_up"]),
            ("applied_on_job", c["applied"]),
        ):
            data[name] = count(flags)
        for average, value in (("avg_satisfaction", "satisfaction"), ("avg_score_gain", "gain")):
            known = ~np.isnan(c[value][rows])
            total = np.bincount(group[known], weights=c[value][rows][known], minlength=size)
            number = np.bincount(group[known], minlength=size)
            data[average] = [None if k == 0 else t / k for t, k in zip(total.tolist(), number.tolist(), strict=True)]
        return data


def programme_summary(conn: Connection, filters: Filters, reference: Reference | None = None) -> pd.DataFrame:
    return programme_outcomes(conn, filters, by_cohort=False, participation=participation_of(reference))


def programme_total(conn: Connection, filters: Filters, reference: Reference | None = None) -> pd.DataFrame:
    return programme_outcomes(conn, filters, by_cohort=False, overall=True, participation=participation_of(reference))


def programme_cohorts(conn: Connection, filters: Filters, reference: Reference | None = None) -> pd.DataFrame:
    return programme_outcomes(conn, filters, by_cohort=True, participation=participation_of(reference))


def participation_of(reference: Reference | None) -> Participation | None:
    """The programme participation held with ``reference``, if any."""
    return None if reference is None else reference.participation


def workforce_baseline(conn: Connection, filters: Filters, reference: Reference | None = None) -> pd.DataFrame:
    """Female, field and locally recruited shares of headcount in the latest snapshot (one row); with
    ``reference`` (the headcount in memory, same data version) counted from it, the same either way."""
    if reference is not None:
        as_of, counts = reference.workforce(filters)
    else:
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
    return frame_from(columns)


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

"""Every figure the dashboard draws or exports, by name, with small-cell suppression applied.

A page asks ``run_view(engine, "uptake_by_entity", filters)`` for the table behind a chart;
the export route asks for the same table, so a download is exactly what the chart shows.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select

from data_access import queries_needs, queries_programmes, queries_uptake, targets
from data_access.activity_index import ActivityIndex
from data_access.activity_shelf import INDEX_READS, IndexShelf
from data_access.cache import DataVersions, DecodedTables, MemoryStore, Store, cache_key, data_versions, read_once
from data_access.contract import GENDERS, STAFF_CATEGORIES
from data_access.filters import PEOPLE_DIMENSIONS, Filters
from data_access.lna_rows import LNA_READS, LnaRows, lna_of
from data_access.privacy import count_matrix, differenced, row_lookup, suppress
from data_access.reference import REFERENCE_READS, Reference, reference_of
from data_access.schema import (
    DutyStation,
    Entity,
    Headcount,
    LearningActivity,
    LearningNeed,
    ProgrammeParticipation,
    UploadBatch,
)

UPTAKE_COUNTS = ("learners", "completers", "activities", "completions", "headcount")
UPTAKE_RATES = {"reach_rate": ("learners", "headcount")}
NEED_DIMENSIONS = ("entity", "duty_station", "staff_category", "gender")
PROGRAMME_READS = ("programme_participation", "duty_stations", "headcount")
#: The filters each kind of query reads (``View.filters``).
PERIOD = ("date_from", "date_to")
UPTAKE_FILTERS = (*NEED_DIMENSIONS, *PERIOD, "platform")
NEED_FILTERS = (*NEED_DIMENSIONS, "report_type", "learning_need", "cycle")
PROGRAMME_FILTERS = (*NEED_DIMENSIONS, "programme")
PROGRAMME_RATES = {
    **{rate: basis for rate, basis in queries_programmes.SHARES.items()},
    **{average: (count,) for average, count in queries_programmes.AVERAGES.items()},
}


#: A view's query result before suppression, and what is worked out from it while it is kept (its counts
#: as a matrix and its rows by key: a parent slice is compared with every child slice that differencing asks about).
Raw = tuple[pd.DataFrame, dict[str, Any]]


@dataclass(frozen=True)
class View:
    """A named table behind a figure: its query, its key columns, and what is a count of people."""

    title: str
    #: ``query(conn, filters)``, or ``query(conn, filters, index)`` when ``indexed``.
    query: Callable[..., pd.DataFrame]
    keys: tuple[str, ...]
    counts: tuple[str, ...]
    rates: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Columns whose rows are siblings for complementary suppression; None when rows are not siblings.
    groups: tuple[str, ...] | None = ()
    #: The filters that narrow this view's set of people (each is differenced against its parent).
    dimensions: tuple[str, ...] = PEOPLE_DIMENSIONS
    #: The upload kinds its query reads: a batch of any other kind leaves its cached tables valid.
    reads: tuple[str, ...] = ("learning_activity", "headcount", "entities", "duty_stations")
    #: Whether its query takes an ``index`` argument: its activity counts from the summaries (``activity_index``).
    indexed: bool = False
    #: Whether its query takes a ``reference`` argument: headcount and names from memory (``reference``).
    referenced: bool = False
    #: Whether its query takes an ``lna`` argument: the LNA rows from memory (``lna_rows``).
    lna: bool = False
    #: The filters its query reads. The others are dropped from its slice, so a filter it ignores
    #: (a period on the LNA, a programme on uptake) reuses the tables computed without it.
    filters: tuple[str, ...] = UPTAKE_FILTERS

    def slice_of(self, filters: Filters) -> Filters:
        return replace(filters, **{f.name: None for f in fields(Filters) if f.name not in self.filters})


VIEWS: dict[str, View] = {
    "kpi_actuals": View(
        "Figures measured against KPI targets",
        targets.kpi_actuals,
        (),
        ("learners", "completers", "activities", "completions", "headcount", *queries_programmes.COUNTS),
        {**UPTAKE_RATES, **PROGRAMME_RATES},
        groups=None,
        reads=("learning_activity", "headcount", "programme_participation", "duty_stations"),
        indexed=True,
        referenced=True,
        filters=(*UPTAKE_FILTERS, "programme"),
    ),
    "uptake_total": View(
        "Learners, completers and reach across platforms",
        queries_uptake.uptake_total,
        (),
        UPTAKE_COUNTS,
        UPTAKE_RATES,
        groups=None,
        indexed=True,
        referenced=True,
    ),
    "uptake_by_platform": View(
        "Learners, completers and reach per platform",
        queries_uptake.uptake_by_platform,
        ("platform",),
        UPTAKE_COUNTS,
        UPTAKE_RATES,
        indexed=True,
        referenced=True,
    ),
    "uptake_by_entity": View(
        "Learners, completers and reach per entity",
        queries_uptake.uptake_by_entity,
        ("entity",),
        UPTAKE_COUNTS,
        UPTAKE_RATES,
        indexed=True,
        referenced=True,
    ),
    "uptake_by_duty_station": View(
        "Learners, completers and reach per duty station",
        queries_uptake.uptake_by_duty_station,
        ("duty_station",),
        UPTAKE_COUNTS,
        UPTAKE_RATES,
        indexed=True,
        referenced=True,
    ),
    "uptake_by_location": View(
        "Learners and reach at headquarters and in the field",
        queries_uptake.uptake_by_location,
        ("location",),
        UPTAKE_COUNTS,
        UPTAKE_RATES,
        indexed=True,
        referenced=True,
    ),
    "uptake_by_month": View(
        "Learners enrolling and completions per month",
        queries_uptake.uptake_by_month,
        ("month", "platform"),
        ("learners_enrolling", "completions"),
        groups=("month",),
        indexed=True,
    ),
    "needs_by_need": View(
        "Learning needs named by respondents",
        queries_needs.needs_by_need,
        ("learning_need",),
        ("respondents", "high_priority_respondents"),
        {"need_share": ("respondents",), "high_priority_share": ("respondents", "high_priority_respondents")},
        dimensions=NEED_DIMENSIONS,
        reads=("lna", "entities"),
        lna=True,
        filters=NEED_FILTERS,
    ),
    "needs_by_priority": View(
        "Priority of learning needs per area",
        queries_needs.needs_by_priority,
        ("area", "priority"),
        ("respondents",),
        {"share_of_area": ("respondents",)},
        groups=("area",),
        dimensions=NEED_DIMENSIONS,
        reads=("lna", "entities"),
        lna=True,
        filters=NEED_FILTERS,
    ),
    "needs_by_entity": View(
        "Learning needs per entity",
        queries_needs.needs_by_entity,
        ("entity", "learning_need"),
        ("respondents",),
        {"need_share": ("respondents",)},
        groups=("entity",),
        dimensions=NEED_DIMENSIONS,
        reads=("lna", "entities"),
        lna=True,
        filters=NEED_FILTERS,
    ),
    "needs_by_cycle": View(
        "Learning needs per LNA cycle",
        queries_needs.needs_by_cycle,
        ("cycle", "learning_need"),
        ("respondents",),
        {"need_share": ("respondents",)},
        groups=("cycle",),
        dimensions=NEED_DIMENSIONS,
        reads=("lna", "entities"),
        lna=True,
        filters=NEED_FILTERS,
    ),
    "need_gap": View(
        "Needs against uptake: need share minus share of completions",
        queries_needs.need_gap,
        ("learning_need",),
        ("respondents", "completions"),
        {
            "need_share": ("respondents",),
            "completion_share": ("completions",),
            "need_gap": ("respondents", "completions"),
        },
        reads=("lna", "learning_activity"),
        indexed=True,
        lna=True,
        filters=(*NEED_FILTERS, *PERIOD, "platform"),
    ),
    "programme_summary": View(
        "Leadership programme outcomes",
        queries_programmes.programme_summary,
        ("programme",),
        queries_programmes.COUNTS,
        PROGRAMME_RATES,
        groups=None,
        dimensions=NEED_DIMENSIONS,
        reads=PROGRAMME_READS,
        filters=PROGRAMME_FILTERS,
        referenced=True,
    ),
    "programme_total": View(
        "Leadership programme outcomes, all programmes",
        queries_programmes.programme_total,
        (),
        queries_programmes.COUNTS,
        PROGRAMME_RATES,
        groups=None,
        dimensions=NEED_DIMENSIONS,
        reads=PROGRAMME_READS,
        filters=PROGRAMME_FILTERS,
        referenced=True,
    ),
    "programme_cohorts": View(
        "Leadership programme outcomes per cohort",
        queries_programmes.programme_cohorts,
        ("programme", "cohort"),
        queries_programmes.COUNTS,
        PROGRAMME_RATES,
        groups=None,
        dimensions=NEED_DIMENSIONS,
        reads=PROGRAMME_READS,
        filters=PROGRAMME_FILTERS,
        referenced=True,
    ),
    "workforce_baseline": View(
        "Workforce baseline from headcount",
        queries_programmes.workforce_baseline,
        (),
        ("headcount", "female_staff", "field_staff", "locally_recruited_staff"),
        {
            "female_share": ("headcount", "female_staff"),
            "field_share": ("headcount", "field_staff"),
            "locally_recruited_share": ("headcount", "locally_recruited_staff"),
        },
        groups=None,
        dimensions=NEED_DIMENSIONS,
        reads=("headcount", "duty_stations"),
        referenced=True,
        filters=(*NEED_DIMENSIONS, "date_to"),
    ),
}


def run_view(
    engine: Engine,
    name: str,
    filters: Filters,
    min_cell: int,
    *,
    raw: Callable[[str, Filters], Raw] | None = None,
) -> pd.DataFrame:
    """The table behind figure ``name`` for ``filters``, with small counts suppressed.

    Counts of people are nullable integers (``pd.NA`` = suppressed); rates built on a
    suppressed count are ``pd.NA``. ``raw`` runs a view's query before suppression (by default
    straight on ``engine``; ``cached_view`` passes one that goes through the cache, so the
    parent slices that differencing needs are shared between views and visits, and so are
    their counts as a matrix and their rows by key).

    >>> run_view(engine, "uptake_by_platform", Filters(), 5).set_index("platform").loc["Coursera", "completers"]
    1300
    """
    view = VIEWS[name]
    filters = view.slice_of(filters)
    query = raw or (lambda view_name, slice_: (_raw_view(engine, view_name, slice_), {}))
    frame, _ = query(name, filters)
    counts = list(view.counts)
    values = count_matrix(frame, counts)
    extra: dict[str, np.ndarray] = {}
    for dimension in view.dimensions:
        if getattr(filters, dimension) is None or frame.empty:
            continue
        parent, kept = query(name, filters.without(dimension))
        theirs = kept.get("counts")
        if theirs is None:
            theirs = kept["counts"] = count_matrix(parent, counts)
        rows = kept.get("rows")
        if rows is None and view.keys:
            rows = kept["rows"] = row_lookup(parent, list(view.keys))
        hidden = differenced(frame, parent, counts, list(view.keys), min_cell, values, theirs, rows)
        for column, found in hidden.items():
            extra[column] = extra.get(column, found) | found
    groups = None if view.groups is None else list(view.groups)
    return suppress(
        frame, counts=counts, rates=view.rates, min_cell=min_cell, groups=groups, extra=extra, count_values=values
    )


def _raw_view(
    engine: Engine,
    name: str,
    filters: Filters,
    index: ActivityIndex | None = None,
    reference: Reference | None = None,
    lna: LnaRows | None = None,
) -> pd.DataFrame:
    view = VIEWS[name]
    extra: dict[str, object] = {}
    if view.indexed and index is not None:
        extra["index"] = index
    if view.referenced and reference is not None:
        extra["reference"] = reference
    if view.lna and lna is not None:
        extra["lna"] = lna
    with engine.connect() as conn:
        return view.query(conn, filters, **extra)


@functools.cache
def _shelf(engine: Engine) -> IndexShelf:
    return IndexShelf(engine)


@functools.cache
def _decoded(store: Store) -> DecodedTables:
    return DecodedTables(store)


def _through_cache(store: Store, key: str, compute: Callable[[], pd.DataFrame], *, copy: bool = True) -> pd.DataFrame:
    """The table at ``key``, computed and kept when not held; ``copy=False`` for a caller that only reads
    it (``run_view`` with a raw query result: it builds the table it returns anew)."""
    tables = _decoded(store)
    try:
        hit = tables.get(key, copy=copy)
    except Exception:  # a cache that is down only makes pages slower, never wrong
        hit = None
    if hit is not None:
        return hit
    frame = compute()
    with contextlib.suppress(Exception):
        tables.set(key, frame, copy=copy)
    return frame


def cached_view(
    engine: Engine, store: Store, versions: DataVersions, name: str, filters: Filters, min_cell: int
) -> pd.DataFrame:
    """``run_view`` through ``store``, keyed by the version of the kinds it reads (never serves stale data).

    Both the suppressed table and the raw query results it was built from are kept, so a filtered
    visit reuses the unfiltered results that its differencing compares against.
    """
    version = versions.of(VIEWS[name].reads)
    filters = VIEWS[name].slice_of(filters)

    def raw(view_name: str, slice_: Filters) -> Raw:
        key = cache_key("raw", view_name, json.dumps(slice_.to_query(), sort_keys=True), version)
        frame = _through_cache(
            store,
            key,
            lambda: _raw_view(
                engine,
                view_name,
                slice_,
                _shelf(engine).get(versions.of(INDEX_READS), store),
                reference_of(engine, versions.of(REFERENCE_READS)),
                lna_of(engine, versions.of(LNA_READS)) if VIEWS[view_name].lna else None,
            ),
            copy=False,
        )
        return frame, _decoded(store).kept(key)

    key = cache_key(name, json.dumps(filters.to_query(), sort_keys=True), str(min_cell), version)
    return _through_cache(store, key, lambda: run_view(engine, name, filters, min_cell, raw=raw))


def warm_views(engine: Engine, store: Store, min_cell: int, *, slices: bool = True) -> list[Filters]:
    """Fill ``store`` with every view at the current data version; returns the slices warmed.

    Run after a commit or rollback. First the whole organisation (no filter), so the first person
    to open a page does not wait and filtered visits reuse these results for differencing; then,
    with ``slices``, each filter people click first (``first_clicks``). It stops early when the
    data changes again meanwhile, since those entries could no longer be asked for.
    """
    versions = data_versions(engine)
    _shelf(engine).build(versions.of(INDEX_READS), store)
    options = cached_options(engine, store, versions)
    warmed: list[Filters] = []
    for filters in [Filters(), *(first_clicks(engine, options) if slices else [])]:
        if warmed and data_versions(engine) != versions:
            break
        for name in VIEWS:
            cached_view(engine, store, versions, name, filters, min_cell)
        warmed.append(filters)
    return warmed


#: Duty stations warmed after a commit: those with the most staff (there can be hundreds).
WARM_DUTY_STATIONS = 20


def first_clicks(engine: Engine, options: Mapping[str, list[tuple[str, str]]]) -> list[Filters]:
    """The one-filter slices people open first: each platform, gender, staff category and entity,
    the ``WARM_DUTY_STATIONS`` duty stations with the most staff in the latest headcount, and each
    calendar year and quarter."""
    slices = [Filters(duty_station=code) for code in largest_duty_stations(engine, WARM_DUTY_STATIONS)]
    for name in ("platform", "gender", "staff_category", "entity"):
        slices += [Filters(**{name: value}) for value, _ in options.get(name, [])]
    # A quarter can be a year so far (the latest one, in its first quarter): each slice once.
    return list(dict.fromkeys(slices + calendar_years(options) + calendar_quarters(options)))


def largest_duty_stations(engine: Engine, limit: int) -> list[str]:
    """The codes of the ``limit`` duty stations with the most staff in the latest headcount, largest first."""
    h = Headcount
    largest = (
        select(h.duty_station_code)
        .where(h.as_of_date == select(func.max(h.as_of_date)).scalar_subquery())
        .group_by(h.duty_station_code)
        .order_by(func.sum(h.headcount).desc(), h.duty_station_code)
        .limit(limit)
    )
    with engine.connect() as conn:
        return list(conn.execute(largest).scalars())


def calendar_years(options: Mapping[str, list[tuple[str, str]]]) -> list[Filters]:
    """Each calendar year with activity, as the filter bar asks for it: January to December, and the
    latest year from January to the latest month, with the end left open or picked (KPI targets are
    set per year)."""
    months = [month for month, _ in options.get("months", [])]
    if not months:
        return []
    years = sorted({int(month[:4]) for month in months})
    latest = dt.date(years[-1], 1, 1)
    slices = [Filters(date_from=dt.date(year, 1, 1), date_to=dt.date(year, 12, 31)) for year in years[:-1]]
    return [*slices, Filters(date_from=latest), Filters(date_from=latest, date_to=_month_end(months[-1]))]


def calendar_quarters(options: Mapping[str, list[tuple[str, str]]]) -> list[Filters]:
    """Each calendar quarter with activity, from its first month to its last (the latest quarter to
    the latest month), as a quarterly review picks it in the filter bar."""
    months = [month for month, _ in options.get("months", [])]
    if not months:
        return []
    latest = _month_end(months[-1])
    quarters = sorted({(int(month[:4]), (int(month[5:7]) - 1) // 3) for month in months})
    return [
        Filters(
            date_from=dt.date(year, 3 * quarter + 1, 1),
            date_to=min(_month_end(f"{year}-{3 * quarter + 3:02d}"), latest),
        )
        for year, quarter in quarters
    ]


def _month_end(month: str) -> dt.date:
    year, number = int(month[:4]), int(month[5:7])
    return dt.date(year, number, calendar.monthrange(year, number)[1])


def cached_options(engine: Engine, store: Store, versions: DataVersions) -> dict[str, list[tuple[str, str]]]:
    """``filter_options`` through ``store``, keyed by the data version of every kind, and kept decoded
    once per process and version (every visit asks; decoding them cost a millisecond). The caller gets
    its own dict: it may replace an entry, never change a list in place."""
    key = cache_key("filter_options", versions.of(tuple(versions)))
    return dict(read_once(_options_held(engine), key, engine, versions, lambda: _shared_options(engine, store, key)))


@functools.cache
def _options_held(engine: Engine) -> MemoryStore[dict[str, list[tuple[str, str]]]]:
    return MemoryStore(capacity=8)


def _shared_options(engine: Engine, store: Store, key: str) -> dict[str, list[tuple[str, str]]]:
    with contextlib.suppress(Exception):
        hit = store.get(key)
        if hit is not None:
            return {name: [tuple(choice) for choice in choices] for name, choices in json.loads(hit).items()}
    options = filter_options(engine)
    with contextlib.suppress(Exception):
        store.set(key, json.dumps(options).encode())
    return options


def data_as_of(engine: Engine, versions: DataVersions | None = None) -> str | None:
    """When the latest loaded upload was committed (ISO, UTC, to the minute), or None.

    With ``versions`` (the data versions just read), asked once per process and version: it
    changes only with a batch loaded or rolled back, which changes the versions too.
    """
    if versions is None:
        return _data_as_of(engine)
    key = versions.of(tuple(versions))
    return read_once(_as_of_held(engine), key, engine, versions, lambda: (_data_as_of(engine),))[0]


@functools.cache
def _as_of_held(engine: Engine) -> MemoryStore[tuple[str | None]]:
    return MemoryStore(capacity=8)


def _data_as_of(engine: Engine) -> str | None:
    query = select(func.max(UploadBatch.uploaded_at)).where(UploadBatch.status == "loaded")
    with engine.connect() as conn:
        latest = conn.execute(query).scalar()
    return None if latest is None else f"{latest:%Y-%m-%d %H:%M} UTC"


def filter_options(engine: Engine) -> dict[str, list[tuple[str, str]]]:
    """(value, label) choices for every filter, from what is in the store."""
    with engine.connect() as conn:
        entities = conn.execute(select(Entity.entity_code, Entity.entity_name).order_by(Entity.entity_code)).all()
        stations = conn.execute(
            select(DutyStation.duty_station_code, DutyStation.duty_station_name).order_by(DutyStation.duty_station_name)
        ).all()
        platforms = conn.execute(select(LearningActivity.platform).distinct().order_by(LearningActivity.platform))
        months = conn.execute(
            select(func.min(LearningActivity.enrolled_on), func.max(LearningActivity.enrolled_on))
        ).one()
        lna = LearningNeed
        needs = conn.execute(select(lna.report_type, lna.learning_need, lna.cycle).distinct())
        programmes = conn.execute(select(ProgrammeParticipation.programme).distinct().order_by("programme"))
        need_rows = needs.all()
        return {
            "entity": [(code, f"{code} - {name}") for code, name in entities],
            "duty_station": [(code, name) for code, name in stations],
            "staff_category": [(value, value) for value in STAFF_CATEGORIES],
            "gender": [(value, value.capitalize()) for value in GENDERS],
            "platform": [(value, value) for (value,) in platforms],
            "report_type": [(v, v) for v in sorted({r[0] for r in need_rows})],
            "learning_need": [(v, v) for v in sorted({r[1] for r in need_rows})],
            "cycle": [(v, v) for v in sorted({r[2] for r in need_rows}, reverse=True)],
            "programme": [(value, value) for (value,) in programmes],
            "months": _months(*months),
        }


def _months(first: object, last: object) -> list[tuple[str, str]]:
    if first is None or last is None:
        return []
    periods = pd.period_range(str(first)[:7], str(last)[:7], freq="M")
    return [(str(p), p.strftime("%b %Y")) for p in periods]


def entity_profile(engine: Engine, code: str, versions: DataVersions | None = None) -> dict[str, str | None] | None:
    """An entity's reference data, or None when the code is unknown.

    With ``versions`` (the data versions just read), every entity's is read once per process and
    version of the entities, as a profile page asks on every visit.
    """
    if versions is None:
        return _entity_profiles(engine, code).get(code)
    key = versions.of(("entities",))
    profiles = read_once(_profiles_held(engine), key, engine, versions, lambda: _entity_profiles(engine))
    return profiles.get(code)


@functools.cache
def _profiles_held(engine: Engine) -> MemoryStore[dict[str, dict[str, str | None]]]:
    return MemoryStore(capacity=4)


def _entity_profiles(engine: Engine, code: str | None = None) -> dict[str, dict[str, str | None]]:
    """Reference data per entity code: of ``code`` alone, or of every entity."""
    query = select(Entity.entity_code, Entity.entity_name, Entity.pillar, Entity.entity_type)
    if code is not None:
        query = query.where(Entity.entity_code == code)
    with engine.connect() as conn:
        return {row.entity_code: dict(row._mapping) for row in conn.execute(query)}

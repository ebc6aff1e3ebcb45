"""Every figure the dashboard draws or exports, by name, with small-cell suppression applied.

A page asks ``run_view(engine, "uptake_by_entity", filters)`` for the table behind a chart;
the export route asks for the same table, so a download is exactly what the chart shows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, func, select

from data_access.contract import GENDERS, STAFF_CATEGORIES
from data_access.reads import needs, programmes, targets, uptake
from data_access.reads.cache import DataVersions, Store, cache_key, cached_table, data_versions
from data_access.reads.filters import PEOPLE_DIMENSIONS, Filters
from data_access.reads.privacy import differenced, suppress
from data_access.reads.snapshot import SNAPSHOT_READS
from data_access.schema import DutyStation, Entity, LearningActivity, LearningNeed, ProgrammeParticipation, UploadBatch
from data_access.store import snapshots

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
    **{rate: basis for rate, basis in programmes.SHARES.items()},
    **{average: (count,) for average, count in programmes.AVERAGES.items()},
}


@dataclass(frozen=True)
class View:
    """A named table behind a figure: its query, its key columns, and what is a count of people."""

    title: str
    #: ``query(conn, filters, activity)``: ``activity`` is a connection to the activity snapshot of the
    #: same data version (``snapshot``), or None: activity is then read from the store.
    query: Callable[[Connection, Filters, Connection | None], pd.DataFrame]
    keys: tuple[str, ...]
    counts: tuple[str, ...]
    rates: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Columns whose rows are siblings for complementary suppression; None when rows are not siblings.
    groups: tuple[str, ...] | None = ()
    #: The filters that narrow this view's set of people (each is differenced against its parent).
    dimensions: tuple[str, ...] = PEOPLE_DIMENSIONS
    #: The upload kinds its query reads: a batch of any other kind leaves its cached tables valid.
    reads: tuple[str, ...] = ("learning_activity", "headcount", "entities", "duty_stations")
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
        ("learners", "completers", "activities", "completions", "headcount", *programmes.COUNTS),
        {**UPTAKE_RATES, **PROGRAMME_RATES},
        groups=None,
        reads=("learning_activity", "headcount", "programme_participation", "duty_stations"),
        filters=(*UPTAKE_FILTERS, "programme"),
    ),
    "uptake_total": View(
        "Learners, completers and reach across platforms",
        uptake.uptake_total,
        (),
        UPTAKE_COUNTS,
        UPTAKE_RATES,
        groups=None,
    ),
    "uptake_by_platform": View(
        "Learners, completers and reach per platform",
        uptake.uptake_by_platform,
        ("platform",),
        UPTAKE_COUNTS,
        UPTAKE_RATES,
    ),
    "uptake_by_entity": View(
        "Learners, completers and reach per entity",
        uptake.uptake_by_entity,
        ("entity",),
        UPTAKE_COUNTS,
        UPTAKE_RATES,
    ),
    "uptake_by_duty_station": View(
        "Learners, completers and reach per duty station",
        uptake.uptake_by_duty_station,
        ("duty_station",),
        UPTAKE_COUNTS,
        UPTAKE_RATES,
    ),
    "uptake_by_location": View(
        "Learners and reach at headquarters and in the field",
        uptake.uptake_by_location,
        ("location",),
        UPTAKE_COUNTS,
        UPTAKE_RATES,
    ),
    "uptake_by_month": View(
        "Learners enrolling and completions per month",
        uptake.uptake_by_month,
        ("month", "platform"),
        ("learners_enrolling", "completions"),
        groups=("month",),
    ),
    "completions_by_month": View(
        "Completions per month",
        uptake.completions_by_month,
        ("month", "platform"),
        ("completions",),
        groups=("month",),
    ),
    "needs_by_need": View(
        "Learning needs named by respondents",
        needs.needs_by_need,
        ("learning_need",),
        ("respondents", "high_priority_respondents"),
        {"need_share": ("respondents",), "high_priority_share": ("respondents", "high_priority_respondents")},
        dimensions=NEED_DIMENSIONS,
        reads=("lna", "entities"),
        filters=NEED_FILTERS,
    ),
    "needs_by_priority": View(
        "Priority of learning needs per area",
        needs.needs_by_priority,
        ("area", "priority"),
        ("respondents",),
        {"share_of_area": ("respondents",)},
        groups=("area",),
        dimensions=NEED_DIMENSIONS,
        reads=("lna", "entities"),
        filters=NEED_FILTERS,
    ),
    "needs_by_entity": View(
        "Learning needs per entity",
        needs.needs_by_entity,
        ("entity", "learning_need"),
        ("respondents",),
        {"need_share": ("respondents",)},
        groups=("entity",),
        dimensions=NEED_DIMENSIONS,
        reads=("lna", "entities"),
        filters=NEED_FILTERS,
    ),
    "needs_by_cycle": View(
        "Learning needs per LNA cycle",
        needs.needs_by_cycle,
        ("cycle", "learning_need"),
        ("respondents",),
        {"need_share": ("respondents",)},
        groups=("cycle",),
        dimensions=NEED_DIMENSIONS,
        reads=("lna", "entities"),
        filters=NEED_FILTERS,
    ),
    "need_gap": View(
        "Needs against uptake: need share minus share of completions",
        needs.need_gap,
        ("learning_need",),
        ("respondents", "completions"),
        {
            "need_share": ("respondents",),
            "completion_share": ("completions",),
            "need_gap": ("respondents", "completions"),
        },
        reads=("lna", "learning_activity"),
        filters=(*NEED_FILTERS, *PERIOD, "platform"),
    ),
    "programme_summary": View(
        "Leadership programme outcomes",
        programmes.programme_summary,
        ("programme",),
        programmes.COUNTS,
        PROGRAMME_RATES,
        groups=None,
        dimensions=NEED_DIMENSIONS,
        reads=PROGRAMME_READS,
        filters=PROGRAMME_FILTERS,
    ),
    "programme_total": View(
        "Leadership programme outcomes, all programmes",
        programmes.programme_total,
        (),
        programmes.COUNTS,
        PROGRAMME_RATES,
        groups=None,
        dimensions=NEED_DIMENSIONS,
        reads=PROGRAMME_READS,
        filters=PROGRAMME_FILTERS,
    ),
    "programme_cohorts": View(
        "Leadership programme outcomes per cohort",
        programmes.programme_cohorts,
        ("programme", "cohort"),
        programmes.COUNTS,
        PROGRAMME_RATES,
        groups=None,
        dimensions=NEED_DIMENSIONS,
        reads=PROGRAMME_READS,
        filters=PROGRAMME_FILTERS,
    ),
    "workforce_baseline": View(
        "Workforce baseline from headcount",
        programmes.workforce_baseline,
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
        filters=(*NEED_DIMENSIONS, "date_to"),
    ),
}


def run_view(
    engine: Engine,
    name: str,
    filters: Filters,
    min_cell: int,
    *,
    raw: Callable[[str, Filters], pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """The table behind figure ``name`` for ``filters``, with small counts suppressed.

    Counts of people are nullable integers (``pd.NA`` = suppressed); rates built on a
    suppressed count are ``pd.NA``. ``raw(name, filters)`` runs a view's query before suppression
    (by default straight on ``engine``; ``cached_view`` passes one that goes through the cache, so
    the parent slices that differencing compares with are shared between views and visits).

    >>> run_view(engine, "uptake_by_platform", Filters(), 5).set_index("platform").loc["Coursera", "completers"]
    1300
    """
    view = VIEWS[name]
    filters = view.slice_of(filters)
    query = raw or (lambda view_name, slice_: raw_view(engine, view_name, slice_))
    frame = query(name, filters)
    counts = list(view.counts)
    extra: dict[str, np.ndarray] = {}
    for dimension in view.dimensions:
        if getattr(filters, dimension) is None or frame.empty:
            continue
        parent = query(name, filters.without(dimension))
        hidden = differenced(frame, parent, counts, list(view.keys), min_cell)
        for column, found in hidden.items():
            extra[column] = extra.get(column, found) | found
    groups = None if view.groups is None else list(view.groups)
    return suppress(frame, counts=counts, rates=view.rates, min_cell=min_cell, groups=groups, extra=extra)


def raw_view(engine: Engine, name: str, filters: Filters, snapshot: Engine | None = None) -> pd.DataFrame:
    """View ``name``'s query result for ``filters``, before suppression; activity from ``snapshot`` if given."""
    with engine.connect() as conn:
        if snapshot is None:
            return VIEWS[name].query(conn, filters, None)
        with snapshot.connect() as activity:
            return VIEWS[name].query(conn, filters, activity)


def cached_view(
    engine: Engine, store: Store, versions: DataVersions, name: str, filters: Filters, min_cell: int
) -> pd.DataFrame:
    """``run_view`` through ``store``, keyed by the version of the kinds it reads (never serves stale data).

    Both the suppressed table and the raw query results it was built from are kept, so a filtered
    visit reuses the unfiltered results that its differencing compares against.
    """
    view = VIEWS[name]
    version = versions.of(view.reads)
    filters = view.slice_of(filters)
    snapshot = snapshots(engine).get(versions.of(SNAPSHOT_READS)) if "learning_activity" in view.reads else None

    def raw(view_name: str, slice_: Filters) -> pd.DataFrame:
        key = cache_key("raw", view_name, json.dumps(slice_.to_query(), sort_keys=True), version)
        return cached_table(store, key, lambda: raw_view(engine, view_name, slice_, snapshot))

    key = cache_key(name, json.dumps(filters.to_query(), sort_keys=True), str(min_cell), version)
    return cached_table(store, key, lambda: run_view(engine, name, filters, min_cell, raw=raw))


def warm_views(engine: Engine, store: Store, min_cell: int) -> None:
    """Write the activity snapshot and fill ``store`` with every unfiltered view at the current data
    version. Run after a commit or rollback, so the first person to open a page does not wait and
    filtered visits find the unfiltered results their differencing compares with."""
    versions = data_versions(engine)
    snapshots(engine).build(versions.of(SNAPSHOT_READS))
    cached_options(engine, store, versions)
    for name in VIEWS:
        cached_view(engine, store, versions, name, Filters(), min_cell)


def cached_options(engine: Engine, store: Store, versions: DataVersions) -> dict[str, list[tuple[str, str]]]:
    """``filter_options`` through ``store``, keyed by the data version of every kind (finding the
    platforms and months reads the whole activity table)."""
    key = cache_key("filter_options", versions.of(tuple(versions)))
    table = cached_table(store, key, lambda: _options_table(filter_options(engine)))
    options: dict[str, list[tuple[str, str]]] = {name: [] for name in OPTION_KINDS}
    for kind, value, label in table.itertuples(index=False):
        options[kind].append((value, label))
    return options


OPTION_KINDS = (
    "entity", "duty_station", "staff_category", "gender", "platform", "report_type", "learning_need", "cycle",
    "programme", "months",
)  # fmt: skip


def _options_table(options: Mapping[str, list[tuple[str, str]]]) -> pd.DataFrame:
    rows = [(kind, value, label) for kind in OPTION_KINDS for value, label in options[kind]]
    return pd.DataFrame(rows, columns=["kind", "value", "label"], dtype="str")


def data_as_of(engine: Engine) -> str | None:
    """When the latest loaded upload was committed (ISO, UTC, to the minute), or None."""
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


def entity_profile(engine: Engine, code: str) -> dict[str, str | None] | None:
    """An entity's reference data, or None when the code is unknown."""
    query = select(Entity.entity_code, Entity.entity_name, Entity.pillar, Entity.entity_type).where(
        Entity.entity_code == code
    )
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return None if row is None else dict(row)

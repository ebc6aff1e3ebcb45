"""The activity summaries answer every uptake query exactly as SQL does, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import time

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import case, delete, event, select

from data_access.engine import arrow_batches
from data_access.reads import activity_build, activity_shelf
from data_access.reads.activity_build import build_index
from data_access.reads.activity_index import ActivityIndex
from data_access.reads.activity_shelf import INDEX_READS, IndexShelf
from data_access.reads.cache import cache_key, data_versions
from data_access.reads.filters import Filters
from data_access.reads.views import VIEWS
from data_access.schema import LearningActivity, UploadBatchMonth
from tests.helpers import activity, load, load_reference, to_csv
from tests.integration.test_cache import redis_or_skip

PLACES = [("DMSPC", "US-NEWYORK"), ("OHR", "CI-ABIDJAN"), ("MONUSCO", "CD-GOMA"), ("DMSPC", "CD-GOMA")]
PLATFORMS = ["LinkedIn Learning", "Coursera", "Blue Line"]


def varied_activity(seed: int = 7, rows: int = 600) -> list[dict[str, str]]:
    """Activity with what makes distinct counting hard: learners who move between duty stations and
    entities, completions months after enrolment, completion dates on rows not completed, gaps."""
    rng = np.random.default_rng(seed)
    out = []
    for n in range(rows):
        learner = int(rng.integers(0, 90))
        entity, station = PLACES[learner % 4] if learner % 9 else PLACES[int(rng.integers(0, 4))]  # every 9th moves
        enrolled = dt.date(2023, 1, 1) + dt.timedelta(days=int(rng.integers(0, 600)))
        status = str(rng.choice(["completed", "completed", "in_progress", "withdrawn"]))
        lag = int(rng.choice([0, 5, 40, 400]))
        completed = enrolled + dt.timedelta(days=lag)
        dated = status == "completed" or rng.random() < 0.2
        out.append(
            activity(
                n,
                learner_id=f"L{learner:04d}",
                course_id=f"C{n:05d}",
                platform=PLATFORMS[int(rng.integers(0, 3))],
                entity_code=entity,
                duty_station_code=station,
                staff_category=str(rng.choice(["P", "GS"])),
                gender="female" if learner % 2 else "male",
                enrolled_on=enrolled.isoformat(),
                status=status,
                completed_on=completed.isoformat() if dated else "",
                learning_need=str(rng.choice(["Data and analytics", "Innovation", ""])),
            )
        )
    return out


@pytest.fixture
def varied(engine):  # type: ignore[no-untyped-def]
    load_reference(engine)
    headcount = [
        {"as_of_date": "2024-06-30", "entity_code": e, "duty_station_code": s, "staff_category": "P",
         "gender": g, "headcount": "40"}
        for e, s in PLACES for g in ("female", "male")
    ]  # fmt: skip
    assert load(engine, "headcount", to_csv(headcount), "headcount.csv").status == "loaded"
    assert load(engine, "learning_activity", to_csv(varied_activity()), "activity.csv").status == "loaded"
    return engine


PERIODS = [
    (None, None),
    (dt.date(2023, 3, 1), dt.date(2023, 9, 30)),
    (dt.date(2024, 1, 1), None),
    (None, dt.date(2023, 12, 31)),
    (dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
    (dt.date(2030, 1, 1), None),  # after the data
    (None, dt.date(2020, 12, 31)),  # before it
]
SLICES = [
    Filters(),
    Filters(duty_station="CD-GOMA"),
    Filters(entity="DMSPC"),
    Filters(entity="DMSPC", duty_station="CD-GOMA", gender="female"),
    Filters(gender="male", staff_category="GS"),
    Filters(platform="Coursera"),
    Filters(platform="Coursera", duty_station="US-NEWYORK"),
    Filters(platform="Nonexistent"),
    Filters(entity="UNKNOWN"),
]
INDEXED = [name for name, view in VIEWS.items() if "learning_activity" in view.reads]


def same(left: pd.DataFrame, right: pd.DataFrame) -> None:
    keys = [c for c in left.columns if left[c].dtype == object or str(left[c].dtype) in ("str", "string")]
    sort = keys or list(left.columns)
    pd.testing.assert_frame_equal(
        left.sort_values(sort).reset_index(drop=True), right.sort_values(sort).reset_index(drop=True)
    )


def test_every_indexed_view_matches_sql_for_every_slice_and_period(varied):
    with varied.connect() as conn:
        index = build_index(conn)
        assert index is not None
        assert index.movers.any(), "the data must hold learners who moved"
        for (start, end), base in itertools.product(PERIODS, SLICES):
            filters = Filters(**{**base.__dict__, "date_from": start, "date_to": end})
            assert index.covers(filters)
            for name in INDEXED:
                same(VIEWS[name].query(conn, filters, None), VIEWS[name].query(conn, filters, index))


def test_a_period_that_is_not_whole_months_is_answered_by_sql(varied):
    with varied.connect() as conn:
        index = build_index(conn)
        filters = Filters(date_from=dt.date(2023, 3, 15), date_to=dt.date(2023, 9, 30))
        assert not index.covers(filters)
        assert not index.covers(Filters(date_to=dt.date(2023, 9, 29)))
        same(VIEWS["uptake_total"].query(conn, filters, None), VIEWS["uptake_total"].query(conn, filters, index))


def test_no_activity_means_no_index(engine):
    load_reference(engine)
    with engine.connect() as conn:
        assert build_index(conn) is None


def test_shelf_builds_in_the_background_and_files_by_version(varied):
    shelf = IndexShelf(varied)
    version = data_versions(varied).of(INDEX_READS)
    assert shelf.get(version) is None  # not built yet: this request uses SQL
    deadline = time.monotonic() + 30
    while shelf.get(version) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert shelf.get(version) is not None
    assert shelf.build("an older version") is not None
    assert shelf.built.get("an older version") is None  # its data is not that version's: not kept


def test_summaries_survive_the_trip_through_a_shared_cache(varied):
    with varied.connect() as conn:
        index = build_index(conn)
        copy = ActivityIndex.from_bytes(index.to_bytes())
        for filters in (Filters(), Filters(duty_station="CD-GOMA", date_from=dt.date(2023, 3, 1))):
            for name in INDEXED:
                same(VIEWS[name].query(conn, filters, index), VIEWS[name].query(conn, filters, copy))


def test_one_worker_builds_and_the_others_read_it_from_redis(varied, monkeypatch):
    store = redis_or_skip()
    version = data_versions(varied).of(INDEX_READS)
    store.client.delete(cache_key("activity-index", version))
    assert IndexShelf(varied).build(version, store) is not None

    def no_build(conn):  # noqa: ANN001, ANN202 - another worker must not read the table again
        raise AssertionError("built again instead of reading the shared summaries")

    monkeypatch.setattr(activity_shelf, "build_index", no_build)
    other_worker = IndexShelf(varied)
    assert other_worker.build(version, store) is not None
    assert other_worker.built.get(version) is not None


def test_arrow_batches_give_the_rows_sqlalchemy_gives_whatever_the_text(engine):
    """Rows through arrow_batches (JSON objects on SQLite) equal SQLAlchemy's, for text with
    quotes, backslashes, newlines, tabs and accents, batch after batch (uploads refuse other control
    characters)."""
    load_reference(engine)
    needs = ['Data "and" analytics', "back\\slash", "two\nlines", "tab\tseparated", "Côte d'Ivoire, ünïcode"]
    rows = [activity(n, learning_need=needs[n % len(needs)], hours=str(n / 4)) for n in range(23)]
    assert load(engine, "learning_activity", to_csv(rows)).status == "loaded"
    a = LearningActivity
    query = select(a.learner_id, a.learning_need, a.hours, case((a.status == "completed", 1), else_=0))
    query = query.where(a.enrolled_on >= dt.date(2000, 1, 1)).order_by(a.enrolled_on, a.platform, a.learner_id)
    with engine.connect() as conn:
        expected = [tuple(row) for row in conn.execute(query)]
        batches = list(arrow_batches(conn, query, rows=5))
    assert [batch.num_rows for batch in batches] == [5, 5, 5, 5, 3]
    got = [tuple(row.values()) for batch in batches for row in batch.to_pylist()]
    assert got == expected and {row[1] for row in got} == set(needs)


def test_the_months_are_read_again_through_the_key_not_a_full_scan(varied, monkeypatch):
    """Rows completed in a touched month are found by their enrolment months (the old summaries know them), so
    SQLite searches the key, which starts with enrolled_on, instead of scanning the whole table."""
    if varied.dialect.name != "sqlite":
        pytest.skip("the query plan checked is SQLite's")
    with varied.connect() as conn:
        old = build_index(conn)
    assert old is not None and old.lags[1] > 0
    touched = {2025 * 12 + 2}  # 2025-03: rows enrolled in it and rows completed in it, enrolled earlier
    queries = []

    def recorded(conn, query, rows):  # type: ignore[no-untyped-def]
        queries.append(query)
        return arrow_batches(conn, query, rows)

    monkeypatch.setattr(activity_build, "arrow_batches", recorded)
    with varied.connect() as conn:
        assert activity_build.update_index(conn, old, touched) is not None
        compiled = queries[0].compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
        values = [compiled.params[name] for name in compiled.positiontup]
        statement = f"EXPLAIN QUERY PLAN {compiled}"
        plan = " ".join(row[-1] for row in conn.exec_driver_sql(statement, tuple(map(str, values))))
    assert "USING PRIMARY KEY" in plan and "SCAN learning_activity" not in plan, plan


def later_batch() -> list[dict[str, str]]:
    """Rows that replace earlier ones (moved, completed later, withdrawn), and new months, learners, platform."""
    earlier = varied_activity()
    changed = []
    for n, row in enumerate(earlier[:40]):
        if n % 3 == 0:
            row = {**row, "duty_station_code": "CI-ABIDJAN", "entity_code": "OHR"}
        elif n % 3 == 1:
            row = {**row, "status": "completed", "completed_on": "2025-03-03"}
        else:
            row = {**row, "status": "withdrawn", "completed_on": ""}
        changed.append(row)
    new = [
        activity(9000 + n, learner_id=f"N{n % 7:03d}", course_id=f"NEW{n}", platform="iLearn" if n % 2 else "Coursera",
                 enrolled_on=f"2025-0{1 + n % 4}-10", completed_on=f"2025-0{2 + n % 4}-01")
        for n in range(30)
    ]  # fmt: skip
    before_the_first = activity(9100, learner_id="L0003", course_id="OLD", enrolled_on="2022-11-30",
                                completed_on="2023-01-02")  # fmt: skip
    return [*changed, *new, before_the_first]


def test_a_batch_records_its_months_so_finding_them_scans_no_table(varied):
    """The months a load touched come from upload_batch_month and the history (indexed by batch),
    not from a scan of learning_activity; a batch loaded before months were recorded still gets its
    months, by the scan, and the same ones."""
    result = load(varied, "learning_activity", to_csv(later_batch()), "later.csv")
    assert result.status == "loaded" and result.rows_replaced > 0
    statements = []

    @event.listens_for(varied, "before_cursor_execute")
    def seen(conn, cursor, statement, *_):  # type: ignore[no-untyped-def]
        statements.append(statement)

    try:
        with varied.connect() as conn:
            recorded = activity_build.touched_months(conn, [result.batch_id])
    finally:
        event.remove(varied, "before_cursor_execute", seen)
    assert not [s for s in statements if re.search(r"FROM learning_activity\b(?!_history)", s)], statements
    rows = later_batch()
    dates = {row[c] for row in rows for c in ("enrolled_on", "completed_on") if row[c]}
    assert {int(d[:4]) * 12 + int(d[5:7]) - 1 for d in dates} <= recorded
    with varied.begin() as conn:
        conn.execute(delete(UploadBatchMonth).where(UploadBatchMonth.batch_id == result.batch_id))
    with varied.connect() as conn:
        assert activity_build.touched_months(conn, [result.batch_id]) == recorded


def test_a_later_batch_updates_the_summaries_by_the_months_it_touched(varied, monkeypatch):
    shelf = IndexShelf(varied)
    assert shelf.build(data_versions(varied).of(INDEX_READS)) is not None
    assert load(varied, "learning_activity", to_csv(later_batch()), "later.csv").status == "loaded"
    version = data_versions(varied).of(INDEX_READS)
    reread: list[set[int]] = []
    update = activity_build.update_index
    monkeypatch.setattr(activity_shelf, "build_index", lambda conn: pytest.fail("built from scratch"))
    monkeypatch.setattr(activity_shelf, "update_index", lambda c, old, m: reread.append(m) or update(c, old, m))
    index = shelf.build(version)
    assert reread and len(reread[0]) < index.months  # only some months were read again
    with varied.connect() as conn:
        for (start, end), base in itertools.product(PERIODS, SLICES):
            filters = Filters(**{**base.__dict__, "date_from": start, "date_to": end})
            for name in INDEXED:
                same(VIEWS[name].query(conn, filters, None), VIEWS[name].query(conn, filters, index))

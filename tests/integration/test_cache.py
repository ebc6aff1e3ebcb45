"""The view cache: keyed by the data version, so an upload or rollback is seen at once; Redis shared."""

from __future__ import annotations

import datetime as dt
import gc
import os
import uuid

import pandas as pd
import pytest

from data_access import views
from data_access.batches import rollback_batch
from data_access.cache import FREEZE_EVERY, DecodedTables, MemoryStore, RedisStore, data_versions, from_bytes, to_bytes
from data_access.filters import Filters
from data_access.views import VIEWS, cached_view, run_view, warm_views
from tests.helpers import activity, load, load_reference, to_csv

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_or_skip() -> RedisStore:
    store = RedisStore(REDIS_URL)
    try:
        store.client.ping()
    except Exception:
        if os.environ.get("CI"):
            raise
        pytest.skip("no Redis at " + REDIS_URL)
    # Every test's store numbers its batches from 1, so keys (which hold the data version) repeat
    # between tests: each starts with the test database empty.
    store.client.flushdb()
    return store


@pytest.fixture(params=["memory", "redis"])
def store(request):  # type: ignore[no-untyped-def]
    return MemoryStore() if request.param == "memory" else redis_or_skip()


def test_tables_survive_the_round_trip_with_hidden_cells():
    frame = pd.DataFrame(
        {
            "entity": ["OCHA", "DPO"],
            "learners": pd.array([pd.NA, 40], dtype="Int64"),
            "reach_rate": pd.array([pd.NA, 0.5], dtype="Float64"),
            "headquarters": [True, False],
        }
    )
    pd.testing.assert_frame_equal(from_bytes(to_bytes(frame)), frame)


def test_tables_kept_decoded_are_frozen_for_the_garbage_collector():
    tables = DecodedTables(MemoryStore())
    frame = pd.DataFrame({"entity": ["OCHA"], "learners": pd.array([12], dtype="Int64")})
    before = gc.get_freeze_count()
    for n in range(FREEZE_EVERY):
        tables.set(f"table-{n}", frame)
    assert gc.get_freeze_count() > before  # a full collection no longer walks them
    gc.unfreeze()


def test_the_memory_store_keeps_the_newest_entries():
    store = MemoryStore(capacity=2)
    for key in ("a", "b", "c"):
        store.set(key, key.encode())
    assert (store.get("a"), store.get("b"), store.get("c")) == (None, b"b", b"c")


def test_an_upload_and_a_rollback_are_seen_at_once(engine, store):
    load_reference(engine)
    assert load(engine, "learning_activity", to_csv([activity(n) for n in range(30)]), "a.csv").status == "loaded"
    filters = Filters()

    def learners() -> int:
        frame = cached_view(engine, store, data_versions(engine), "uptake_total", filters, 5)
        pd.testing.assert_frame_equal(frame, run_view(engine, "uptake_total", filters, 5))
        return int(frame["learners"].iloc[0])

    assert learners() == learners() == 30
    second = load(engine, "learning_activity", to_csv([activity(100 + n) for n in range(10)]), "b.csv")
    assert learners() == 40
    rollback_batch(engine, second.batch_id, rolled_back_by="tester")
    assert learners() == 30


def test_a_batch_of_one_kind_leaves_the_other_kinds_cached(engine):
    load_reference(engine)
    before = data_versions(engine)
    assert load(engine, "learning_activity", to_csv([activity(1)]), "a.csv").status == "loaded"
    after = data_versions(engine)
    reads_lna = VIEWS["needs_by_need"].reads
    assert before.of(reads_lna) == after.of(reads_lna)
    assert before.of(VIEWS["uptake_total"].reads) != after.of(VIEWS["uptake_total"].reads)


class CountingStore(MemoryStore):
    """A store that counts the tables computed into it; like Redis, every table reaches it encoded."""

    shared = True

    def __init__(self) -> None:
        super().__init__()
        self.computed: list[str] = []

    def set(self, key: str, value: bytes) -> None:
        self.computed.append(key)
        super().set(key, value)


def test_warming_computes_the_unfiltered_figures_and_filtered_visits_reuse_them(engine):
    load_reference(engine)
    assert load(engine, "learning_activity", to_csv([activity(n) for n in range(30)]), "a.csv").status == "loaded"
    store = CountingStore()
    assert warm_views(engine, store, 5, slices=False) == [Filters()]
    store.computed.clear()
    versions = data_versions(engine)
    for name in VIEWS:
        cached_view(engine, store, versions, name, Filters(), 5)
    assert store.computed == []  # every unfiltered figure was ready
    female = Filters(gender="female")
    frame = cached_view(engine, store, versions, "uptake_by_entity", female, 5)
    # Two entries were computed, the filtered query and the finished table: the unfiltered parent
    # that differencing compares against came from the cache. The result is the same as uncached.
    assert len(store.computed) == 2
    pd.testing.assert_frame_equal(frame, run_view(engine, "uptake_by_entity", female, 5))


def test_changing_a_table_a_page_got_changes_nothing_kept(engine, store):
    # The raw query results are kept and read without copies; the table a page gets is its own.
    load_reference(engine)
    rows = [activity(n, gender="female" if n % 3 else "male") for n in range(40)]
    assert load(engine, "learning_activity", to_csv(rows), "a.csv").status == "loaded"
    versions, female = data_versions(engine), Filters(gender="female")
    for name in ("uptake_by_entity", "uptake_by_platform"):
        got = cached_view(engine, store, versions, name, female, 5)
        expected = got.copy(deep=True)
        got.iloc[0, 0] = "changed"
        got.loc[got.index[0], "learners"] = 99_999
        pd.testing.assert_frame_equal(cached_view(engine, store, versions, name, female, 5), expected)
        # Built again from the kept raw results (another cell size): as straight from SQL.
        pd.testing.assert_frame_equal(
            cached_view(engine, store, versions, name, female, 2), run_view(engine, name, female, 2)
        )


def _headcount(station: str, staff: int) -> dict[str, str]:
    return {"as_of_date": "2024-06-30", "entity_code": "OHR", "duty_station_code": station,
            "staff_category": "P", "gender": "female", "headcount": str(staff)}  # fmt: skip


def test_warming_also_computes_the_filters_people_click_first(engine, monkeypatch):
    load_reference(engine)
    staff = [_headcount("US-NEWYORK", 40), _headcount("CD-GOMA", 30), _headcount("CI-ABIDJAN", 5)]
    assert load(engine, "headcount", to_csv(staff), "h.csv").status == "loaded"
    assert load(engine, "learning_activity", to_csv([activity(n) for n in range(30)]), "a.csv").status == "loaded"
    monkeypatch.setattr(views, "WARM_DUTY_STATIONS", 2)
    store = CountingStore()
    # the whole organisation, 2 duty stations, 1 platform, 4 genders, 8 staff categories, 3 entities,
    # 1 year (to the latest month, with its end open and picked; its first quarter is the same slice)
    assert len(warm_views(engine, store, 5)) == 1 + 2 + 1 + 4 + 8 + 3 + 2
    store.computed.clear()
    versions = data_versions(engine)
    warmed = [
        Filters(duty_station="US-NEWYORK"),
        Filters(duty_station="CD-GOMA"),
        Filters(gender="female"),
        Filters(platform="LinkedIn Learning"),
        Filters(entity="MONUSCO"),
        Filters(staff_category="GS"),
        Filters(date_from=dt.date(2024, 1, 1)),  # the latest year, to the latest month
        Filters(date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 3, 31)),  # the same, its end picked
    ]
    for filters in warmed:
        for name in VIEWS:
            cached_view(engine, store, versions, name, filters, 5)
    assert store.computed == []
    cached_view(engine, store, versions, "uptake_total", Filters(duty_station="CI-ABIDJAN"), 5)
    assert len(store.computed) == 2  # the duty station with the fewest staff was left for its first visit


def test_the_calendar_years_warmed_are_the_ones_the_filter_bar_asks_for():
    months = [(month, month) for month in ("2022-11", "2022-12", "2023-01", "2024-09")]
    assert views.calendar_years({"months": months}) == [
        Filters(date_from=dt.date(2022, 1, 1), date_to=dt.date(2022, 12, 31)),
        Filters(date_from=dt.date(2023, 1, 1), date_to=dt.date(2023, 12, 31)),
        Filters(date_from=dt.date(2024, 1, 1)),
        Filters(date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 9, 30)),
    ]
    assert views.calendar_years({"months": []}) == []


def test_the_calendar_quarters_warmed_end_with_the_latest_month():
    months = [(month, month) for month in ("2023-11", "2023-12", "2024-01", "2024-02", "2024-03", "2024-04")]
    assert views.calendar_quarters({"months": months}) == [
        Filters(date_from=dt.date(2023, 10, 1), date_to=dt.date(2023, 12, 31)),
        Filters(date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 3, 31)),
        Filters(date_from=dt.date(2024, 4, 1), date_to=dt.date(2024, 4, 30)),
    ]
    assert views.calendar_quarters({"months": []}) == []


def test_warming_stops_when_the_data_changes_meanwhile(engine):
    load_reference(engine)
    assert load(engine, "learning_activity", to_csv([activity(n) for n in range(30)]), "a.csv").status == "loaded"

    class UploadMeanwhile(MemoryStore):
        shared = True  # every table reaches it, as with Redis

        def set(self, key: str, value: bytes) -> None:
            super().set(key, value)
            if not hasattr(self, "uploaded"):
                self.uploaded = load(engine, "learning_activity", to_csv([activity(99)]), "b.csv")

    store = UploadMeanwhile()
    assert warm_views(engine, store, 5) == [Filters()]  # the unfiltered views, then it saw the new data and stopped
    assert store.uploaded.status == "loaded"


def test_add_sets_a_key_once_so_one_worker_claims_a_job(store):  # type: ignore[no-untyped-def]
    key = f"learning:test:claim:{uuid.uuid4().hex}"
    assert store.add(key, b"first") is True
    assert store.add(key, b"second") is False
    assert store.get(key) == b"first"

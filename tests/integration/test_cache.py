"""The view cache: keyed by the data version, so an upload or rollback is seen at once; Redis shared."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from data_access.batches import rollback_batch
from data_access.reads.cache import MemoryStore, RedisStore, cached_table, data_versions, from_bytes, to_bytes
from data_access.reads.filters import Filters
from data_access.reads.views import VIEWS, cached_view, run_view, warm_views
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


def test_a_cache_that_fails_only_makes_the_figure_computed_again(caplog):
    class Broken(MemoryStore):
        def get(self, key: str) -> bytes | None:
            raise ConnectionError("down")

        def set(self, key: str, value: bytes) -> None:
            raise ConnectionError("down")

    frame = pd.DataFrame({"learners": pd.array([pd.NA, 7], dtype="Int64")})
    pd.testing.assert_frame_equal(cached_table(Broken(), "k", lambda: frame), frame)
    assert "could not be read" in caplog.text and "could not be written" in caplog.text


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
    warm_views(engine, store, 5)
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


def test_a_redis_that_refuses_every_write_leaves_figures_right_and_the_snapshot_built_once(engine, monkeypatch, caplog):
    """Redis over its maxmemory refuses writes (as it refuses values over proto-max-bulk-len): pages
    compute their figures, the failure is logged once, and the activity snapshot is built once."""
    from data_access.reads import snapshot

    redis = redis_or_skip()
    load_reference(engine)
    assert load(engine, "learning_activity", to_csv([activity(n) for n in range(30)]), "a.csv").status == "loaded"
    builds = []
    write = snapshot.write_snapshot
    monkeypatch.setattr(snapshot, "write_snapshot", lambda *args: builds.append(args[2]) or write(*args))
    saved = redis.client.config_get("maxmemory*")
    redis.client.config_set("maxmemory-policy", "noeviction")
    redis.client.config_set("maxmemory", "1")
    try:
        warm_views(engine, redis, 5)
        for _ in range(2):
            for name in VIEWS:
                found = cached_view(engine, redis, data_versions(engine), name, Filters(gender="female"), 5)
                pd.testing.assert_frame_equal(found, run_view(engine, name, Filters(gender="female"), 5), obj=name)
    finally:
        redis.client.config_set("maxmemory", saved["maxmemory"])
        redis.client.config_set("maxmemory-policy", saved["maxmemory-policy"])
    assert redis.client.dbsize() == 0
    assert len(builds) == 1
    assert caplog.text.count("could not be written") == 1 and "maxmemory" in caplog.text
    redis.set("k", b"v")
    cached_table(redis, "k2", lambda: pd.DataFrame({"a": [1]}))
    assert "can be written again" in caplog.text

"""Rollback restores exactly the state before a batch; concurrent writers never collide."""

from __future__ import annotations

import threading

import pytest

from data_access.batches import RollbackError, list_batches, rollback_batch
from tests.helpers import activity, load, load_reference, table_rows, to_csv


@pytest.fixture
def store(engine):  # type: ignore[no-untyped-def]
    load_reference(engine)
    return engine


def test_rollback_restores_exactly_the_state_before_the_batch(store):
    january = [activity(i, status="in_progress", completed_on="") for i in range(10)]
    load(store, "learning_activity", to_csv(january), "jan.csv")
    before = table_rows(store, "learning_activity")
    february = [activity(i) for i in range(5)] + [activity(i) for i in range(10, 13)]
    second = load(store, "learning_activity", to_csv(february), "feb.csv")
    assert table_rows(store, "learning_activity") != before

    result = rollback_batch(store, second.batch_id, rolled_back_by="tester")

    assert (result.rows_removed, result.rows_restored) == (8, 5)
    assert table_rows(store, "learning_activity") == before
    assert table_rows(store, "learning_activity", history=True) == []
    statuses = dict(zip(list_batches(store)["id"], list_batches(store)["status"], strict=True))
    assert statuses[second.batch_id] == "rolled_back"


def test_a_rolled_back_file_can_be_loaded_again(store):
    payload = to_csv([activity(1)])
    first = load(store, "learning_activity", payload)
    rollback_batch(store, first.batch_id, rolled_back_by="tester")
    assert load(store, "learning_activity", payload).status == "loaded"


def test_rollback_is_refused_while_a_later_batch_replaced_its_rows(store):
    first = load(store, "learning_activity", to_csv([activity(1, status="enrolled", completed_on="")]), "a.csv")
    second = load(store, "learning_activity", to_csv([activity(1)]), "b.csv")
    with pytest.raises(RollbackError, match=f"roll back batch {second.batch_id} first"):
        rollback_batch(store, first.batch_id, rolled_back_by="tester")
    rollback_batch(store, second.batch_id, rolled_back_by="tester")
    rollback_batch(store, first.batch_id, rolled_back_by="tester")
    assert table_rows(store, "learning_activity") == []


def test_rollback_of_reference_codes_still_in_use_is_refused(store):
    extra = to_csv([{"entity_code": "OICT", "entity_name": "Office of ICT", "pillar": "Management and support",
                     "entity_type": "Department", "parent_entity_code": ""}])  # fmt: skip
    batch = load(store, "entities", extra, "more.csv")
    load(store, "learning_activity", to_csv([activity(1, entity_code="OICT")]))
    with pytest.raises(RollbackError, match="OICT"):
        rollback_batch(store, batch.batch_id, rolled_back_by="tester")


@pytest.mark.parametrize("batch_id", [999, None])
def test_rollback_of_unknown_or_rejected_batch_says_so(store, batch_id):
    if batch_id is None:
        batch_id = load(store, "learning_activity", b"not,a\nvalid,file\n").batch_id
    with pytest.raises(RollbackError):
        rollback_batch(store, batch_id, rolled_back_by="tester")


def test_two_concurrent_imports_both_land_whole(store):
    files = [to_csv([activity(i) for i in range(start, start + 20_000)]) for start in (0, 20_000)]
    results = [None, None]

    def run(index: int) -> None:
        results[index] = load(store, "learning_activity", files[index], f"part{index}.csv")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status for r in results] == ["loaded", "loaded"]
    assert len(table_rows(store, "learning_activity")) == 40_000


def test_the_same_file_imported_twice_at_once_loads_once(store):
    payload = to_csv([activity(i) for i in range(5_000)])
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(load(store, "learning_activity", payload))) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status for r in results) == ["duplicate", "loaded"]
    assert len(table_rows(store, "learning_activity")) == 5_000

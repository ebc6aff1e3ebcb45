"""The activity snapshot answers every activity query exactly as the store does, on SQLite and PostgreSQL,
whatever the data's shape, and always for the data version it was built from."""

from __future__ import annotations

import datetime as dt
import itertools
import time

import numpy as np
import pandas as pd
import pytest

from data_access.batches import rollback_batch
from data_access.reads import snapshot as snapshot_module
from data_access.reads.cache import data_versions
from data_access.reads.filters import Filters
from data_access.reads.snapshot import SNAPSHOT_READS, Snapshots
from data_access.reads.views import VIEWS, raw_view
from tests.helpers import activity, load, load_reference, to_csv

PLACES = [("DMSPC", "US-NEWYORK"), ("OHR", "CI-ABIDJAN"), ("MONUSCO", "CD-GOMA"), ("DMSPC", "CD-GOMA")]
PLATFORMS = ["LinkedIn Learning", "Coursera", "Blue Line"]
#: How a learner's entity, duty station, category and gender vary between their rows.
SHAPES = {"stable": lambda learner, n: False, "some move": lambda learner, n: learner % 9 == 0, "every row": None}


def shaped_activity(shape: str, seed: int = 7, rows: int = 600) -> list[dict[str, str]]:
    """Activity with what makes distinct counting hard: completions months after enrolment, completion
    dates on rows not completed, gaps; and learners whose attributes vary between rows as ``shape`` says."""
    rng = np.random.default_rng(seed)
    out = []
    for n in range(rows):
        learner = int(rng.integers(0, 90))
        moves = SHAPES[shape]
        varies = moves is None or moves(learner, n)
        entity, station = PLACES[int(rng.integers(0, 4))] if varies else PLACES[learner % 4]
        category = str(rng.choice(["P", "GS"])) if varies else ["P", "GS"][learner % 2]
        gender = str(rng.choice(["female", "male"])) if varies else ["female", "male"][learner // 2 % 2]
        enrolled = dt.date(2023, 1, 1) + dt.timedelta(days=int(rng.integers(0, 600)))
        status = str(rng.choice(["completed", "completed", "in_progress", "withdrawn"]))
        completed = enrolled + dt.timedelta(days=int(rng.choice([0, 5, 40, 400])))
        dated = status == "completed" or rng.random() < 0.2
        out.append(
            activity(
                n,
                learner_id=f"L{learner:04d}",
                course_id=f"C{n:05d}",
                platform=PLATFORMS[int(rng.integers(0, 3))],
                entity_code=entity,
                duty_station_code=station,
                staff_category=category,
                gender=gender,
                enrolled_on=enrolled.isoformat(),
                status=status,
                completed_on=completed.isoformat() if dated else "",
                learning_need=str(rng.choice(["Data and analytics", "Innovation", ""])),
            )
        )
    return out


def load_shaped(engine, shape: str) -> None:  # type: ignore[no-untyped-def]
    load_reference(engine)
    headcount = [
        {"as_of_date": "2024-06-30", "entity_code": e, "duty_station_code": s, "staff_category": "P",
         "gender": g, "headcount": "40"}
        for e, s in PLACES for g in ("female", "male")
    ]  # fmt: skip
    assert load(engine, "headcount", to_csv(headcount), "headcount.csv").status == "loaded"
    assert load(engine, "learning_activity", to_csv(shaped_activity(shape)), "activity.csv").status == "loaded"


PERIODS = [
    (None, None),
    (dt.date(2023, 3, 15), dt.date(2023, 9, 30)),
    (dt.date(2024, 1, 1), None),
    (None, dt.date(2023, 12, 31)),
    (dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
    (dt.date(2030, 1, 1), None),  # after the data
]
SLICES = [
    Filters(),
    Filters(duty_station="CD-GOMA"),
    Filters(entity="DMSPC"),
    Filters(entity="DMSPC", duty_station="CD-GOMA", gender="female"),
    Filters(gender="male", staff_category="GS"),
    Filters(platform="Coursera", duty_station="US-NEWYORK"),
    Filters(platform="Nonexistent"),
    Filters(entity="UNKNOWN"),
]
ACTIVITY_VIEWS = [name for name, view in VIEWS.items() if "learning_activity" in view.reads]


def same(left: pd.DataFrame, right: pd.DataFrame, name: str) -> None:
    keys = [c for c in left.columns if left[c].dtype == object or str(left[c].dtype) in ("str", "string")]
    sort = keys or list(left.columns)
    pd.testing.assert_frame_equal(
        left.sort_values(sort).reset_index(drop=True), right.sort_values(sort).reset_index(drop=True), obj=name
    )


def built(engine, tmp_path) -> tuple[Snapshots, str]:  # type: ignore[no-untyped-def]
    snapshots = Snapshots(engine, tmp_path / "snapshots")
    version = data_versions(engine).of(SNAPSHOT_READS)
    assert snapshots.build(version) == snapshots.path(version)
    return snapshots, version


@pytest.mark.parametrize("shape", SHAPES)
def test_every_activity_view_matches_the_store_for_every_slice_and_period(engine, tmp_path, shape):
    load_shaped(engine, shape)
    snapshots, version = built(engine, tmp_path)
    snapshot = snapshots.get(version)
    assert snapshot is not None
    for (start, end), base in itertools.product(PERIODS, SLICES):
        filters = Filters(**{**base.__dict__, "date_from": start, "date_to": end})
        for name in ACTIVITY_VIEWS:
            same(raw_view(engine, name, filters, snapshot), raw_view(engine, name, filters), f"{name} {filters}")
    snapshots.close()


def test_no_activity_gives_a_snapshot_that_answers_nothing(engine, tmp_path):
    load_reference(engine)
    snapshots, version = built(engine, tmp_path)
    total = raw_view(engine, "uptake_total", Filters(), snapshots.get(version))
    assert total[["learners", "completers", "activities", "completions"]].iloc[0].tolist() == [0, 0, 0, 0]
    snapshots.close()


def test_each_version_gets_its_own_file_and_a_rollback_is_seen(engine, tmp_path):
    load_shaped(engine, "some move")
    snapshots, first = built(engine, tmp_path)
    before = raw_view(engine, "uptake_by_platform", Filters(), snapshots.get(first))
    extra = [activity(n, learner_id=f"NEW{n}", entity_code="OHR", duty_station_code="CI-ABIDJAN") for n in range(30)]
    batch = load(engine, "learning_activity", to_csv(extra), "more.csv")
    second = data_versions(engine).of(SNAPSHOT_READS)
    assert second != first and snapshots.path(second) != snapshots.path(first)
    assert snapshots.build(second) is not None
    after = raw_view(engine, "uptake_by_platform", Filters(), snapshots.get(second))
    assert after["learners"].sum() > before["learners"].sum()
    same(after, raw_view(engine, "uptake_by_platform", Filters()), "after the upload")

    rollback_batch(engine, batch.batch_id, rolled_back_by="tester")
    third = data_versions(engine).of(SNAPSHOT_READS)
    assert snapshots.build(third) is not None
    same(raw_view(engine, "uptake_by_platform", Filters(), snapshots.get(third)), before, "after the rollback")
    assert len(list((tmp_path / "snapshots").glob("activity-*.duckdb"))) == 2  # the current one and the one before
    snapshots.close()


def test_a_new_batch_rereads_only_its_months_a_rollback_builds_anew(engine, tmp_path, monkeypatch):
    load_shaped(engine, "every row")
    snapshots, _ = built(engine, tmp_path)
    # A month already there (a row replaced, a learner already numbered) and a new one (new learners).
    extra = [
        activity(
            n,
            learner_id=f"L{n:04d}",
            enrolled_on="2023-02-03",
            status="completed",
            completed_on="2024-05-01",
            entity_code="OHR",
            duty_station_code="CI-ABIDJAN",
        )
        for n in range(40)
    ]
    extra += [activity(100 + n, learner_id=f"NEW{n}", enrolled_on="2024-03-10") for n in range(12)]
    batch = load(engine, "learning_activity", to_csv(extra), "more.csv")
    assert batch.status == "loaded", batch.errors[:3]
    full = snapshot_module.write_snapshot
    monkeypatch.setattr(snapshot_module, "write_snapshot", lambda *args: pytest.fail("built from scratch"))
    version = data_versions(engine).of(SNAPSHOT_READS)
    assert snapshots.build(version) is not None
    updated = snapshots.get(version)
    for name, filters in itertools.product(ACTIVITY_VIEWS, SLICES[:4]):
        same(raw_view(engine, name, filters, updated), raw_view(engine, name, filters), f"{name} {filters}")

    rollback_batch(engine, batch.batch_id, rolled_back_by="tester")
    rebuilt = []
    monkeypatch.setattr(snapshot_module, "write_snapshot", lambda *args: rebuilt.append(1) or full(*args))
    version = data_versions(engine).of(SNAPSHOT_READS)
    assert snapshots.build(version) is not None and rebuilt == [1]
    same(raw_view(engine, "uptake_by_month", Filters(), snapshots.get(version)),
         raw_view(engine, "uptake_by_month", Filters()), "after the rollback")  # fmt: skip
    snapshots.close()


def test_a_build_whose_data_changed_meanwhile_is_thrown_away(engine, tmp_path, monkeypatch):
    load_shaped(engine, "stable")
    version = data_versions(engine).of(SNAPSHOT_READS)
    write = snapshot_module.write_snapshot

    def write_then_upload(source, path):  # type: ignore[no-untyped-def]
        write(source, path)
        assert load(engine, "learning_activity", to_csv([activity(1, learner_id="LATE")]), "late.csv").batch_id

    monkeypatch.setattr(snapshot_module, "write_snapshot", write_then_upload)
    snapshots = Snapshots(engine, tmp_path / "snapshots")
    assert snapshots.build(version) is None
    assert not list((tmp_path / "snapshots").glob("activity-*"))


def test_get_never_waits_it_builds_in_the_background(engine, tmp_path):
    load_shaped(engine, "stable")
    snapshots = Snapshots(engine, tmp_path / "snapshots")
    version = data_versions(engine).of(SNAPSHOT_READS)
    assert snapshots.get(version) is None  # not built yet: this request reads the store
    deadline = time.monotonic() + 60
    while snapshots.get(version) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert snapshots.get(version) is not None
    snapshots.close()


def test_a_store_created_again_never_reads_the_old_stores_file(engine, tmp_path):
    """Batch ids start over in a new store, so its version string can repeat an old one."""
    load_shaped(engine, "stable")
    old = Snapshots(engine, tmp_path / "snapshots")
    version = data_versions(engine).of(SNAPSHOT_READS)
    old_path = old.path(version)
    from sqlalchemy import update

    from data_access.schema import UploadBatch

    with engine.begin() as conn:  # as a new store's batches would be: the same ids, uploaded later
        conn.execute(update(UploadBatch).values(uploaded_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)))
    assert data_versions(engine).of(SNAPSHOT_READS) == version
    assert Snapshots(engine, tmp_path / "snapshots").path(version) != old_path


def test_a_duty_station_upload_alone_is_brought_in_without_reading_the_activity_again(engine, tmp_path, monkeypatch):
    from tests.helpers import DUTY_STATIONS

    load_shaped(engine, "stable")
    snapshots, _ = built(engine, tmp_path)
    moved = [{**row, "is_headquarters": "false"} if row["duty_station_code"] == "US-NEWYORK" else row
             for row in DUTY_STATIONS]  # fmt: skip
    assert load(engine, "duty_stations", to_csv(moved), "stations.csv").status == "loaded"
    monkeypatch.setattr(snapshot_module, "write_snapshot", lambda *args: pytest.fail("built from scratch"))
    version = data_versions(engine).of(SNAPSHOT_READS)
    assert snapshots.build(version) is not None
    same(raw_view(engine, "uptake_by_location", Filters(), snapshots.get(version)),
         raw_view(engine, "uptake_by_location", Filters()), "after the stations changed")  # fmt: skip
    snapshots.close()

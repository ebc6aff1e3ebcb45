"""Benchmark: the activity snapshot, built from scratch and kept current through an ingest.

    .venv/bin/python bench/filters.py --rows 5000000 --keep /tmp/filters-bench   # once, builds the store
    cp -r /tmp/filters-bench /tmp/snapshot-bench                                   # this run adds a month
    .venv/bin/python bench/snapshot.py --db /tmp/snapshot-bench [--rows 200000]

Builds the store's snapshot from scratch (time, size, peak memory), then loads a new month of ROWS
activity rows, a month's export, through ``ingest`` (rows/s), and brings the snapshot current the
way the job after a commit does: a copy of the last one with only the months the batch touched read
again. Every activity view on the updated snapshot is checked against a full rebuild. Run by hand;
figures go in the notes.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
from filters import latest_staff, synthetic_activity  # bench/filters.py

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def next_month(engine: Any, path: Path, rows: int) -> pd.Timestamp:
    """Write ROWS activity rows of the month after the store's latest, a month's export, to ``path``."""
    from sqlalchemy import func, select

    from data_access.schema import LearningActivity

    with engine.connect() as conn:
        last = conn.execute(select(func.max(LearningActivity.enrolled_on))).scalar()
    month = (pd.Timestamp(last) + pd.offsets.MonthBegin(1)).normalize()
    synthetic_activity(path, rows, latest_staff(engine), seed=int(month.strftime("%Y%m")))
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    days = pd.to_timedelta(pd.Series(range(len(frame))) % 28, unit="D")
    frame["enrolled_on"] = (month + days).dt.strftime("%Y-%m-%d")
    frame["completed_on"] = frame["completed_on"].where(frame["completed_on"] == "", frame["enrolled_on"])
    frame["course_id"] = "M" + frame["course_id"]
    frame.to_csv(path, index=False)
    return month


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True, help="a store built by bench/filters.py --keep")
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    os.environ.update({"INSTANCE_DIR": str(args.db), "DATABASE_URL": f"sqlite:///{args.db / 'bench.db'}",
                       "PSEUDONYM_KEY": "bench"})  # fmt: skip
    from sqlalchemy import create_engine

    from data_access.ingest.load import ingest
    from data_access.reads.cache import data_versions
    from data_access.reads.filters import Filters
    from data_access.reads.snapshot import SNAPSHOT_READS, Snapshots, write_snapshot
    from data_access.reads.views import VIEWS, raw_view
    from data_access.store import default_engine

    engine = default_engine()
    snapshots = Snapshots(engine, args.db / "bench-snapshots")
    version = data_versions(engine).of(SNAPSHOT_READS)
    started = time.perf_counter()
    write_snapshot(engine, args.db / "full.duckdb", version)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = (args.db / "full.duckdb").stat().st_size / 2**20
    print(f"full build: {seconds:.1f} s, {size:.0f} MiB on disk, peak RSS {peak:.0f} MiB")
    snapshots.folder.mkdir(exist_ok=True)
    os.replace(args.db / "full.duckdb", snapshots.path(version))

    path = args.db / "month.csv"
    month = next_month(engine, path, args.rows)

    started = time.perf_counter()
    result = ingest(engine, "learning_activity", path, pseudonym_key=b"bench", uploaded_by="bench")
    seconds = time.perf_counter() - started
    print(f"loaded {result.rows_read:,} rows for {month:%Y-%m} ({result.status}) in {seconds:.1f} s "
          f"= {result.rows_read / seconds / 1000:.0f}k rows/s")  # fmt: skip
    path.unlink()

    version = data_versions(engine).of(SNAPSHOT_READS)
    started = time.perf_counter()
    assert snapshots.build(version) is not None
    print(f"snapshot brought current (only the touched months read again): {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    write_snapshot(engine, args.db / "full.duckdb", version)
    print(f"for comparison, a full rebuild: {time.perf_counter() - started:.1f} s")
    rebuilt = create_engine(f"duckdb:///{args.db / 'full.duckdb'}", connect_args={"read_only": True})
    updated = snapshots.get(version)
    checks = [Filters(), Filters(duty_station="US-NEWYORK"), Filters(date_from=month.date())]
    names = [name for name, view in VIEWS.items() if "learning_activity" in view.reads]
    for filters in checks:
        for name in names:
            pd.testing.assert_frame_equal(
                raw_view(engine, name, filters, updated), raw_view(engine, name, filters, rebuilt)
            )
    print(f"the updated snapshot answers as the rebuilt one ({len(checks)} slices x {len(names)} views)")
    snapshots.close()
    rebuilt.dispose()
    (args.db / "full.duckdb").unlink()


if __name__ == "__main__":
    main()

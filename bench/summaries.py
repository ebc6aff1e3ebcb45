"""Benchmark: ingest with the activity summaries kept current.

    .venv/bin/python bench/filters.py --rows 5000000 --keep /tmp/filters-bench   # once, builds the store
    cp -r /tmp/filters-bench /tmp/summaries-bench                                  # this run adds a month
    .venv/bin/python bench/summaries.py --db /tmp/summaries-bench [--rows 200000]

Builds the summaries of the store from scratch (time, peak memory), then loads a new month of ROWS
activity rows, a month's export, through ``ingest`` (rows/s), and brings the summaries current the
way a worker does after a commit: reading again only the months the batch touched. The updated
summaries are checked against a full rebuild. Run by hand; figures go in the notes.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import pandas as pd
from filters import latest_staff, synthetic_activity  # bench/filters.py

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True, help="a store built by bench/filters.py --keep")
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    os.environ.update({"INSTANCE_DIR": str(args.db), "DATABASE_URL": f"sqlite:///{args.db / 'bench.db'}",
                       "PSEUDONYM_KEY": "bench"})  # fmt: skip
    from sqlalchemy import func, select

    from data_access.ingest.load import ingest
    from data_access.reads.activity_build import build_index
    from data_access.reads.activity_shelf import INDEX_READS, IndexShelf
    from data_access.reads.cache import data_versions
    from data_access.reads.filters import Filters
    from data_access.schema import LearningActivity
    from data_access.store import default_engine

    engine = default_engine()
    shelf = IndexShelf(engine)
    started = time.perf_counter()
    before = shelf.build(data_versions(engine).of(INDEX_READS))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"full build: {time.perf_counter() - started:.1f} s, {before.nbytes / 2**20:.0f} MiB, peak RSS {peak:.0f} MiB"
    )

    staff = latest_staff(engine)
    with engine.connect() as conn:
        last = conn.execute(select(func.max(LearningActivity.enrolled_on))).scalar()
    month = (pd.Timestamp(last) + pd.offsets.MonthBegin(1)).normalize()
    path = args.db / "month.csv"
    synthetic_activity(path, args.rows, staff, seed=int(month.strftime("%Y%m")))
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    days = pd.to_timedelta(pd.Series(range(len(frame))) % 28, unit="D")
    frame["enrolled_on"] = (month + days).dt.strftime("%Y-%m-%d")
    frame["completed_on"] = frame["completed_on"].where(frame["completed_on"] == "", frame["enrolled_on"])
    frame["course_id"] = "M" + frame["course_id"]
    frame.to_csv(path, index=False)

    started = time.perf_counter()
    result = ingest(engine, "learning_activity", path, pseudonym_key=b"bench", uploaded_by="bench")
    seconds = time.perf_counter() - started
    print(f"loaded {result.rows_read:,} rows for {month:%Y-%m} ({result.status}) in {seconds:.1f} s "
          f"= {result.rows_read / seconds / 1000:.0f}k rows/s")  # fmt: skip
    path.unlink()

    started = time.perf_counter()
    updated = shelf.build(data_versions(engine).of(INDEX_READS))
    print(f"summaries brought current (only the touched months read again): {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    with engine.connect() as conn:
        rebuilt = build_index(conn)
    print(f"for comparison, a full rebuild: {time.perf_counter() - started:.1f} s")
    checks = [Filters(), Filters(duty_station="US-NEWYORK"), Filters(date_from=month.date())]
    for filters in checks:
        for dimension in (None, "platform", "entity", "duty_station"):
            pd.testing.assert_frame_equal(updated.uptake_by(filters, dimension), rebuilt.uptake_by(filters, dimension))
        pd.testing.assert_frame_equal(updated.uptake_by_month(filters), rebuilt.uptake_by_month(filters))
    print(f"the updated summaries equal the rebuilt ones ({len(checks)} slices x 5 questions)")


if __name__ == "__main__":
    main()

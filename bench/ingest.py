"""Benchmark: validated ingest of learning_activity through the real pipeline, beside sqlite3's .import.

    .venv/bin/python bench/ingest.py --rows 1000000            # speed, with sqlite3 .import in the same run
    .venv/bin/python bench/ingest.py --rows 5000000 --no-cli   # peak memory at 5M rows

Each ingest runs in a fresh child process so that its peak RSS is its own.
Run by hand; the figures go in the closing note, not in a timed test.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ENTITIES = [f"E{i:02d}" for i in range(45)]
STATIONS = [f"DS-{i:03d}" for i in range(461)]


def write_reference(folder: Path) -> tuple[Path, Path]:
    entities = pd.DataFrame(
        {
            "entity_code": ENTITIES,
            "entity_name": [f"Entity {c}" for c in ENTITIES],
            "pillar": "Development",
            "entity_type": "Department",
        }
    )
    stations = pd.DataFrame(
        {
            "duty_station_code": STATIONS,
            "duty_station_name": [f"Station {c}" for c in STATIONS],
            "country_iso3": "KEN",
            "is_headquarters": ["true"] * 4 + ["false"] * (len(STATIONS) - 4),
        }
    )
    entities_path, stations_path = folder / "entities.csv", folder / "duty_stations.csv"
    entities.to_csv(entities_path, index=False)
    stations.to_csv(stations_path, index=False)
    return entities_path, stations_path


def write_activity(path: Path, rows: int, seed: int = 7) -> None:
    """A realistic platform export: 5 platforms, ~rows/5 learners, dates 2021-2024."""
    rng = np.random.default_rng(seed)
    chunk = 500_000
    platforms = np.array(["LinkedIn Learning", "Coursera", "Blue Line", "iLearn", "Other"])
    statuses = np.array(["enrolled", "in_progress", "completed", "withdrawn"])
    with path.open("w", encoding="utf-8", newline="") as handle:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            index = np.arange(start, start + n)
            enrolled = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 1300, n), unit="D")
            status = statuses[rng.choice(4, n, p=[0.2, 0.2, 0.55, 0.05])]
            completed = enrolled + pd.to_timedelta(rng.integers(0, 60, n), unit="D")
            frame = pd.DataFrame(
                {
                    "platform": platforms[index % 5],
                    "learner_id": pd.Series(rng.integers(0, max(rows // 5, 1), n)).map("S{:08d}".format),
                    "course_id": pd.Series(index).map("C-{:09d}".format),
                    "enrolled_on": enrolled.strftime("%Y-%m-%d"),
                    "entity_code": np.array(ENTITIES)[rng.integers(0, 45, n)],
                    "duty_station_code": np.array(STATIONS)[rng.integers(0, 461, n)],
                    "staff_category": np.array(["P", "GS", "FS", "NPO", "D"])[rng.integers(0, 5, n)],
                    "gender": np.array(["female", "male"])[rng.integers(0, 2, n)],
                    "status": status,
                    "completed_on": np.where(status == "completed", completed.strftime("%Y-%m-%d"), ""),
                    "course_title": "Data Analysis Foundations",
                    "learning_need": "Data and analytics",
                    "hours": (rng.integers(1, 40, n) / 4).astype(str),
                }
            )
            frame.to_csv(handle, index=False, header=start == 0)


def child_ingest(database: Path, entities: Path, stations: Path, activity: Path) -> None:
    from data_access.engine import get_engine, wait_for_checkpoints
    from data_access.ingest.load import ingest
    from data_access.migrate import upgrade

    engine = get_engine(f"sqlite:///{database}")
    upgrade(engine)
    for kind, path in (("entities", entities), ("duty_stations", stations)):
        assert ingest(engine, kind, path, pseudonym_key=b"bench", uploaded_by="bench").status == "loaded"
    started = time.perf_counter()
    result = ingest(engine, "learning_activity", activity, pseudonym_key=b"bench", uploaded_by="bench")
    seconds = time.perf_counter() - started
    wait_for_checkpoints()  # the write-ahead log copied into the database, after the commit
    with_checkpoint = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    from data_access.reads.cache import data_versions
    from data_access.reads.snapshot import SNAPSHOT_READS, Snapshots

    snapshots = Snapshots(engine, database.parent / "pipeline-snapshots")
    assert snapshots.build(data_versions(engine).of(SNAPSHOT_READS)) is not None  # what the job after a commit does
    with_snapshot = time.perf_counter() - started
    print(json.dumps({"status": result.status, "rows": result.rows_read, "seconds": seconds,
                      "with_checkpoint": with_checkpoint, "with_snapshot": with_snapshot,
                      "peak_kib": peak_kib}))  # fmt: skip


def run_pipeline(folder: Path, entities: Path, stations: Path, activity: Path) -> dict:
    database = folder / "pipeline.db"
    database.unlink(missing_ok=True)
    shutil.rmtree(folder / "pipeline-snapshots", ignore_errors=True)
    output = subprocess.run(
        [sys.executable, __file__, "--child", str(database), str(entities), str(stations), str(activity)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def run_sqlite_import(folder: Path, activity: Path) -> float:
    database = folder / "cli.db"
    database.unlink(missing_ok=True)
    started = time.perf_counter()
    subprocess.run(["sqlite3", str(database), "-cmd", ".mode csv", f".import {activity} learning_activity"], check=True)
    return time.perf_counter() - started


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_ingest(*map(Path, sys.argv[2:6]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--no-cli", action="store_true", help="skip sqlite3 .import")
    parser.add_argument("--keep", type=Path, help="folder to keep the generated files in")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    folder.mkdir(parents=True, exist_ok=True)
    entities, stations = write_reference(folder)
    activity = folder / f"learning_activity_{args.rows}.csv"
    if not activity.exists():
        write_activity(activity, args.rows)
    size_mb = activity.stat().st_size / 1e6
    print(f"file: {activity} ({args.rows:,} rows, {size_mb:.0f} MB)")
    pipeline = run_pipeline(folder, entities, stations, activity)
    rate = pipeline["rows"] / pipeline["seconds"]
    print(
        f"pipeline ingest: {pipeline['status']}, {pipeline['rows']:,} rows in {pipeline['seconds']:.2f} s "
        f"= {rate:,.0f} rows/s, peak RSS {pipeline['peak_kib'] / 1024 / 1024:.2f} GiB"
    )
    print(f"  with the background WAL checkpoint that follows the commit: {pipeline['with_checkpoint']:.2f} s")
    print(f"  and the activity snapshot written for the new data version: {pipeline['with_snapshot']:.2f} s")
    if not args.no_cli and shutil.which("sqlite3"):
        cli_seconds = run_sqlite_import(folder, activity)
        print(
            f"sqlite3 .import:  {args.rows:,} rows in {cli_seconds:.2f} s = {args.rows / cli_seconds:,.0f} rows/s; "
            f"pipeline takes {pipeline['seconds'] / cli_seconds:.2f}x as long, "
            f"{pipeline['with_snapshot'] / cli_seconds:.2f}x with the snapshot"
        )
    if not args.keep:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()

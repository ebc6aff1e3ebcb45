"""Benchmark: each page's server round trip with many activity rows, uncached and cached.

    .venv/bin/python bench/pages.py --rows 1000000

Loads the demo data into a fresh SQLite file, adds ROWS synthetic learning_activity rows over
the demo's entities and duty stations, then times the page router's `/_dash-update-component`
for each page, unfiltered and filtered to the largest duty station: the first call and the median
of five more (cached). With ``--warm`` the unfiltered views are computed first, as after a commit.
Run by hand; figures go in the notes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from router import page_router  # bench/router.py

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = ["/", "/uptake", "/needs", "/leadership", "/entity/OCHA"]
LARGEST = "?duty_station=US-NEWYORK"


def synthetic_activity(path: Path, rows: int, entities: list[str], stations: list[str]) -> None:
    rng = np.random.default_rng(11)
    platforms = np.array(["LinkedIn Learning", "Coursera", "Blue Line", "iLearn"])
    enrolled = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 1360, rows), unit="D")
    done = rng.random(rows) < 0.7
    frame = pd.DataFrame(
        {
            "platform": platforms[rng.integers(0, len(platforms), rows)],
            "learner_id": [f"SYN{n:08d}" for n in rng.integers(0, rows // 4 + 1, rows)],
            "course_id": [f"C{n:05d}" for n in rng.integers(0, 20000, rows)],
            "enrolled_on": enrolled.strftime("%Y-%m-%d"),
            "entity_code": np.array(entities)[rng.integers(0, len(entities), rows)],
            "duty_station_code": np.array(stations)[rng.integers(0, len(stations), rows)],
            "staff_category": np.array(["P", "GS", "NPO", "FS", "D"])[rng.integers(0, 5, rows)],
            "gender": np.array(["female", "male"])[rng.integers(0, 2, rows)],
            "status": np.where(done, "completed", "in_progress"),
            "completed_on": np.where(done, (enrolled + pd.Timedelta(days=20)).strftime("%Y-%m-%d"), ""),
        }
    )
    frame = frame.drop_duplicates(["platform", "learner_id", "course_id", "enrolled_on"])
    frame.to_csv(path, index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--warm", action="store_true", help="warm the cache after the load, as a commit does")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pages-bench-"))
    os.environ.update({"INSTANCE_DIR": str(folder), "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
                       "PSEUDONYM_KEY": "bench"})  # fmt: skip
    from sqlalchemy import select

    from app import server
    from data_access.ingest.load import ingest
    from data_access.schema import DutyStation, Entity
    from data_access.store import default_engine
    from data_access.users import create_user

    assert server.test_cli_runner().invoke(args=["load-demo"]).exit_code == 0
    engine = default_engine()
    with engine.connect() as conn:
        entities = list(conn.execute(select(Entity.entity_code)).scalars())
        stations = list(conn.execute(select(DutyStation.duty_station_code)).scalars())
    csv_path = folder / "synthetic.csv"
    synthetic_activity(csv_path, args.rows, entities, stations)
    started = time.perf_counter()
    result = ingest(engine, "learning_activity", csv_path, pseudonym_key=b"bench", uploaded_by="bench")
    print(f"added {result.rows_read:,} activity rows ({result.status}) in {time.perf_counter() - started:.1f} s")
    if args.warm:
        import settings
        from data_access.reads.views import warm_views
        from data_access.store import default_cache

        started = time.perf_counter()
        warm_views(engine, default_cache(settings.get("CACHE_URL")), settings.get_int("MIN_CELL_SIZE"))
        seconds = time.perf_counter() - started
        print(f"warmed the unfiltered views in {seconds:.1f} s (a commit does this in the background)")
    create_user(engine, "bench", "bench-password-long", "viewer")
    call = page_router(server, "bench")

    print(f"{'page':<32}{'uncached ms':>12}{'cached ms':>11}")
    for search in ("", LARGEST):
        for path in PAGES:
            first = call(path, search)
            cached = statistics.median(call(path, search) for _ in range(5))
            print(f"{path + search:<32}{first:>12.0f}{cached:>11.0f}")


if __name__ == "__main__":
    main()

"""Benchmark: each page's server round trip for a filter change, at scale, beside Datasette.

    .venv/bin/python bench/filters.py --rows 5000000 --keep /tmp/filters-bench
    .venv/bin/python bench/filters.py --db /tmp/filters-bench          # reuse that store

Builds a SQLite store: the demo data plus ROWS synthetic learning_activity rows whose learners
follow the demo's latest headcount (entity, duty station, category and gender in their real
proportions, so the largest duty station holds its real share of the rows; about 1.2 learners
per staff member, each with many courses). The activity snapshot is built (timed), then the
unfiltered views are warmed, as a commit does.

A filter change puts the filters in the URL, and the page router's ``/_dash-update-component``
renders the page; that round trip is what is timed, in process through Flask's test client, for
every page and a set of interactions: each platform, gender and staff category, the five largest
entities and duty stations, and three periods. Each interaction is timed the first time that slice
is asked for ("cold": nothing cached for it) and then three more times ("warm"). The worst case,
the largest duty station, is also timed cold five times over, with the cache emptied between runs.

With ``.venv-load`` present (``bench/requirements-load.txt``), Datasette serves the same file and
answers the equivalent facet query for the largest duty station, timed over HTTP on loopback.
Run by hand; figures go in the notes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
from router import page_router  # bench/router.py

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = ["/", "/uptake", "/needs", "/leadership", "/entity/OCHA"]
PLATFORMS = ["LinkedIn Learning", "Coursera", "Blue Line", "iLearn", "Other"]
PLATFORM_WEIGHTS = [0.55, 0.15, 0.15, 0.12, 0.03]
PERIODS = [("2024-01-01", "2024-09-30"), ("2023-01-01", "2023-12-31"), ("2022-04-01", "2022-06-30")]


def synthetic_activity(path: Path, rows: int, staff: pd.DataFrame, seed: int = 11, shape: str = "stable") -> None:
    """ROWS activity rows for learners drawn in proportion to ``staff`` (one row per headcount slice).

    ``shape`` "stable": each learner keeps one entity, duty station, category and gender; "varied":
    every row draws them afresh (a platform recording the sponsoring entity, moves, entry mix-ups at
    their extreme), so a learner's attributes differ between rows."""
    rng = np.random.default_rng(seed)
    weights = staff["headcount"].to_numpy(dtype=float)
    learners = int(weights.sum() * 1.2)
    home = rng.choice(len(staff), size=learners, p=weights / weights.sum())
    activity = rng.gamma(0.8, size=learners)  # a few learners take many courses, most take some
    who = rng.choice(learners, size=rows, p=activity / activity.sum())
    enrolled = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 1369, rows), unit="D")
    done = rng.random(rows) < 0.7
    completed = enrolled + pd.to_timedelta(rng.integers(0, 60, rows), unit="D")
    done &= completed <= pd.Timestamp("2024-09-30")
    drawn = home[who] if shape == "stable" else rng.choice(len(staff), size=rows, p=weights / weights.sum())
    slices = staff.iloc[drawn]
    frame = pd.DataFrame(
        {
            "platform": np.array(PLATFORMS)[rng.choice(len(PLATFORMS), size=rows, p=PLATFORM_WEIGHTS)],
            "learner_id": np.char.add("SYN", who.astype(str)),
            "course_id": np.char.add("C", rng.integers(0, 40000, rows).astype(str)),
            "enrolled_on": enrolled.strftime("%Y-%m-%d"),
            "entity_code": slices["entity_code"].to_numpy(),
            "duty_station_code": slices["duty_station_code"].to_numpy(),
            "staff_category": slices["staff_category"].to_numpy(),
            "gender": slices["gender"].to_numpy(),
            "status": np.where(done, "completed", "in_progress"),
            "completed_on": np.where(done, completed.strftime("%Y-%m-%d"), ""),
        }
    )
    frame.drop_duplicates(["platform", "learner_id", "course_id", "enrolled_on"]).to_csv(path, index=False)


def latest_staff(engine: object) -> pd.DataFrame:
    """Staff per (entity, duty station, staff category, gender) in the latest headcount snapshot."""
    from sqlalchemy import func, select

    from data_access.schema import Headcount

    h = Headcount
    latest = select(func.max(h.as_of_date)).scalar_subquery()
    query = (
        select(h.entity_code, h.duty_station_code, h.staff_category, h.gender, func.sum(h.headcount))
        .where(h.as_of_date == latest, h.headcount > 0)
        .group_by(h.entity_code, h.duty_station_code, h.staff_category, h.gender)
    )
    with engine.connect() as conn:  # type: ignore[attr-defined]
        columns = ["entity_code", "duty_station_code", "staff_category", "gender", "headcount"]
        return pd.DataFrame(conn.execute(query).all(), columns=columns)


def build(folder: Path, rows: int, shape: str = "stable") -> None:
    from app import server
    from data_access.ingest.load import ingest
    from data_access.store import default_engine

    assert server.test_cli_runner().invoke(args=["load-demo"]).exit_code == 0
    engine = default_engine()
    staff = latest_staff(engine)
    csv_path = folder / "synthetic.csv"
    synthetic_activity(csv_path, rows, staff, shape=shape)
    started = time.perf_counter()
    result = ingest(engine, "learning_activity", csv_path, pseudonym_key=b"bench", uploaded_by="bench")
    print(f"added {result.rows_read:,} activity rows ({result.status}) in {time.perf_counter() - started:.1f} s")
    csv_path.unlink()


def largest(engine: object, column: str) -> list[str]:
    from sqlalchemy import func, select

    from data_access.schema import LearningActivity

    code = getattr(LearningActivity, column)
    query = select(code).group_by(code).order_by(func.count().desc()).limit(5)
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return list(conn.execute(query).scalars())


def interactions(engine: object) -> list[str]:
    """The query strings a leader's filter changes produce."""
    searches = [f"?platform={p.replace(' ', '+')}" for p in PLATFORMS[:4]]
    searches += ["?gender=female", "?gender=male"] + [f"?staff_category={c}" for c in ("P", "GS", "NPO", "FS", "D")]
    searches += [f"?entity={code}" for code in largest(engine, "entity_code")]
    searches += [f"?duty_station={code}" for code in largest(engine, "duty_station_code")]
    searches += [f"?from={start}&to={end}" for start, end in PERIODS]
    return searches


def percentile(values: list[float], share: float) -> float:
    return float(np.percentile(values, share * 100))


def datasette(db: Path, station: str) -> dict[str, float] | None:
    """Datasette's answer time for the largest duty station: a facet by platform, and exact distinct learners."""
    binary = ROOT / ".venv-load" / "bin" / "datasette"
    if not binary.exists():
        return None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    limits = ["--setting", "sql_time_limit_ms", "60000", "--setting", "facet_time_limit_ms", "60000"]
    server = subprocess.Popen(  # noqa: S603
        [str(binary), "serve", "-i", str(db), "--port", str(port), *limits],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/{db.stem}"
    sql = (
        "select platform, count(distinct learner_id) from learning_activity "
        f"where duty_station_code = '{station}' group by platform"
    )
    urls = {
        "facet by platform": f"{base}/learning_activity.json?duty_station_code={station}&_facet=platform&_size=0",
        "distinct learners per platform": f"{base}.json?sql={urllib.parse.quote(sql)}",
    }
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        timings = {}
        for label, url in urls.items():
            runs = []
            for _ in range(7):
                start = time.perf_counter()
                with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310
                    json.load(response)
                runs.append((time.perf_counter() - start) * 1000)
            timings[label] = statistics.median(runs)
        return timings
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="build the store in this folder and keep it")
    parser.add_argument("--db", type=Path, help="reuse a store built earlier with --keep")
    parser.add_argument("--shape", choices=["stable", "varied"], default="stable", help="see synthetic_activity")
    args = parser.parse_args()
    folder = args.db or args.keep or Path(tempfile.mkdtemp(prefix="filters-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.update({"INSTANCE_DIR": str(folder), "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
                       "PSEUDONYM_KEY": "bench"})  # fmt: skip
    if not args.db:
        build(folder, args.rows, args.shape)

    import settings
    from app import server
    from data_access.reads import views
    from data_access.reads.cache import data_versions
    from data_access.reads.snapshot import SNAPSHOT_READS
    from data_access.store import default_cache, default_engine, snapshots
    from data_access.users import create_user

    engine = default_engine()
    min_cell = settings.get_int("MIN_CELL_SIZE")
    started = time.perf_counter()
    built = snapshots(engine).build(data_versions(engine).of(SNAPSHOT_READS))
    print(
        f"the activity snapshot ready in {time.perf_counter() - started:.1f} s "
        f"({built.stat().st_size / 2**20:.0f} MiB); "
        "it stays below: emptying the cache empties the view tables, not the snapshot"
    )

    def fresh_cache() -> float:
        """Empty this process's cache of view tables and warm the unfiltered views, as after a commit."""
        default_cache.cache_clear()
        start = time.perf_counter()
        views.warm_views(engine, default_cache(settings.get("CACHE_URL")), min_cell)
        return time.perf_counter() - start

    print(f"warmed the unfiltered views in {fresh_cache():.1f} s; every filtered slice is left cold")
    if not args.db:
        create_user(engine, "bench", "bench-password-long", "viewer")
    call = page_router(server, "bench")

    searches = interactions(engine)
    print(f"{len(searches)} interactions per page: {', '.join(searches)}")
    print(f"{'page':<16}{'cold median':>12}{'cold p95':>10}{'warm median':>12}{'warm p95':>10}{'slowest (cold)':>40}")

    def measure(path: str, label: str) -> None:
        cold = {search: call(path, search) for search in searches}
        warm = [call(path, search) for search in searches for _ in range(3)]
        slowest = max(cold, key=cold.__getitem__)
        print(
            f"{label:<16}{statistics.median(cold.values()):>12.1f}{percentile(list(cold.values()), 0.95):>10.1f}"
            f"{statistics.median(warm):>12.1f}{percentile(warm, 0.95):>10.1f}{slowest:>32}{cold[slowest]:>7.0f} ms"
        )

    for path in PAGES:
        measure(path, path)
    station = largest(engine, "duty_station_code")[0]
    print(f"worst case, the largest duty station ({station}), cold, five runs with the cache emptied between:")
    for path in PAGES:
        runs = []
        for _ in range(5):
            fresh_cache()
            runs.append(call(path, f"?duty_station={station}"))
        print(f"  {path:<16} median {statistics.median(runs):7.1f} ms, max {max(runs):7.1f} ms")
    answer = datasette(folder / "bench.db", station)
    if answer is None:
        print("Datasette: not measured (make .venv-load: python3 -m venv .venv-load && "
              ".venv-load/bin/pip install -r bench/requirements-load.txt)")  # fmt: skip
    for label, median in (answer or {}).items():
        print(f"Datasette, {station}, {label}: median {median:.0f} ms")
    if not (args.db or args.keep):
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

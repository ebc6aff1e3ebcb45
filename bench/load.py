"""Load test on this machine: 50 viewers and 2 uploaders against gunicorn with 4 workers.

    python3 -m venv .venv-load && .venv-load/bin/pip install -r bench/requirements-load.txt
    .venv/bin/python bench/load.py --backend sqlite --seconds 60
    .venv/bin/python bench/load.py --backend postgresql --seconds 60

Loads the demo data into a fresh database, creates 50 viewers and 2 uploaders, starts gunicorn
(shared Redis cache and rate limits), runs locust (its own venv: it needs urllib3 2, selenium 4.2
needs 1.x) bounded in time on loopback, and prints each request's median and p95 and the errors.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = 8090
PG = "postgresql://postgres@127.0.0.1:5432/test"
USERS = """
from data_access.store import default_engine
from data_access.users import create_user
for n in range(1, 51):
    create_user(default_engine(), f"viewer{n:02d}", "load-test-password", "viewer")
for n in (1, 2):
    create_user(default_engine(), f"uploader{n}", "load-test-password", "uploader")
"""


def run(env: dict[str, str], *args: str) -> None:
    subprocess.run(args, cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="load-"))
    schema = f"load_{uuid.uuid4().hex[:8]}"
    if args.backend == "sqlite":
        url = f"sqlite:///{folder / 'load.db'}"
    else:
        subprocess.run(["psql", PG, "-qc", f"CREATE SCHEMA {schema}"], check=True)  # noqa: S603, S607
        url = f"{PG}?options=-csearch_path%3D{schema}"
    env = {**os.environ, "INSTANCE_DIR": str(folder), "DATABASE_URL": url, "PORT": str(PORT),
           "CACHE_URL": "redis://127.0.0.1:6379/2", "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/3",
           "PSEUDONYM_KEY": "load", "SECRET_KEY": "load-test-secret"}  # fmt: skip
    subprocess.run(["redis-cli", "-n", "2", "flushdb"], check=True, capture_output=True)  # noqa: S603, S607
    subprocess.run(["redis-cli", "-n", "3", "flushdb"], check=True, capture_output=True)  # noqa: S603, S607
    python = sys.executable
    run(env, python, "-m", "flask", "--app", "app:server", "load-demo")
    run(env, python, "-c", USERS)
    server = subprocess.Popen(  # noqa: S603
        [str(Path(python).parent / "gunicorn"), "--workers", str(args.workers), "--threads", "4",
         "--keep-alive", "10", "--bind", f"127.0.0.1:{PORT}", "app:server"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(folder / "gunicorn.log", "w"),  # noqa: SIM115
    )  # fmt: skip
    time.sleep(6)
    try:
        subprocess.run(  # noqa: S603
            [str(ROOT / ".venv-load" / "bin" / "locust"), "-f", "bench/locustfile.py", "--headless", "-u", "52",
             "-r", "10", "-t", f"{args.seconds}s", "--host", f"http://127.0.0.1:{PORT}", "--csv", str(folder / "out"),
             "--only-summary"],
            cwd=ROOT, check=False, capture_output=True,
        )  # fmt: skip
    finally:
        server.terminate()
        server.wait(20)
        if args.backend == "postgresql":
            subprocess.run(["psql", PG, "-qc", f"DROP SCHEMA {schema} CASCADE"], check=False)  # noqa: S603, S607
    print(f"{args.backend}, {args.workers} gunicorn workers, 50 viewers + 2 uploaders, {args.seconds} s")
    print(f"{'request':<22}{'count':>7}{'errors':>8}{'median ms':>11}{'p95 ms':>8}")
    with open(folder / "out_stats.csv") as handle:
        for row in csv.DictReader(handle):
            name = row["Name"] or row["Type"]
            print(f"{name:<22}{row['Request Count']:>7}{row['Failure Count']:>8}{row['50%']:>11}{row['95%']:>8}")


if __name__ == "__main__":
    main()

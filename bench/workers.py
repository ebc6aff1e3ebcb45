"""Benchmark: production mode at scale: how soon freshly started workers serve, and their memory.

    .venv/bin/python bench/filters.py --rows 5000000 --keep DIR [--shape varied]   # once, builds the store
    .venv/bin/python bench/workers.py --db DIR [--workers 4] [--cache-url redis://127.0.0.1:6379/9]

Starts gunicorn (WORKERS x 4 threads) on DIR/bench.db as ``make serve`` does and times, from the start,
the first page answered and the moment every worker process has served one (pages are asked for
WORKERS at a time until each worker has used CPU for one). Then every page is opened with each of a
set of filters, twice, WORKERS requests at a time, and the peak resident memory of each worker
(sampled from /proc every 0.2 s) and of all of them together is reported, with Redis's used memory
when ``--cache-url`` is given (emptied first, unless ``--keep-cache``: a restart of the workers finds
the figures an earlier run left). Run by hand; figures go in the notes.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.cookiejar
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from router import router_body  # bench/router.py

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
USER, PASSWORD = "workers-bench", "workers-bench-password"
ROUTER = ".._pages_content.children..._pages_store.data.."
PAGES = ["/", "/uptake", "/needs", "/leadership", "/entity/OCHA"]
FILTERS = ["", "?gender=female", "?duty_station=US-NEWYORK", "?entity=OCHA", "?staff_category=GS", "?platform=Coursera",
           "?from=2023-01-01&to=2023-12-31", "?entity=MINUSCA&duty_station=CF-BANGUI"]  # fmt: skip


def rss(pid: int) -> int:
    """Resident memory of ``pid`` in bytes (0 once it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Client:
    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def sign_in(self) -> None:
        body = urllib.parse.urlencode({"username": USER, "password": PASSWORD}).encode()
        request = urllib.request.Request(f"{self.base}/login", data=body, headers={"Origin": self.base})
        self.opener.open(request, timeout=600).read()

    def page(self, path: str, search: str) -> None:
        body = json.dumps(router_body(ROUTER, path, search)).encode()
        headers = {"Origin": self.base, "Content-Type": "application/json"}
        request = urllib.request.Request(f"{self.base}/_dash-update-component", data=body, headers=headers)
        with self.opener.open(request, timeout=600) as response:
            assert response.status == 200, response.status
            response.read()


def import_then_open(args: argparse.Namespace, env: dict[str, str], flask: list[str], client: Client) -> None:
    """A month of ``--import-rows`` rows through ``flask import-csv`` while the workers run, then the
    overview opened: how long the import took, and from its end to the page with the new totals."""
    os.environ.update({k: v for k, v in env.items() if k in ("INSTANCE_DIR", "DATABASE_URL", "PSEUDONYM_KEY")})
    from snapshot import next_month  # bench/snapshot.py

    from data_access.store import default_engine

    path = args.db / "month.csv"
    month = next_month(default_engine(), path, args.import_rows)
    started = time.perf_counter()
    subprocess.run([*flask, "import-csv", "learning_activity", str(path)], cwd=ROOT, env=env, check=True,
                   capture_output=True)  # fmt: skip
    ended = time.perf_counter()
    client.page("/", f"?from={month:%Y-%m-%d}")
    print(f"import-csv of {args.import_rows:,} rows for {month:%Y-%m} (snapshot brought current): "
          f"{ended - started:.1f} s; from its end to the overview of that month answered: "
          f"{time.perf_counter() - ended:.2f} s")  # fmt: skip
    path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--cache-url", default="")
    parser.add_argument("--keep-cache", action="store_true", help="start with Redis as a run before left it")
    parser.add_argument("--import-rows", type=int, default=0, help="then import a month of this many rows")
    args = parser.parse_args()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "INSTANCE_DIR": str(args.db), "DATABASE_URL": f"sqlite:///{args.db / 'bench.db'}",
           "PSEUDONYM_KEY": "bench", "SECRET_KEY": "bench-secret", "CACHE_URL": args.cache_url,
           "LOGIN_RATE_LIMIT": "1000 per minute"}  # fmt: skip
    flask = [str(ROOT / ".venv/bin/flask"), "--app", "app:server"]
    made = subprocess.run([*flask, "create-user", USER, "--role", "viewer", "--password-stdin"], cwd=ROOT, env=env,
                          input=f"{PASSWORD}\n".encode(), capture_output=True)  # fmt: skip
    if made.returncode and b"already exists" not in made.stderr:
        raise RuntimeError(made.stderr.decode())
    if args.cache_url and not args.keep_cache:
        import redis

        redis.Redis.from_url(args.cache_url).flushdb()
    started = time.perf_counter()
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "--workers", str(args.workers), "--threads", "4", "--timeout", "600",
         "--bind", f"127.0.0.1:{port}", "app:server"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    peaks: dict[int, int] = {}
    total_peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            pids = children(server.pid)
            sizes = {pid: rss(pid) for pid in pids}
            for pid, size in sizes.items():
                peaks[pid] = max(peaks.get(pid, 0), size)
            total_peak[0] = max(total_peak[0], sum(sizes.values()))
            time.sleep(0.2)

    threading.Thread(target=sample, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        client = Client(base)
        client.sign_in()
        workers = children(server.pid)
        baseline = {pid: cpu(pid) for pid in workers}
        first = None
        with concurrent.futures.ThreadPoolExecutor(args.workers) as pool:
            while True:
                list(pool.map(lambda path: client.page(path, ""), PAGES[: args.workers]))
                first = first or time.perf_counter() - started
                busy = [pid for pid in workers if cpu(pid) - baseline[pid] > 0.05]
                if len(busy) == len(workers):
                    break
        every = time.perf_counter() - started
        print(f"{args.workers} workers: first page answered {first:.1f} s after start; "
              f"every worker had served a page {every:.1f} s after start")  # fmt: skip
        visits = [(path, search) for path in PAGES for search in FILTERS]
        begun = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(args.workers) as pool:
            list(pool.map(lambda visit: client.page(*visit), visits * 2))
        print(f"{len(visits) * 2} page visits ({len(visits)} slices twice): {time.perf_counter() - begun:.1f} s")
        time.sleep(1)
        for pid in sorted(peaks):
            if pid in workers:
                print(f"worker {pid}: peak RSS {peaks[pid] / 2**20:.0f} MiB, now {rss(pid) / 2**20:.0f} MiB")
        print(f"all workers together: peak {total_peak[0] / 2**30:.2f} GiB")
        if args.cache_url:
            import redis

            used = redis.Redis.from_url(args.cache_url).info("memory")["used_memory"]
            print(f"Redis used memory: {used / 2**20:.1f} MiB")
        if args.import_rows:
            import_then_open(args, env, flask, client)
    finally:
        stop.set()
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()

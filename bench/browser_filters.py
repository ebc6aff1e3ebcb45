"""Benchmark: a filter change until every chart is drawn, in headless Chromium, on a large SQLite store.

    .venv/bin/python bench/filters.py --rows 5000000 --keep /tmp/fb5m         # build the store once
    .venv/bin/python bench/browser_filters.py --db /tmp/fb5m [--json FILE]
    .venv/bin/python bench/browser_filters.py --db /tmp/fb5m --navigate       # open the filtered address instead

Serves FOLDER/bench.db with gunicorn (1 worker, 4 threads), signs in as a viewer (created if missing)
and times slices on `/`, `/uptake`, `/leadership`, `/needs` and the profile of the entity with the
most activity rows: each gender, three staff categories, the three largest duty stations (on the
profile, the entity's own), a calendar year (pages with From / To; one filter), the entity with its
largest duty station, and two- and three-filter combinations of these.

Each slice: the page is opened with all but the slice's last filter in its address (not timed); once
the server is idle (a person reads the page meanwhile) the last filter is set in the filter bar as a
person does it: click the dropdown, type the label, click the option (a year: From in the address,
the To month in the bar). ``--navigate`` opens the filtered address instead, timed from its start.
Done: the line under the heading (``h1 + p``) lists the slice's filters (PageContext.describe's
words), every graph is drawn, no callback is pending and nothing in the page has changed for 400 ms.
Reported: the last change inside any ``.js-plotly-plot`` (drawn or removed; a slice with no data
draws none, and is listed) minus the click, both performance.now() in the page (a MutationObserver
and a listener installed before the page's scripts), so neither WebDriver's round trips nor how the
page updates matter. A slice is timed on its first visit on a page (the bench has not shown it there) and again
("seen before"). Reference, same run: Python's sqlite3 on the same file, distinct learners per
platform for each slice's filters, run twice. Needs Debian's chromium and chromium-driver.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

ROOT = Path(__file__).resolve().parent.parent
USER, PASSWORD = "browser-bench", "browser-bench-password"
PAGES = ["/", "/uptake", "/leadership", "/needs"]  # and the largest entity's profile
VISITS = ("first visit", "seen before")
QUIET_MS = 400
Slice = tuple[tuple[str, str], ...]  # (query key, value) pairs; the last one is set in the filter bar

#: Run in every new document before its own scripts: when an option was clicked, and when the page
#: and a chart (anything inside a .js-plotly-plot, or one added or removed) last changed.
OBSERVE = """
window.__bench = {changedAt: null, lastAny: 0, lastChart: 0};
const isChart = n => n.nodeType === 1 && (n.matches('.js-plotly-plot') || !!n.querySelector('.js-plotly-plot'));
new MutationObserver(records => {
  const b = window.__bench;
  b.lastAny = performance.now();
  if (records.some(r => (r.target.nodeType === 1 ? r.target : r.target.parentElement)?.closest('.js-plotly-plot')
                        || [...r.addedNodes, ...r.removedNodes].some(isChart))) b.lastChart = b.lastAny;
}).observe(document, {childList: true, subtree: true, attributes: true, characterData: true});
document.addEventListener('click', e => {
  const b = window.__bench;
  if (b.changedAt === null && e.target.closest?.('[role=option]')) b.changedAt = performance.now();
}, true);
"""
#: The page now: those times, the heading's line, how many graphs are not drawn or callbacks pending,
#: and how many charts are drawn.
STATE = """const b = window.__bench || {}, p = document.querySelector('h1 + p');
const busy = [...document.querySelectorAll('.dash-graph')].filter(g => !g.querySelector('.main-svg')).length
             + document.querySelectorAll('[data-dash-is-loading]').length;
const drawn = document.querySelectorAll('.js-plotly-plot .main-svg').length;
return [b.changedAt, b.lastChart, b.lastAny, performance.now(), p ? p.textContent : null, busy, drawn];"""
OPTION = ("return [...document.querySelectorAll('.dash-dropdown-content [role=option]')]"
          ".find(o => o.textContent.trim() === arguments[0]) || null;")  # fmt: skip


def poll(check: Callable[[], Any], timeout: float, what: str, pause: float = 0.02) -> Any:
    """``check()`` once it is truthy, asked every ``pause`` seconds for up to ``timeout``."""
    deadline = time.perf_counter() + timeout
    while not (found := check()):
        if time.perf_counter() > deadline:
            raise TimeoutError(what)
        time.sleep(pause)
    return found


def start_server(folder: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "INSTANCE_DIR": str(folder), "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
           "PSEUDONYM_KEY": "bench", "SECRET_KEY": "bench-secret"}  # fmt: skip
    flask = [str(ROOT / ".venv/bin/flask"), "--app", "app:server"]
    made = subprocess.run([*flask, "create-user", USER, "--role", "viewer", "--password-stdin"], cwd=ROOT, env=env,
                          input=f"{PASSWORD}\n".encode(), capture_output=True)  # fmt: skip
    if made.returncode and b"already exists" not in made.stderr:
        raise RuntimeError(made.stderr.decode())
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "--workers", "1", "--threads", "4", "--timeout", "300",
         "--bind", f"127.0.0.1:{port}", "app:server"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"),  # noqa: SIM115
    )  # fmt: skip

    def listening() -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    poll(listening, 120, "the server did not start", 0.2)
    return server, f"http://127.0.0.1:{port}"


def server_cpu(master: int) -> float:
    """CPU seconds used so far by the gunicorn master and its worker."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):  # a process that ended meanwhile
            fields = stat.read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12]) if master in (int(stat.parent.name), int(fields[1])) else 0
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_idle(master: int, timeout: float = 60) -> None:
    """Until the server uses under 6% of a core over half a second (its background work done)."""
    deadline, used = time.time() + timeout, server_cpu(master)
    while time.time() < deadline:
        time.sleep(0.5)
        if (now := server_cpu(master)) - used < 0.03:
            return
        used = now


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": OBSERVE})
    return driver


def settle(driver: webdriver.Chrome, parts: list[str], *, clicked: bool = False, timeout: float = 120) -> tuple:
    """Wait until the heading lists ``parts``, every graph is drawn, no callback is pending and the page is
    quiet; ms from the change (the click on an option, else the navigation's start) to the last change
    inside a chart, or a chart removed (to the last change in the page when none changed), and whether
    the page shows a chart (a slice with no data shows none)."""

    def done() -> tuple[float, bool] | None:
        changed, last_chart, last_any, now, heading, busy, drawn = driver.execute_script(STATE)
        if changed is None and clicked:
            raise TimeoutError("the page was loaded again after the click: time it with --navigate")
        shown = {part.strip() for part in (heading or "").split(" · ")}
        if heading is None or not set(parts) <= shown or busy or now - last_any < QUIET_MS:
            return None
        return (last_chart if last_chart > (changed or 0) else last_any) - (changed or 0), drawn > 0

    return poll(done, timeout, f"{driver.current_url}: not drawn and quiet with {parts} in the heading", 0.05)


def choose(driver: webdriver.Chrome, name: str, label: str) -> None:
    """Pick ``label`` in the filter bar's dropdown ``name`` as a person does: open, type, click the option."""
    control = json.dumps({"name": name, "type": "filter"}, separators=(",", ":"))
    driver.find_element(By.CSS_SELECTOR, f"[id='{control}']").click()
    search = ".dash-dropdown-content .dash-dropdown-search"
    box = poll(lambda: driver.find_elements(By.CSS_SELECTOR, search), 10, f"the {name} dropdown did not open")
    box[0].send_keys(label)
    poll(lambda: box[0].get_attribute("value") == label, 10, f"the {name} dropdown's search did not take {label!r}")

    def click() -> bool:
        option = driver.execute_script(OPTION, label)
        if option is None:
            return False
        driver.execute_script("window.__bench.changedAt = null")
        try:
            option.click()
        except StaleElementReferenceException:  # the list was drawn again meanwhile
            return False
        return True

    poll(click, 10, f"no option {label!r} in the {name} dropdown")


def words(pairs: Slice, names: dict[str, dict[str, str]]) -> list[str]:
    """These filters in the heading's words (PageContext.describe; ``names``: code -> label)."""
    query = dict(pairs)
    parts = [names[key].get(query[key], query[key]) for key in names if key in query]
    if "from" in query or "to" in query:
        parts.append(f"{query.get('from', 'start')} to {query.get('to', 'latest')}")
    return parts


def count(pairs: Slice) -> int:
    return len({"period" if key in ("from", "to") else key for key, _ in pairs})


def top(db: sqlite3.Connection, column: str, n: int, where: str = "", *args: str) -> list[str]:
    sql = f"SELECT {column} FROM learning_activity {where} GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT {n}"
    return [row[0] for row in db.execute(sql, args)]


def slices_of(path: str, entity: str, stations: list[str], home: str, year: int) -> list[Slice]:
    """The slices timed on ``path`` (``home``: the entity's largest duty station); on the profile its
    entity comes first in each (it is in the path)."""
    own = (("entity", entity),) if path.startswith("/entity/") else ()
    one = [(("gender", g),) for g in ("female", "male")] + [(("staff_category", c),) for c in ("P", "GS", "FS")]
    one += [(("duty_station", s),) for s in stations]
    if path in ("/", "/uptake") or own:  # pages with From / To
        one.append((("from", f"{year}-01-01"), ("to", f"{year}-12-31")))
    s = stations[0]
    two = [(("gender", "female"), ("staff_category", "P")), (("duty_station", s), ("gender", "female"))]
    three = [(("duty_station", s), ("gender", "female"), ("staff_category", "P"))]
    if not own:
        two.insert(0, (("entity", entity), ("duty_station", home)))
        three.insert(0, (("entity", entity), ("duty_station", home), ("gender", "female")))
    return [own + pairs for pairs in one + two + three]


def visit(driver: webdriver.Chrome, url: str, pairs: Slice, names: dict, navigate: bool, server: int) -> tuple:
    """One timed filter change on the page at ``url`` to the slice ``pairs``: ms, and whether it shows a chart."""
    fixed = 1 if "/entity/" in url else 0  # the profile's entity is in the path, not the query

    def address(pairs: Slice) -> str:
        return f"{url}?{urllib.parse.urlencode(pairs[fixed:])}" if pairs[fixed:] else url

    if navigate:
        wait_idle(server)
        driver.get(address(pairs))
        return settle(driver, words(pairs, names))
    before, (key, value) = pairs[:-1], pairs[-1]
    driver.get(address(before))
    settle(driver, words(before, names))
    wait_idle(server)
    label = names.get(key, {}).get(value, value)
    if key == "to":
        key, label = "to_month", dt.date.fromisoformat(value).strftime("%b %Y")
    choose(driver, key, label)
    return settle(driver, words(pairs, names), clicked=True)


def reference(db: sqlite3.Connection, slices: list[Slice]) -> list[dict]:
    """Plain SQL for each distinct slice, twice: distinct learners per platform."""
    columns = {"entity": "entity_code", "duty_station": "duty_station_code", "staff_category": "staff_category",
               "gender": "gender", "from": "enrolled_on >=", "to": "enrolled_on <="}  # fmt: skip
    runs = []
    for seen in VISITS:
        for pairs in dict.fromkeys(tuple(sorted(pairs)) for pairs in slices):
            where = " AND ".join(f"{columns[key]} {'?' if ' ' in columns[key] else '= ?'}" for key, _ in pairs)
            sql = f"SELECT platform, COUNT(DISTINCT learner_id) FROM learning_activity WHERE {where} GROUP BY platform"
            started = time.perf_counter()
            db.execute(sql, [value for _, value in pairs]).fetchall()
            runs.append({"filters": count(pairs), "visit": seen, "ms": (time.perf_counter() - started) * 1000})
    return runs


def measure(driver: webdriver.Chrome, base: str, pages: dict, names: dict, navigate: bool, server: Any) -> tuple:
    """Every slice of every page, on its first visit and then again: (timings, failures)."""
    timings, failed = [], []
    for path, slices in pages.items():
        for seen in VISITS:
            for pairs in slices:
                query = urllib.parse.urlencode(pairs)
                try:
                    ms, charts = visit(driver, f"{base}{path}", pairs, names, navigate, server.pid)
                except (TimeoutError, WebDriverException) as error:
                    first_line = str(error).strip().partition("\n")[0]
                    failed.append(f"{path} {query} {seen}: {type(error).__name__}: {first_line}")
                    print(f"FAILED {failed[-1]}", file=sys.stderr)
                    if server.poll() is not None:
                        raise RuntimeError(f"the server stopped (exit {server.returncode})") from None
                    continue
                timings.append({"page": path, "slice": query, "filters": count(pairs), "visit": seen, "ms": ms,
                                "charts": charts})  # fmt: skip
                print(f"{path} {query} {seen}: {ms:.0f} ms{'' if charts else ' (no chart)'}", file=sys.stderr)
    return timings, failed


def report(title: str, pages: list[str], timings: list[dict], sql: list[dict], failed: list[str]) -> None:
    def pick(runs: list[dict], **match: object) -> list[float]:
        return [r["ms"] for r in runs if all(r[k] == v for k, v in match.items())]

    def stats(values: list[float]) -> str:
        return f"{np.median(values):,.0f} / {np.percentile(values, 95):,.0f}" if values else "-"

    print(f"\n{title}\n\n| page | slices | first visit | seen before | slowest first visit |\n|---|---|---|---|---|")
    for path in [*pages, None]:
        mine = [t for t in timings if path in (None, t["page"])]
        first = [t for t in mine if t["visit"] == VISITS[0]]
        worst = max(first, key=lambda t: t["ms"], default=None)
        cells = [stats(pick(mine, visit=seen)) for seen in VISITS]
        name, worst = f"`{path}`" if path else "all pages", f"`{worst['slice']}` {worst['ms']:,.0f}" if worst else "-"
        print(f"| {name} | {len(first)} | {cells[0]} | {cells[1]} | {worst} |")
    print("\n| filters (the profile's entity counts) | slices | browser, first visit | browser, seen before "
          "| sqlite3, first run | sqlite3, second run |\n|---|---|---|---|---|---|")  # fmt: skip
    for n in [*sorted({t["filters"] for t in timings}), None]:
        match = {} if n is None else {"filters": n}
        cells = [stats(pick(runs, visit=seen, **match)) for runs in (timings, sql) for seen in VISITS]
        print(f"| {n or 'all'} | {len(pick(timings, visit=VISITS[0], **match))} | " + " | ".join(cells) + " |")
    if blank := [f"`{t['page']} {t['slice']}`" for t in timings if not t["charts"] and t["visit"] == VISITS[0]]:
        print(f"\nNo chart, no data (timed to the old charts' removal, else the last change): {', '.join(blank)}")
    for line in failed:
        print(f"\nFAILED {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True, help="a folder holding bench.db (bench/filters.py --keep)")
    parser.add_argument("--navigate", action="store_true", help="open the filtered address instead of the dropdown")
    parser.add_argument("--json", type=Path, help="also write every timing to this file")
    args = parser.parse_args()
    db = sqlite3.connect(f"file:{args.db / 'bench.db'}?mode=ro", uri=True)
    rows = db.execute("SELECT COUNT(*) FROM learning_activity").fetchone()[0]
    entity = top(db, "entity_code", 1)[0]
    latest = dt.date.fromisoformat(db.execute("SELECT MAX(enrolled_on) FROM learning_activity").fetchone()[0][:10])
    year = latest.year if (latest.month, latest.day) == (12, 31) else latest.year - 1
    entities = db.execute("SELECT entity_code, entity_name FROM entities")
    stations = db.execute("SELECT duty_station_code, duty_station_name FROM duty_stations")
    names = {"entity": {code: f"{code} - {name}" for code, name in entities}, "duty_station": dict(stations),
             "staff_category": {}, "gender": {"female": "Female", "male": "Male"}}  # fmt: skip
    own = top(db, "duty_station_code", 3, "WHERE entity_code = ?", entity)
    pages = {path: slices_of(path, entity, top(db, "duty_station_code", 3), own[0], year) for path in PAGES}
    pages[f"/entity/{entity}"] = slices_of(f"/entity/{entity}", entity, own, own[0], year)

    log = Path(tempfile.mkstemp(prefix="browser-filters-", suffix=".log")[1])
    server, base = start_server(args.db, log)
    driver = browser()
    try:
        started = time.perf_counter()
        driver.get(f"{base}/login")
        driver.execute_script("document.getElementById('username').value = arguments[0];"
                              "document.getElementById('password').value = arguments[1];"
                              "document.querySelector('form').submit();", USER, PASSWORD)  # fmt: skip
        settle(driver, [], timeout=600)
        for path in pages:  # not timed: the server's start-up work, then each page once
            driver.get(f"{base}{path}")
            settle(driver, [], timeout=600)
        wait_idle(server.pid, timeout=600)
        print(f"warm-up (sign in, each page once, server idle): {time.perf_counter() - started:.0f} s", file=sys.stderr)
        timings, failed = measure(driver, base, pages, names, args.navigate, server)
    finally:
        driver.quit()
        server.terminate()
        server.wait(30)
        print(f"server log: {log}", file=sys.stderr)
    sql = reference(db, [pairs for slices in pages.values() for pairs in slices])
    how = "the filtered address opened" if args.navigate else "the last filter set in the filter bar's dropdown"
    report(f"{rows:,} activity rows in {args.db / 'bench.db'}; gunicorn, 1 worker x 4 threads; {how}; "
           "ms from the change to the last chart change, median / p95", list(pages), timings, sql, failed)  # fmt: skip
    if args.json:
        result = {"rows": rows, "navigate": args.navigate, "browser": timings, "sqlite3": sql, "failed": failed}
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

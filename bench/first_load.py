"""Benchmark: the overview's first load in headless Chromium, cold and warm, on loopback and a field link.

    .venv/bin/python bench/first_load.py [--runs 5]

Starts the app as production runs it (gunicorn, demo data in a fresh SQLite file), signs in, then
loads `/` and times navigation start -> the first chart drawn (a plotly SVG on the page), both as
WebDriver sees it (from the call that navigates to the poll that finds the chart, round trips to
chromedriver included) and in the page's own clock (a MutationObserver set up before the page's
scripts notes performance.now() when the chart appears), and adds up the bytes that crossed the
wire (Chromium's encodedDataLength of every response):
- cold: browser cache cleared first;
- warm: the same page again, cache kept;
- field: cold, with Chromium emulating a 2 Mbit/s link with a 300 ms round trip;
- a filter change on that field link: the overview loaded, then the gender filter set as the dropdown
  sets it, timed until the page below says "Female", with the callback requests it made counted.
Needs Debian's chromium and chromium-driver (as the browser tests). Run by hand; figures go in the notes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = Path(__file__).resolve().parent.parent
CHART = ".js-plotly-plot .main-svg"
PASSWORD = "bench-first-load-password"
FIELD_LINK = {"offline": False, "latency": 300, "downloadThroughput": 2_000_000 / 8, "uploadThroughput": 2_000_000 / 8}
LOOPBACK = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(folder: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "INSTANCE_DIR": str(folder), "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
           "PSEUDONYM_KEY": "bench", "SECRET_KEY": "bench-secret"}  # fmt: skip
    flask = [str(ROOT / ".venv/bin/flask"), "--app", "app:server"]
    subprocess.run([*flask, "load-demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*flask, "create-user", "bench", "--role", "viewer", "--password-stdin"], cwd=ROOT, env=env,
                   input=f"{PASSWORD}\n".encode(), check=True, capture_output=True)  # fmt: skip
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "--workers", "2", "--threads", "4", "--bind", f"127.0.0.1:{port}",
         "app:server"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.time() + 60
    while time.time() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the server did not start")


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)


def sign_in(driver: webdriver.Chrome, base: str) -> None:
    driver.get(f"{base}/login")
    driver.execute_script(
        "document.getElementById('username').value = 'bench';"
        "document.getElementById('password').value = arguments[0];"
        "document.querySelector('form').submit();",
        PASSWORD,
    )
    wait_for(driver, CHART, timeout=30)


def wait_for(driver: webdriver.Chrome, selector: str, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if driver.execute_script("return document.querySelector(arguments[0]) !== null", selector):
            return
        time.sleep(0.005)
    raise TimeoutError(selector)


def bytes_received(driver: webdriver.Chrome) -> int:
    total = 0
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.loadingFinished":
            total += int(message["params"].get("encodedDataLength", 0))
    return total


#: Run in every new page before its own scripts: note when the first chart appears, in the page's own
#: clock (milliseconds from the start of its navigation), free of the WebDriver round trips.
NOTE_FIRST_CHART = (
    "new MutationObserver((changes, observer) => {"
    f"  if (document.querySelector({json.dumps(CHART)})) {{"
    "    window.__firstChart = performance.now(); observer.disconnect(); }"
    "}).observe(document, {childList: true, subtree: true});"
)


def load(driver: webdriver.Chrome, url: str, *, cold: bool, network: dict[str, object]) -> tuple[float, float, int]:
    """Seconds from navigation to the first chart drawn (as WebDriver sees it, and in the page's own
    clock), and bytes received."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", network)
    if cold:
        driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    driver.get("about:blank")
    driver.get_log("performance")  # drop what came before
    started = time.perf_counter()
    driver.get(url)
    wait_for(driver, CHART, timeout=120)
    seconds = time.perf_counter() - started
    in_page = driver.execute_script("return window.__firstChart") / 1000
    time.sleep(0.5)  # let the last responses finish before counting bytes
    return seconds, in_page, bytes_received(driver)


#: The overview's line under its heading: the filters in words, once the page for them is drawn.
FILTERS_IN_WORDS = "return (document.querySelector('h1 + p') || {}).textContent || ''"


def filter_change(driver: webdriver.Chrome, base: str, network: dict[str, object]) -> tuple[float, int]:
    """Seconds from setting the gender filter (as the dropdown sets it) to the page drawn for it, on
    ``network``, and how many callback requests (``/_dash-update-component``) that took."""
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", LOOPBACK)
    driver.get(f"{base}/")
    wait_for(driver, CHART, timeout=60)
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", network)
    driver.get_log("performance")
    started = time.perf_counter()
    driver.execute_script("window.dash_clientside.set_props({type: 'filter', name: 'gender'}, {value: 'female'})")
    deadline = started + 60
    while "Female" not in driver.execute_script(FILTERS_IN_WORDS):
        if time.perf_counter() > deadline:
            raise TimeoutError("the filtered page")
        time.sleep(0.005)
    seconds = time.perf_counter() - started
    requests = 0
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requests += "/_dash-update-component" in message["params"]["request"]["url"]
    return seconds, requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="first-load-"))
    port = free_port()
    server = start_server(folder, port)
    base = f"http://127.0.0.1:{port}"
    driver = browser()
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": NOTE_FIRST_CHART})
        sign_in(driver, base)
        for label, cold, network in (("cold", True, LOOPBACK), ("warm", False, LOOPBACK),
                                     ("field link, cold", True, FIELD_LINK)):  # fmt: skip
            runs = [load(driver, f"{base}/", cold=cold, network=network) for _ in range(args.runs)]
            seconds, in_page = [s for s, _, _ in runs], [p for _, p, _ in runs]
            print(
                f"{label:<18} first chart median {statistics.median(seconds):.2f} s "
                f"(min {min(seconds):.2f}, max {max(seconds):.2f}); in the page's clock "
                f"{statistics.median(in_page):.2f} s ({min(in_page):.2f}-{max(in_page):.2f}); "
                f"bytes received median {statistics.median(b for _, _, b in runs) / 1e6:.2f} MB"
            )
        changes = [filter_change(driver, base, FIELD_LINK) for _ in range(args.runs)]
        seconds = [s for s, _ in changes]
        print(
            f"{'field link, filter':<18} page drawn for it median {statistics.median(seconds):.2f} s "
            f"(min {min(seconds):.2f}, max {max(seconds):.2f}); callback requests {sorted({n for _, n in changes})}"
        )
    finally:
        driver.quit()
        server.terminate()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

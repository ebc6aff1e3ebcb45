"""Benchmark: one large learning_activity file pushed through the data page in headless Chromium.

    .venv/bin/python bench/upload_browser.py --rows 780000     # about 100 MB

Starts the dashboard as its own process on a fresh SQLite file with reference data and an
uploader, signs in, drops the file into the page, waits for the preview and then the commit,
and reports the times and the server's peak resident memory (VmHWM). Run by hand.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.ingest import write_activity, write_reference  # noqa: E402

PASSWORD = "bench-password-long"
PORT = 8077


def flask(env: dict[str, str], *args: str, stdin: str | None = None) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app:server", *args], cwd=ROOT, env=env, input=stdin, text=True,
        check=True, capture_output=True,
    )  # fmt: skip


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_status(driver: webdriver.Chrome, statuses: tuple[str, ...], timeout: float) -> str:
    def reached(d):  # type: ignore[no-untyped-def]
        found = d.find_elements(By.ID, "data-job-status")
        status = found[0].get_attribute("data-status") if found else None
        return status if status in statuses else False

    return WebDriverWait(driver, timeout, poll_frequency=0.25).until(reached)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=780_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="upload-bench-"))
    env = {**os.environ, "INSTANCE_DIR": str(folder), "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
           "PORT": str(PORT), "PSEUDONYM_KEY": "bench"}  # fmt: skip
    entities, stations = write_reference(folder)
    activity = folder / "activity.csv"
    write_activity(activity, args.rows)
    size_mb = activity.stat().st_size / 1e6
    flask(env, "init-db")
    flask(env, "import-csv", "entities", str(entities))
    flask(env, "import-csv", "duty_stations", str(stations))
    flask(env, "create-user", "bench", "--role", "uploader", "--password-stdin", stdin=PASSWORD + "\n")
    server = subprocess.Popen(
        [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )  # noqa: S603
    time.sleep(4)
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--window-size=1400,1000"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options)
    try:
        base = f"http://127.0.0.1:{PORT}"
        driver.get(f"{base}/login?next=/data")
        driver.find_element(By.ID, "username").send_keys("bench")
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.ID, "sign-in").click()
        WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, "data-file"))
        start = time.perf_counter()
        driver.find_element(By.ID, "data-file").send_keys(str(activity))
        preview = wait_status(driver, ("valid", "rejected", "failed"), 1800)
        previewed = time.perf_counter() - start
        responsive = driver.execute_script("return document.readyState")
        committed = None
        if preview == "valid":
            driver.execute_script("document.getElementById('data-commit').click()")
            start_commit = time.perf_counter()
            outcome = wait_status(driver, ("loaded", "failed"), 1800)
            committed = time.perf_counter() - start_commit
        else:
            outcome = preview
        print(f"file: {args.rows:,} rows, {size_mb:.1f} MB")
        print(f"upload + preview (every row validated, dry run): {previewed:.1f} s -> {preview}")
        if committed is not None:
            print(f"commit: {committed:.1f} s -> {outcome}")
        print(f"page state while working: {responsive}")
        print(f"server peak RSS: {peak_rss_mib(server.pid):.0f} MiB")
    finally:
        driver.quit()
        server.terminate()


if __name__ == "__main__":
    main()

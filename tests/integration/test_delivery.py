"""How responses reach the browser: compressed, and safe when a fresh worker is hit by many at once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import brotli
import pytest
import requests
from flask import Flask

from server import delivery

ROOT = Path(__file__).resolve().parents[2]
PLOTLY = "/_dash-component-suites/plotly/package_data/plotly.min.js"
#: Dash 4.4.1's own bundles, without their fingerprints (Dash serves both forms).
BUNDLES = [
    "/_dash-component-suites/dash/deps/polyfill@7.12.1.min.js",
    "/_dash-component-suites/dash/deps/react@18.3.1.min.js",
    "/_dash-component-suites/dash/deps/react-dom@18.3.1.min.js",
    "/_dash-component-suites/dash/deps/prop-types@15.8.1.min.js",
    "/_dash-component-suites/dash/dash-renderer/build/dash_renderer.min.js",
    "/_dash-component-suites/dash/dcc/dash_core_components.js",
    "/_dash-component-suites/dash/html/dash_html_components.min.js",
    PLOTLY,
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def fresh_worker(tmp_path):  # type: ignore[no-untyped-def]
    """gunicorn with one worker that has served nothing yet."""
    port = free_port()
    env = {**os.environ, "INSTANCE_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}"}
    flask = [sys.executable, "-m", "flask", "--app", "app:server"]
    subprocess.run([*flask, "init-db"], cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603
    gunicorn = [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "8", "--bind", f"127.0.0.1:{port}"]
    server = subprocess.Popen([*gunicorn, "app:server"], cwd=ROOT, env=env, stderr=subprocess.PIPE)  # noqa: S603
    try:
        for _ in range(300):  # wait for the port only: any request would be the worker's first
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


def test_a_fresh_worker_serves_a_burst_of_first_requests(fresh_worker):
    # A browser asks for a dozen bundles at once; before the fix, those that arrived while Dash was
    # still setting itself up got 500 ("dash is not a registered library").
    urls = [f"{fresh_worker}{path}" for path in BUNDLES * 2] + [f"{fresh_worker}/login"]
    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        statuses = list(pool.map(lambda url: requests.get(url, timeout=60).status_code, urls))
    assert statuses == [200] * len(urls)


def test_bundles_and_page_data_go_out_compressed(fresh_worker):
    plain = requests.get(f"{fresh_worker}{PLOTLY}", headers={"Accept-Encoding": "identity"}, timeout=60)
    assert "Content-Encoding" not in plain.headers and len(plain.content) > 1_000_000
    for _ in range(2):  # compressed once, then served from the process's cache: the same bytes
        packed = requests.get(f"{fresh_worker}{PLOTLY}", headers={"Accept-Encoding": "br"}, stream=True, timeout=60)
        assert packed.headers["Content-Encoding"] == "br"
        body = packed.raw.read()
        assert len(body) < len(plain.content) / 3
        assert brotli.decompress(body) == plain.content
    # Page data is compressed per response, never served from that cache.
    login = requests.get(f"{fresh_worker}/login?next=/uptake", headers={"Accept-Encoding": "br"}, stream=True)
    assert login.headers["Content-Encoding"] == "br"
    assert b'value="/uptake"' in brotli.decompress(login.raw.read())
    other = requests.get(f"{fresh_worker}/login?next=/needs", headers={"Accept-Encoding": "br"}, stream=True)
    assert b'value="/needs"' in brotli.decompress(other.raw.read())


def test_made_up_bundle_urls_cannot_fill_the_memory():
    cache = delivery.ImmutableResponses()
    with Flask(__name__).test_request_context(PLOTLY):
        for n in range(delivery.KEEP_AT_MOST + 10):
            cache.set(f"br;/_dash-component-suites/plotly/package_data/plotly.v9m{n}.min.js", b"x")
    assert len(cache.kept) == delivery.KEEP_AT_MOST


def test_unchanged_files_are_not_asked_for_again(fresh_worker):
    # Dash links assets with their modification time (?m=), so a changed file gets a new URL.
    cached = requests.get(f"{fresh_worker}/assets/app.css?m=1796191814.94", timeout=60)
    assert cached.status_code == 200
    assert "no-cache" not in cached.headers["Cache-Control"]
    assert "max-age=31536000" in cached.headers["Cache-Control"]
    plain = requests.get(f"{fresh_worker}/assets/app.css", timeout=60)
    assert "max-age=31536000" not in plain.headers.get("Cache-Control", "")
    # plotly.js and dcc's dropdown and graph code have no fingerprint in their URL (Dash's loader asks
    # for them so): run at once, checked after; the index page loads them from the start.
    for path in delivery.EARLY_SCRIPTS:
        early = requests.get(f"{fresh_worker}{path}", timeout=60)
        assert early.status_code == 200 and len(early.content) > 10_000, path
        assert "stale-while-revalidate=" in early.headers["Cache-Control"], path
        assert f'<script async src="{path}">' in delivery.with_early_scripts("{%css%}")
    assert PLOTLY in delivery.EARLY_SCRIPTS


def test_the_graphs_get_the_partial_plotly_bundle_and_keep_it(fresh_worker):
    sent = requests.get(f"{fresh_worker}{PLOTLY}", headers={"Accept-Encoding": "br"}, timeout=60)
    assert sent.content == delivery.PLOTLY_BUNDLE.read_bytes()  # requests undoes the compression
    assert sent.content.startswith(b"/*! plotly.js 4.1.1, partial bundle")
    assert "no-cache" not in sent.headers["Cache-Control"]
    # The compressed copy's tag ("...:br") is what the browser sends back: the file did not change.
    again = requests.get(
        f"{fresh_worker}{PLOTLY}", headers={"Accept-Encoding": "br", "If-None-Match": sent.headers["ETag"]}, timeout=60
    )
    assert again.status_code == 304 and not again.content
    stale = requests.get(f"{fresh_worker}{PLOTLY}", headers={"If-None-Match": '"0123:br"'}, timeout=60)
    assert stale.status_code == 200 and stale.content == sent.content


def test_the_vendored_plotly_bundle_is_the_version_plotly_py_expects():
    from plotly.offline import get_plotlyjs_version

    header = delivery.PLOTLY_BUNDLE.read_bytes()[:100].decode()
    assert header.startswith(f"/*! plotly.js {get_plotlyjs_version()}, partial bundle"), header

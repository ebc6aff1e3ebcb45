"""How the pages' bytes reach the browser: compressed, and plotly.js fetched from the start.

Responses are compressed with flask-compress: brotli where the browser takes it, else gzip. Dash's
bundles (plotly.js alone is 1.4 MB, as the partial bundle sent here) never change while the process
runs, so each is compressed once and kept; page data is compressed per response at a quality that
costs about a millisecond.

Dash fetches plotly.js only once the first graph arrives, after three round trips, then spends a
few hundred milliseconds running it. The index page loads it at once, ``async`` (dcc's graphs use
``window.Plotly`` when it is there): on a slow link its download overlaps everything else, and on a
fast one it runs while the page waits for its data.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from flask import Flask, Request, Response, request, send_file
from flask_compress import Compress

#: URL prefixes whose responses never change for a given URL (Dash fingerprints them).
IMMUTABLE = ("/_dash-component-suites/",)


#: Bundles kept compressed at most (Dash serves about 25). Bounded because the bundle URLs need no
#: sign-in and any made-up fingerprint in them serves the same file under a new URL.
KEEP_AT_MOST = 64


class ImmutableResponses:
    """flask-compress's cache, holding only responses of immutable URLs (never page data)."""

    def __init__(self) -> None:
        self.kept: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.kept.get(key)

    def set(self, key: str, value: bytes) -> None:
        if _immutable(request) and (key in self.kept or len(self.kept) < KEEP_AT_MOST):
            self.kept[key] = value


def _immutable(req: Request) -> bool:
    return req.method == "GET" and req.path.startswith(IMMUTABLE)


def _cache_key(req: Request) -> str:
    return req.full_path if _immutable(req) else ""


#: Where Dash and dcc's graphs load plotly.js from.
PLOTLY_URL = "/_dash-component-suites/plotly/package_data/plotly.min.js"
#: Loaded as soon as the index page arrives: the graphs' library, which Dash would load last, and
#: the code of dcc's dropdowns and graphs, which dcc fetches only once a page holding them arrives
#: (webpack takes a chunk that is already there without asking for it again).
EARLY_SCRIPTS = (
    PLOTLY_URL,
    "/_dash-component-suites/dash/dcc/async-dropdown.js",
    "/_dash-component-suites/dash/dcc/async-graph.js",
)
#: What is sent at ``PLOTLY_URL`` instead of plotly.py's full plotly.js (4.8 MB, 35 trace types): the
#: same version with only the trace types the charts draw (1.4 MB), built by ``vendor/plotly/build.sh``.
#: The browser reads and runs a third as much on every page load.
PLOTLY_BUNDLE = Path(__file__).resolve().parent.parent / "vendor" / "plotly" / "plotly-dashboard.min.js"
BUNDLED_TRACES = frozenset({"bar", "heatmap", "scatter", "scattergeo"})


def register_plotly_bundle(server: Flask) -> None:
    """Serve ``PLOTLY_BUNDLE`` at ``PLOTLY_URL`` (a rule without variables, so it wins over Dash's)."""
    server.add_url_rule(PLOTLY_URL, "plotly_bundle", _plotly_bundle)


def _plotly_bundle() -> Response:
    tag = _bundle_tag()
    # flask-compress tags a compressed copy "<tag>:br": the browser asks again with that.
    held = {value.split(":")[0] for value in request.if_none_match.as_set(include_weak=True)}
    if tag in held:
        return Response(status=304, headers={"ETag": f'"{tag}"'})
    return send_file(PLOTLY_BUNDLE, mimetype="text/javascript", etag=tag, conditional=False)


@functools.cache
def _bundle_tag() -> str:
    return hashlib.sha256(PLOTLY_BUNDLE.read_bytes()).hexdigest()[:32]


def with_early_scripts(index_string: str) -> str:
    """Dash's index page template with an ``async`` script tag for each of ``EARLY_SCRIPTS``."""
    links = "".join(f'<script async src="{src}"></script>' for src in EARLY_SCRIPTS)
    if "{%css%}" not in index_string:
        raise ValueError("the index template has no {%css%} slot")
    return index_string.replace("{%css%}", "{%css%}" + links, 1)


#: A year: what a response whose URL changes with its content may be cached for.
FOREVER = 31_536_000
#: How long the browser may run a bundle in hand while it checks in the background whether the bundle
#: changed (``EARLY_SCRIPTS`` have no fingerprint in their URL: Dash's own loader asks for them so).
RECHECK_IN_BACKGROUND = 30 * 24 * 3600


def register_compression(server: Flask) -> None:
    server.config.update(
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_BR_LEVEL=5,
        COMPRESS_CACHE_BACKEND=ImmutableResponses,
        COMPRESS_CACHE_KEY=_cache_key,
    )
    Compress(server)
    server.after_request(_cache_headers)


def _cache_headers(response: Response) -> Response:
    """Let the browser reuse what cannot have changed instead of asking again on every visit.

    Files from ``assets/`` linked with their modification time (``?m=``, as Dash links them) are
    cached for a year: a changed file gets a new URL. The early scripts are served from the cache at
    once and checked afterwards (``stale-while-revalidate``): after an upgrade the previous plotly.js
    runs for one more page view, which dcc's graphs accept, and a reload no longer waits for a round
    trip about a large file that did not change.
    """
    if request.method != "GET" or response.status_code not in (200, 304):
        return response
    if request.path.startswith("/assets/") and "m" in request.args:
        response.cache_control.no_cache = None  # Flask sends files as "no-cache" by default
        response.cache_control.public = True
        response.cache_control.max_age = FOREVER
    elif request.path in EARLY_SCRIPTS:
        response.cache_control.no_cache = None
        response.cache_control.public = True
        response.cache_control.max_age = 0
        response.cache_control.stale_while_revalidate = RECHECK_IN_BACKGROUND
    return response

"""What Dash does on each worker's first request, made light and safe under concurrency.

On its first request a Dash worker sets itself up (registers its script bundles) and calls every
page's layout to build ``validation_layout``, which it ships inside the index page. Two problems:
- with data, every page rendered was 2 MB in the index page and, at scale, seconds of queries;
- requests arriving while the setup runs (a browser asks for a dozen bundles at once) found no
  bundle registered and got 500.
So the first request holds the others back until the setup hooks are done, and during those hooks
each page's layout answers with its data-free skeleton. Every callback here uses ids of the shell,
of a page's skeleton or pattern-matching ids, so that is all the validation needs.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

import dash
import flask
from dash import html

_SETUP = "dash_setup"
_HOLDS_LOCK = "holds_first_request_lock"


def prepare_first_request(app: dash.Dash) -> None:
    lock, ready = threading.Lock(), threading.Event()
    for page in dash.page_registry.values():
        page["layout"] = _skeleton_during_setup(page["layout"], page.get("skeleton"))

    def open_setup() -> None:
        flask.g.setdefault(_SETUP, True)
        if not ready.is_set():
            lock.acquire()
            flask.g.setdefault(_HOLDS_LOCK, True)

    def close_setup(*_: object) -> None:
        flask.g.pop(_SETUP, None)
        if flask.g.pop(_HOLDS_LOCK, False):
            ready.set()
            lock.release()

    hooks = app.server.before_request_funcs.setdefault(None, [])
    hooks.insert(0, open_setup)  # before Dash's own setup hooks
    app.server.before_request(close_setup)  # after them
    app.server.teardown_request(close_setup)  # when a check answered early instead


def in_setup() -> bool:
    """Whether this request is the one setting the worker up (pages then answer with skeletons)."""
    return bool(flask.g.get(_SETUP))


def _skeleton_during_setup(layout: Any, skeleton: Any) -> Any:
    @functools.wraps(layout)
    def page_layout(**query: Any) -> Any:
        if in_setup():
            return skeleton() if skeleton else html.Div()
        return layout(**query)

    return page_layout

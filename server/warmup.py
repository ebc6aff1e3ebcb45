"""Dash's once-per-process setup, run before a worker takes its first request.

Dash sets a process up on the first request it serves: it registers its script bundles and the
page router, and calls every page's layout to learn the ids its callbacks may use. Requests that
arrive while that runs find no bundle registered and get 500, and a browser asks for a dozen
bundles at once. Running Dash's ``before_request`` hooks here, in a request context of our own,
leaves nothing to race. Nobody is signed in here, so the pages answer without data
(``components.page_context.page_layout``).

Called from ``gunicorn.conf.py`` (``post_worker_init``), before ``app.run`` in ``app.py``, and by
the browser tests' server.
"""

from __future__ import annotations

from dash import Dash


def set_up_now(app: Dash) -> None:
    """Run Dash's setup for ``app`` now (the sign-in check that follows it refuses this anonymous request)."""
    with app.server.test_request_context("/"):
        app.server.preprocess_request()

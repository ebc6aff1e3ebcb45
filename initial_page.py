"""The page the browser opened, rendered into the layout it fetches first, instead of one round trip later.

Dash's pages put an empty container in the layout. Once the layout is drawn, ``dcc.Location`` sets
its pathname and search, which runs the page router, whose answer is drawn, and only then do the
page's own controls and graphs mount (the filter bar and the graphs' click handlers then call two
callbacks more, which change nothing). Three round trips and a second React pass before any chart.

The layout is fetched by the page it builds, so the request's ``Referer`` is that page's address.
``page_container`` renders the page at that address with the router's own rules, and presets the
location's pathname, search and href to the values ``dcc.Location`` would set: it then sets none,
so the router, which runs only on a change, stays idle, and the page's controls are part of the
first layout, which Dash's ``prevent_initial_call`` covers. Without a usable ``Referer`` (a
browser or proxy that strips it, a page that fails to render, or a worker still setting itself up),
the container is Dash's own, empty, and the router renders the page as before.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import dash
import flask
from dash import dcc, html
from dash._pages import _parse_query_string, _path_to_page  # the router's own rules (dash/dash.py)
from werkzeug.exceptions import HTTPException

from first_request import in_setup

log = logging.getLogger(__name__)

# Dash's ids for the parts of ``dash.page_container`` (dash/dash.py), which its router reads and writes.
LOCATION, CONTENT, STORE, DUMMY = "_pages_location", "_pages_content", "_pages_store", "_pages_dummy"


def page_container(app: dash.Dash) -> html.Div:
    """``dash.page_container`` holding the page of this request's ``Referer`` (or empty, as Dash's)."""
    address = _same_origin_referrer()
    if address is None or in_setup():
        return dash.page_container
    parts = urlsplit(address)
    search = f"?{parts.query}" if parts.query else ""
    try:
        content, title = _render(app, parts.path, search)
    except HTTPException:  # refused (signed out, not allowed): the router answers it as it always has
        return dash.page_container
    except Exception:  # the router will render it, and report the error where it always has
        log.exception("rendering %s into the layout failed; the page router renders it instead", parts.path)
        return dash.page_container
    return html.Div(
        [
            dcc.Location(id=LOCATION, refresh="callback-nav", pathname=parts.path, search=search, href=address),
            html.Div(content, id=CONTENT, disable_n_clicks=True),
            dcc.Store(id=STORE, data={"title": title}),
            html.Div(id=DUMMY, disable_n_clicks=True),
        ]
    )


def _same_origin_referrer() -> str | None:
    if not flask.has_request_context():
        return None
    referrer = flask.request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if f"{parts.scheme}://{parts.netloc}/" != flask.request.host_url:
        return None
    return referrer.split("#", 1)[0]


def _render(app: dash.Dash, pathname: str, search: str) -> tuple[Any, str]:
    """What Dash's page router answers for this location: the page's layout and its title."""
    page, path_variables = _path_to_page(app.strip_relative_path(pathname))
    if not page:
        return html.H1("404 - Page not found"), app.title
    layout, title = page.get("layout", ""), page["title"]
    if callable(layout):
        layout = layout(**{**(path_variables or {}), **_parse_query_string(search)})
    if callable(title):
        title = title(**(path_variables or {}))
    return layout, title

"""The filter bar: every filter lives in the URL query string, so a view is a shareable link.

Each control has the id ``{"type": FILTER, "name": <query key>}``; one callback, in the browser
(``assets/url_state.js``), turns their values into the app location's query string, and the pages
router re-renders the page from it, so back and forward restore filters exactly.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import ALL, ClientsideFunction, Input, Output, State, clientside_callback, dcc, html

from data_access.reads.filters import Filters

FILTER = "filter"
#: The app's own location (in the shell). Writing its search or href adds a history entry and tells every
#: dcc.Location, so Dash's page router renders the page for the new address.
PAGE_URL = "page-url"
CLEAR_FILTERS = "filter-clear"

#: query key -> label, in the order the bar shows them.
GLOBAL_FILTERS = {
    "from_month": "From",
    "to_month": "To",
    "entity": "Entity",
    "duty_station": "Duty station",
    "staff_category": "Staff category",
    "gender": "Gender",
    "platform": "Platform",
}
PAGE_FILTERS = {
    "cycle": "LNA cycle",
    "report_type": "Report type",
    "learning_need": "Learning need",
    "programme": "Programme",
}


def _control_value(filters: Filters, name: str) -> str | None:
    if name == "from_month":
        return filters.date_from.strftime("%Y-%m") if filters.date_from else None
    if name == "to_month":
        return filters.date_to.strftime("%Y-%m") if filters.date_to else None
    return getattr(filters, name)


def filter_bar(
    filters: Filters,
    options: dict[str, list[tuple[str, str]]],
    *,
    extra: tuple[str, ...] = (),
    hide: tuple[str, ...] = (),
    clear_href: str = "/",
) -> html.Div:
    """Dropdowns for the global filters (minus ``hide``) and the page's ``extra`` ones."""
    names = [name for name in GLOBAL_FILTERS if name not in hide] + list(extra)
    labels = {**GLOBAL_FILTERS, **PAGE_FILTERS}
    columns = []
    for name in names:
        choices = options["months"] if name.endswith("_month") else options.get(name, [])
        control = dcc.Dropdown(
            id={"type": FILTER, "name": name},
            options=[{"value": value, "label": label} for value, label in choices],
            value=_control_value(filters, name),
            placeholder="All" if not name.endswith("_month") else ("Start" if name == "from_month" else "Latest"),
            clearable=True,
            searchable=True,
        )
        columns.append(
            dbc.Col(
                [html.Label(labels[name], htmlFor=f"filter-{name}", className="form-label small mb-0"), control],
                xs=6,
                md=4,
                lg=True,
                className="mb-2",
            )
        )
    clear = dbc.Col(
        dcc.Link("Clear filters", href=clear_href, id=CLEAR_FILTERS, className="btn btn-outline-secondary btn-sm"),
        xs="auto",
        className="mb-2 d-flex align-items-end",
    )
    return html.Div(dbc.Row([*columns, clear], className="g-2"), className="filter-bar mb-3", role="search")


# A filter change and a click on a chart only rewrite the address: done in the browser
# (assets/url_state.js), so the page router's request is the one round trip they make.
clientside_callback(
    ClientsideFunction("url_state", "filtersToUrl"),
    Output(PAGE_URL, "search"),
    Input({"type": FILTER, "name": ALL}, "value"),
    State({"type": FILTER, "name": ALL}, "id"),
    State(PAGE_URL, "search"),
    prevent_initial_call=True,
)


CLICK_GRAPH = "click-graph"
#: What clicking a point does: filter the page by the point's code, or open the entity profile
#: (``assets/url_state.js`` does it; a browser test checks it knows each of these).
CLICK_ACTIONS = ("entity", "duty_station", "platform", "learning_need", "programme")


def click_graph_id(action: str, view: str) -> dict[str, str]:
    return {"type": CLICK_GRAPH, "action": action, "view": view}


clientside_callback(
    ClientsideFunction("url_state", "clickToFilter"),
    Output(PAGE_URL, "href"),
    Input({"type": CLICK_GRAPH, "action": ALL, "view": ALL}, "clickData"),
    State(PAGE_URL, "pathname"),
    State(PAGE_URL, "search"),
    prevent_initial_call=True,
)

"""The filter bar: every filter lives in the URL query string, so a view is a shareable link.

Each control has the id ``{"type": FILTER, "name": <query key>}``; one callback turns their
values into the page location's query string, and the pages router re-renders the page
from it, so back and forward restore filters exactly.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any
from urllib.parse import parse_qsl, urlencode

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from data_access.filters import Filters

FILTER = "filter"
PAGES_LOCATION = "_pages_location"  # dash.page_container's own dcc.Location
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


def month_bounds(month: str | None, *, end: bool) -> str | None:
    """``2024-09`` -> ``2024-09-01`` (start) or ``2024-09-30`` (end); anything else -> None."""
    try:
        year, number = (int(part) for part in str(month).split("-"))
        day = calendar.monthrange(year, number)[1] if end else 1
        return dt.date(year, number, day).isoformat()
    except (TypeError, ValueError):
        return None


def search_for(values: list[Any], ids: list[dict[str, str]], search: str | None) -> str:
    """The query string after the filter controls changed (other keys in ``search`` are kept)."""
    query = dict(parse_qsl((search or "").lstrip("?")))
    for control, value in zip(ids, values, strict=True):
        name = control["name"]
        key, value = (
            ("from", month_bounds(value, end=False))
            if name == "from_month"
            else ("to", month_bounds(value, end=True))
            if name == "to_month"
            else (name, value)
        )
        if value in (None, "", []):
            query.pop(key, None)
        else:
            query[key] = str(value)
    return f"?{urlencode(query)}" if query else ""


@callback(
    Output(PAGES_LOCATION, "search"),
    Input({"type": FILTER, "name": ALL}, "value"),
    State({"type": FILTER, "name": ALL}, "id"),
    State(PAGES_LOCATION, "search"),
    prevent_initial_call=True,
)
def filters_to_url(values: list[Any], ids: list[dict[str, str]], search: str | None) -> str:
    # Dash calls this when a page's filter bar appears too (its controls join the ALL pattern): the
    # address is then left alone, so nothing that reads it (the page, the menu's links) runs again.
    found = search_for(values, ids, search)
    return no_update if found == (search or "") else found


CLICK_GRAPH = "click-graph"
#: What clicking a point does: filter the page by the point's code, or open the entity profile.
CLICK_ACTIONS = ("entity", "duty_station", "platform", "learning_need", "programme")


def click_graph_id(action: str, view: str) -> dict[str, str]:
    return {"type": CLICK_GRAPH, "action": action, "view": view}


def href_after_click(action: str, click: dict[str, Any] | None, pathname: str, search: str | None) -> str | None:
    """Where a click on a point leads: an entity opens its profile, anything else filters this page."""
    points = (click or {}).get("points") or []
    if not points or action not in CLICK_ACTIONS:
        return None
    code = points[0].get("customdata")
    if isinstance(code, list):
        code = code[0] if code else None
    if not isinstance(code, str) or not code:
        return None
    query = dict(parse_qsl((search or "").lstrip("?")))
    if action == "entity":
        query.pop("entity", None)
        rest = f"?{urlencode(query)}" if query else ""
        return f"/entity/{code}{rest}"
    query[action] = code
    return f"{pathname}?{urlencode(query)}"


@callback(
    Output(PAGES_LOCATION, "href"),
    Input({"type": CLICK_GRAPH, "action": ALL, "view": ALL}, "clickData"),
    State(PAGES_LOCATION, "pathname"),
    State(PAGES_LOCATION, "search"),
    prevent_initial_call=True,
)
def click_to_filter(clicks: list[Any], pathname: str, search: str | None) -> str:
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict):
        return no_update
    click = next((c for c, spec in zip(clicks, ctx.inputs_list[0], strict=True) if spec["id"] == trigger), None)
    href = href_after_click(trigger["action"], click, pathname, search)
    return no_update if href is None else href

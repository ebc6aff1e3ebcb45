"""The application shell: navigation bar and page container."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, clientside_callback, dcc, html

from components.filters import PAGE_URL
from data_access.users import ROLES

APP_TITLE = "Staff learning dashboard"
NAV_LINK = "nav-link"


def user_menu(username: str | None, role: str | None) -> html.Div | None:
    """Who is signed in, and a sign-out button (a plain form POST, so it works without scripts)."""
    if username is None:
        return None
    return html.Form(
        [
            html.Span(f"{username} ({role})", className="navbar-text me-2 small", id="signed-in-user"),
            html.Button("Sign out", type="submit", className="btn btn-outline-light btn-sm", id="sign-out"),
        ],
        action="/logout",
        method="POST",
        className="d-flex align-items-center ms-lg-auto",
    )


def allows(role: str, needed: str) -> bool:
    return ROLES.index(role) >= ROLES.index(needed)


def create_navbar(pages: Iterable[dict[str, Any]], username: str | None = None, role: str | None = None) -> dbc.Navbar:
    links = [
        dbc.NavLink(
            page["name"],
            href=page["relative_path"],
            active="partial" if page["relative_path"] != "/" else "exact",
            id={"type": NAV_LINK, "path": page["relative_path"]},
        )
        for page in pages
        if page.get("nav", True) and (page.get("role") is None or (role is not None and allows(role, page["role"])))
    ]
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand(APP_TITLE, href="/"),
                dbc.NavbarToggler(id="navbar-toggler"),
                dbc.Collapse(
                    [dbc.Nav(links, navbar=True), user_menu(username, role)], id="navbar-collapse", navbar=True
                ),
            ],
            fluid=True,
        ),
        color="primary",
        dark=True,
        className="mb-3",
    )


def create_appshell(pages: Iterable[dict[str, Any]], username: str | None = None, role: str | None = None) -> html.Div:
    """The navigation bar over Dash's page container, and the location the filters write."""
    return html.Div(
        [
            dcc.Location(id=PAGE_URL, refresh="callback-nav"),
            create_navbar(pages, username, role),
            html.Main(dbc.Container(dash.page_container, fluid=True, className="pb-4"), id="main"),
        ]
    )


# Every page link keeps the current filters, so moving between pages keeps the slice. In the browser:
# no round trip, on load or after a filter change. The links are drawn with their bare paths first,
# which dbc's NavLink keeps for marking the current page (a query string there would unmark it).
clientside_callback(
    "(search, ids) => ids.map(id => id.path + (search || ''))",
    Output({"type": NAV_LINK, "path": ALL}, "href"),
    Input(PAGE_URL, "search"),
    State({"type": NAV_LINK, "path": ALL}, "id"),
)


@callback(
    Output("navbar-collapse", "is_open"),
    Input("navbar-toggler", "n_clicks"),
    State("navbar-collapse", "is_open"),
    prevent_initial_call=True,
)
def toggle_navbar(_clicks: int | None, is_open: bool | None) -> bool:
    return not is_open

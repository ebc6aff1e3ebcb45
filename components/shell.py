"""The application shell: navigation bar and page container."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import html

APP_TITLE = "Staff learning dashboard"


def create_navbar(pages: Iterable[dict[str, Any]]) -> dbc.Navbar:
    links = [dbc.NavLink(page["name"], href=page["relative_path"], active="exact") for page in pages]
    return dbc.Navbar(
        dbc.Container([dbc.NavbarBrand(APP_TITLE, href="/"), dbc.Nav(links, navbar=True)], fluid=True),
        color="primary",
        dark=True,
        className="mb-3",
    )


def create_appshell(pages: Iterable[dict[str, Any]]) -> html.Div:
    return html.Div([create_navbar(pages), dbc.Container(dash.page_container, fluid=True)])

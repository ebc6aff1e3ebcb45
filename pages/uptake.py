"""Uptake: learners, completers, completions and reach per platform, entity and duty station, over time."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

from components import charts
from components.filters import click_graph_id, filter_bar
from components.page_context import PageContext, page_layout

dash.register_page(__name__, path="/uptake", name="Uptake", title="Uptake of learning platforms", order=2)

UPTAKE_MAP = click_graph_id("duty_station", "uptake_by_duty_station")
TOP_DUTY_STATIONS = 25
UPTAKE_SERIES = {"learners": "Learners", "completers": "Completers", "completions": "Completions"}


def _reach(page: PageContext, view: str, category: str, title: str, action: str) -> dbc.Card:
    figure = charts.reach(page.view(view), category, min_cell=page.min_cell)
    return page.card(click_graph_id(action, view), title, view, figure, note="Click a bar to drill down.")


def layout(**query: str) -> html.Div:
    return page_layout(content, query)


def content(page: PageContext) -> html.Div:
    stations = page.view("uptake_by_duty_station")
    top_stations = stations.head(TOP_DUTY_STATIONS)
    return html.Div(
        [
            html.H1("Uptake of learning platforms", className="h3"),
            html.P(page.describe(), className="text-muted"),
            filter_bar(page.filters, page.options, clear_href="/uptake"),
            dbc.Row(
                [
                    dbc.Col(
                        page.card(
                            click_graph_id("platform", "uptake_by_platform"),
                            "Per platform",
                            "uptake_by_platform",
                            charts.count_bars(
                                page.view("uptake_by_platform"), "platform", UPTAKE_SERIES, min_cell=page.min_cell
                            ),
                            note="Click a platform to filter by it.",
                        ),
                        lg=6,
                        className="mb-3",
                    ),
                    dbc.Col(
                        page.card(
                            "uptake-location",
                            "Headquarters and field: reach",
                            "uptake_by_location",
                            charts.reach(page.view("uptake_by_location"), "location", min_cell=page.min_cell),
                        ),
                        lg=6,
                        className="mb-3",
                    ),
                    dbc.Col(
                        page.card(
                            "uptake-trend",
                            "Learners enrolling per month, by platform",
                            "uptake_by_month",
                            charts.monthly_lines(
                                page.view("uptake_by_month"),
                                "learners_enrolling",
                                min_cell=page.min_cell,
                                label="learners enrolling",
                            ),
                        ),
                        lg=12,
                        className="mb-3",
                    ),
                    dbc.Col(
                        page.card(
                            UPTAKE_MAP,
                            "Duty stations: learners (size) and reach (colour)",
                            "uptake_by_duty_station",
                            charts.duty_station_map(stations, min_cell=page.min_cell),
                            note="Click a duty station to filter by it.",
                        ),
                        lg=12,
                        className="mb-3",
                    ),
                    dbc.Col(
                        _reach(page, "uptake_by_entity", "entity", "Reach per entity", "entity"),
                        lg=6,
                        className="mb-3",
                    ),
                    dbc.Col(
                        page.card(
                            click_graph_id("duty_station", "uptake_by_duty_station_top"),
                            f"The {TOP_DUTY_STATIONS} duty stations with most learners",
                            "uptake_by_duty_station",
                            charts.count_bars(
                                top_stations,
                                "duty_station",
                                {"learners": "Learners", "completers": "Completers"},
                                min_cell=page.min_cell,
                                labels=top_stations["name"].fillna(top_stations["duty_station"]).tolist(),
                            ),
                            note="Click a duty station to filter by it; the table lists all of them.",
                        ),
                        lg=6,
                        className="mb-3",
                    ),
                ]
            ),
        ]
    )

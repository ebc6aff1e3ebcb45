"""Uptake: learners, completers, completions and reach per platform, entity and duty station, over time."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

from components import charts
from components.filters import click_graph_id, filter_bar
from components.page_context import PageContext, page_layout
from components.sections import grid, heading, platforms_card

dash.register_page(__name__, path="/uptake", name="Uptake", title="Uptake of learning platforms", order=2)

UPTAKE_MAP = click_graph_id("duty_station", "uptake_by_duty_station")
TOP_DUTY_STATIONS = 25


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
            *heading("Uptake of learning platforms", page.describe()),
            filter_bar(page.filters, page.options, clear_href="/uptake"),
            grid(
                (platforms_card(page, "Per platform"), 6),
                (
                    page.card(
                        "uptake-location",
                        "Headquarters and field: reach",
                        "uptake_by_location",
                        charts.reach(page.view("uptake_by_location"), "location", min_cell=page.min_cell),
                    ),
                    6,
                ),
                (
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
                    12,
                ),
                (
                    page.card(
                        UPTAKE_MAP,
                        "Duty stations: learners (size) and reach (colour)",
                        "uptake_by_duty_station",
                        charts.duty_station_map(stations, min_cell=page.min_cell),
                        note="Click a duty station to filter by it.",
                    ),
                    12,
                ),
                (
                    _reach(page, "uptake_by_entity", "entity", "Reach per entity", "entity"),
                    6,
                ),
                (
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
                    6,
                ),
            ),
        ]
    )

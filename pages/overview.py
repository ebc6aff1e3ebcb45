"""Overview: KPIs against targets, uptake per platform, top learning needs, leadership completion, trends."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

from components import charts
from components.filters import filter_bar
from components.kpi import kpi_card
from components.page_context import PageContext, page_layout
from components.sections import grid, heading, people_cards, platforms_card, programmes_card, target_row, top_needs_card
from data_access.reads.kpis import staff_figures

dash.register_page(__name__, path="/", name="Overview", title="Overview", order=0)

OVERVIEW_CARDS = "overview-cards"
OVERVIEW_TARGETS = "overview-targets"
TOP_NEEDS = 8
ALL_COUNTS = {
    "learners": "Learners",
    "completers": "Completers",
    "activities": "Activities",
    "completions": "Completions",
}


def headline_cards(page: PageContext) -> list[dbc.Card]:
    figures = staff_figures(page.engine, page.filters)
    staff, learners, completers = people_cards(page, figures)
    return [
        staff,
        kpi_card("Entities", f"{figures['entities']:,}", "with staff in the latest snapshot"),
        kpi_card("Duty stations", f"{figures['duty_stations']:,}", "with staff in the latest snapshot"),
        learners,
        completers,
    ]


def layout(**query: str) -> html.Div:
    return page_layout(content, query)


def content(page: PageContext) -> html.Div:
    year = int(page.view("kpi_actuals").iloc[0]["year"])
    trend = charts.monthly_lines(
        page.view("completions_by_month"), "completions", min_cell=page.min_cell, label="completions"
    )
    return html.Div(
        [
            *heading("Staff learning at a glance", page.describe()),
            filter_bar(page.filters, page.options, clear_href="/"),
            dbc.Row(
                [dbc.Col(card, xs=6, md=4, xl=True, className="mb-3") for card in headline_cards(page)],
                id=OVERVIEW_CARDS,
            ),
            html.H2(f"Key performance indicators against targets, {year}", className="h5 mt-2"),
            target_row(page, OVERVIEW_TARGETS),
            grid(
                (
                    platforms_card(
                        page, "Learning platforms: learners, completers, activities and completions", ALL_COUNTS
                    ),
                    6,
                ),
                (page.card("overview-trend", "Completions per month, by platform", "completions_by_month", trend), 6),
                (programmes_card(page, "Leadership programmes: completion rate and graduates"), 6),
                (top_needs_card(page, TOP_NEEDS, by_area=True), 6),
            ),
        ]
    )

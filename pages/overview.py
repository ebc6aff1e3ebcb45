"""Overview: KPIs against targets, uptake per platform, top learning needs, leadership completion, trends."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

from components import charts
from components.filters import click_graph_id, filter_bar
from components.kpi import kpi_card, target_card
from components.page_context import PageContext, page_layout
from components.theme import count_text
from data_access.reads.kpis import staff_figures
from data_access.reads.targets import kpi_status_records

dash.register_page(__name__, path="/", name="Overview", title="Overview", order=0)

OVERVIEW_CARDS = "overview-cards"
OVERVIEW_TARGETS = "overview-targets"
TOP_NEEDS = 8


def headline_cards(page: PageContext) -> list[dbc.Card]:
    total = page.view("uptake_total").iloc[0]
    staff = staff_figures(page.engine, page.filters)
    return [
        kpi_card("Staff (headcount)", count_text(total["headcount"], page.min_cell), f"as of {staff['as_of_date']}"),
        kpi_card("Entities", f"{staff['entities']:,}", "with staff in the latest snapshot"),
        kpi_card("Duty stations", f"{staff['duty_stations']:,}", "with staff in the latest snapshot"),
        kpi_card("Learners", count_text(total["learners"], page.min_cell), "on any platform in the period"),
        kpi_card("Completers", count_text(total["completers"], page.min_cell), "completed a course in the period"),
    ]


def target_cards(page: PageContext) -> list[dbc.Card]:
    targets = kpi_status_records(page.engine, page.filters, page.view("kpi_actuals"))
    return [target_card(**row) for row in targets]


def layout(**query: str) -> html.Div:
    return page_layout(content, query)


def content(page: PageContext) -> html.Div:
    platforms = page.view("uptake_by_platform")
    needs = page.view("needs_by_need").head(TOP_NEEDS)
    programmes = page.view("programme_summary")
    months = page.view("uptake_by_month")
    targets = target_cards(page)
    year = int(page.view("kpi_actuals").iloc[0]["year"])
    return html.Div(
        [
            html.H1("Staff learning at a glance", className="h3"),
            html.P(page.describe(), className="text-muted"),
            filter_bar(page.filters, page.options, clear_href="/"),
            dbc.Row(
                [dbc.Col(card, xs=6, md=4, xl=True, className="mb-3") for card in headline_cards(page)],
                id=OVERVIEW_CARDS,
            ),
            html.H2(f"Key performance indicators against targets, {year}", className="h5 mt-2"),
            dbc.Row(
                [dbc.Col(card, xs=12, sm=6, lg=3, className="mb-3") for card in targets]
                or [dbc.Col(html.P("No KPI targets uploaded for this year.", className="text-muted"))],
                id=OVERVIEW_TARGETS,
            ),
            dbc.Row(
                [
                    dbc.Col(
                        page.card(
                            click_graph_id("platform", "uptake_by_platform"),
                            "Learning platforms: learners, completers, activities and completions",
                            "uptake_by_platform",
                            charts.count_bars(
                                platforms,
                                "platform",
                                {
                                    "learners": "Learners",
                                    "completers": "Completers",
                                    "activities": "Activities",
                                    "completions": "Completions",
                                },
                                min_cell=page.min_cell,
                            ),
                            note="Click a platform to filter by it.",
                        ),
                        lg=6,
                        className="mb-3",
                    ),
                    dbc.Col(
                        page.card(
                            "overview-trend",
                            "Completions per month, by platform",
                            "uptake_by_month",
                            charts.monthly_lines(months, "completions", min_cell=page.min_cell, label="completions"),
                        ),
                        lg=6,
                        className="mb-3",
                    ),
                    dbc.Col(
                        page.card(
                            click_graph_id("programme", "programme_summary"),
                            "Leadership programmes: completion rate and graduates",
                            "programme_summary",
                            charts.programme_completion(programmes, min_cell=page.min_cell),
                        ),
                        lg=6,
                        className="mb-3",
                    ),
                    dbc.Col(
                        page.card(
                            "overview-needs",
                            f"Top {TOP_NEEDS} learning needs, LNA {needs['cycle'].iloc[0] if not needs.empty else ''}",
                            "needs_by_need",
                            charts.need_shares(needs, min_cell=page.min_cell),
                        ),
                        lg=6,
                        className="mb-3",
                    ),
                ]
            ),
        ]
    )

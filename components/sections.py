"""The blocks several pages show: a grid of figure cards, the headline and target cards, and the platform,
programme and learning-need cards (each defined here once, drawn from the page's suppressed views)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from components import charts
from components.filters import click_graph_id
from components.kpi import kpi_card, target_card
from components.page_context import PageContext
from components.theme import count_text
from data_access.reads.targets import kpi_status_records

PLATFORM_SERIES = {"learners": "Learners", "completers": "Completers", "completions": "Completions"}


def heading(title: str, subtitle: str) -> list[Any]:
    return [html.H1(title, className="h3"), html.P(subtitle, className="text-muted")]


def grid(*cells: tuple[Any, int]) -> dbc.Row:
    """Figure cards side by side on a wide screen, one under another on a phone: (card, width of 12)."""
    return dbc.Row([dbc.Col(card, lg=width, className="mb-3") for card, width in cells])


def people_cards(page: PageContext, staff: Mapping[str, Any]) -> list[dbc.Card]:
    """Staff (as of the latest headcount snapshot in the period: ``staff`` is ``kpis.staff_figures``),
    learners and completers of the page's slice."""
    total = page.view("uptake_total").iloc[0]
    as_of = staff["as_of_date"]

    def count(column: str) -> str:
        return count_text(total[column], page.min_cell)

    return [
        kpi_card("Staff (headcount)", count("headcount"), f"as of {as_of}" if as_of else "no headcount in the period"),
        kpi_card("Learners", count("learners"), "on any platform in the period"),
        kpi_card("Completers", count("completers"), "completed a course in the period"),
    ]


def target_row(page: PageContext, row_id: str) -> dbc.Row:
    """Each KPI target of the year against its actual figure."""
    targets = kpi_status_records(page.engine, page.filters, page.view("kpi_actuals"))
    return dbc.Row(
        [dbc.Col(target_card(**row), xs=12, sm=6, lg=3, className="mb-3") for row in targets]
        or [dbc.Col(html.P("No KPI targets uploaded for this year.", className="text-muted"))],
        id=row_id,
    )


def platforms_card(page: PageContext, title: str, series: dict[str, str] = PLATFORM_SERIES) -> dbc.Card:
    figure = charts.count_bars(page.view("uptake_by_platform"), "platform", series, min_cell=page.min_cell)
    graph_id = click_graph_id("platform", "uptake_by_platform")
    return page.card(graph_id, title, "uptake_by_platform", figure, note="Click a platform to filter by it.")


def programmes_card(page: PageContext, title: str, note: str | None = None) -> dbc.Card:
    figure = charts.programme_completion(page.view("programme_summary"), min_cell=page.min_cell)
    return page.card(click_graph_id("programme", "programme_summary"), title, "programme_summary", figure, note=note)


def top_needs_card(page: PageContext, top: int, *, by_area: bool) -> dbc.Card:
    """The ``top`` learning needs of the LNA cycle in view."""
    needs = page.view("needs_by_need").head(top)
    cycle = needs["cycle"].iloc[0] if not needs.empty else ""
    figure = charts.need_shares(needs, min_cell=page.min_cell, by_area=by_area)
    graph_id = click_graph_id("learning_need", "needs_by_need")
    title = f"Top {top} learning needs" + (f", LNA {cycle}" if cycle else "")
    return page.card(graph_id, title, "needs_by_need", figure)

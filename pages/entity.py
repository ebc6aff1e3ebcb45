"""Entity profile: one entity's scorecard across uptake, learning needs and leadership programmes."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components import charts
from components.figure_card import empty_state
from components.filters import click_graph_id, filter_bar
from components.kpi import kpi_card
from components.page_context import PageContext, page_layout
from components.sections import grid, heading, people_cards, platforms_card, programmes_card, target_row, top_needs_card
from components.theme import count_text
from data_access.reads.kpis import staff_figures
from data_access.reads.views import entity_profile

dash.register_page(
    __name__, path_template="/entity/<code>", name="Entity profile", title="Entity profile", order=4, nav=False
)

TOP_NEEDS = 8
TOP_STATIONS = 15


def layout(code: str | None = None, **query: str) -> html.Div:
    return page_layout(content, query, entity=code)


def content(page: PageContext) -> html.Div:
    code = page.filters.entity
    profile = entity_profile(page.engine, code or "")
    if profile is None:
        return html.Div(
            [
                html.H1("Entity profile", className="h3"),
                empty_state(f"There is no entity with the code {code!r}."),
                dcc.Link("See all entities on the uptake page", href="/uptake"),
            ]
        )
    graduates = count_text(page.view("programme_total").iloc[0]["graduates"], page.min_cell)
    cards = [
        *people_cards(page, staff_figures(page.engine, page.filters)),
        kpi_card("Programme graduates", graduates, "all leadership programmes, all cohorts"),
    ]
    stations = page.view("uptake_by_duty_station").head(TOP_STATIONS)
    reach = charts.reach(
        stations,
        "duty_station",
        min_cell=page.min_cell,
        labels=stations["name"].fillna(stations["duty_station"]).tolist(),
    )
    station_id = click_graph_id("duty_station", "uptake_by_duty_station")
    return html.Div(
        [
            *heading(
                f"{profile['entity_name']} ({profile['entity_code']})",
                f"{profile['pillar']} · {profile['entity_type']} · {page.describe()}",
            ),
            filter_bar(page.filters, page.options, hide=("entity",), clear_href=f"/entity/{profile['entity_code']}"),
            dbc.Row([dbc.Col(card, xs=6, md=3, className="mb-3") for card in cards], id="entity-cards"),
            html.H2("Against targets", className="h5"),
            target_row(page, "entity-targets"),
            grid(
                (platforms_card(page, "Learning platforms"), 6),
                (top_needs_card(page, TOP_NEEDS, by_area=False), 6),
                (page.card(station_id, "Duty stations: reach", "uptake_by_duty_station", reach), 6),
                (programmes_card(page, "Leadership programmes: completion rate"), 6),
            ),
        ]
    )

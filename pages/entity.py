"""Entity profile: one entity's scorecard across uptake, learning needs and leadership programmes."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components import charts
from components.figure_card import empty_state
from components.filters import click_graph_id, filter_bar
from components.kpi import kpi_card, target_card
from components.page_context import PageContext, page_layout
from components.theme import count_text
from data_access.reads.targets import kpi_status_records
from data_access.reads.views import entity_profile

dash.register_page(
    __name__,
    path_template="/entity/<code>",
    name="Entity profile",
    title="Entity profile",
    order=4,
    nav=False,
)

TOP_NEEDS = 8


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
    total = page.view("uptake_total").iloc[0]
    targets = kpi_status_records(page.engine, page.filters, page.view("kpi_actuals"))
    needs = page.view("needs_by_need").head(TOP_NEEDS)
    programmes = page.view("programme_summary")
    stations = page.view("uptake_by_duty_station").head(15)
    cards = [
        kpi_card("Staff (headcount)", count_text(total["headcount"], page.min_cell)),
        kpi_card("Learners", count_text(total["learners"], page.min_cell), "on any platform in the period"),
        kpi_card("Completers", count_text(total["completers"], page.min_cell), "completed a course in the period"),
        kpi_card(
            "Programme graduates",
            count_text(page.view("programme_total").iloc[0]["graduates"], page.min_cell),
            "all leadership programmes, all cohorts",
        ),
    ]
    return html.Div(
        [
            html.H1(f"{profile['entity_name']} ({profile['entity_code']})", className="h3"),
            html.P(f"{profile['pillar']} · {profile['entity_type']} · {page.describe()}", className="text-muted"),
            filter_bar(page.filters, page.options, hide=("entity",), clear_href=f"/entity/{profile['entity_code']}"),
            dbc.Row([dbc.Col(card, xs=6, md=3, className="mb-3") for card in cards], id="entity-cards"),
            html.H2("Against targets", className="h5"),
            dbc.Row(
                [dbc.Col(target_card(**row), xs=12, sm=6, lg=3, className="mb-3") for row in targets]
                or [dbc.Col(html.P("No KPI targets for this year.", className="text-muted"))],
                id="entity-targets",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        page.card(
                            click_graph_id("platform", "uptake_by_platform"),
                            "Learning platforms",
                            "uptake_by_platform",
                            charts.count_bars(
                                page.view("uptake_by_platform"),
                                "platform",
                                {"learners": "Learners", "completers": "Completers", "completions": "Completions"},
                                min_cell=page.min_cell,
                            ),
                        ),
                        lg=6,
                        className="mb-3",
                    ),
                    dbc.Col(
                        page.card(
                            click_graph_id("learning_need", "needs_by_need"),
                            f"Top {TOP_NEEDS} learning needs",
                            "needs_by_need",
                            charts.need_shares(needs, min_cell=page.min_cell, by_area=False),
                        ),
                        lg=6,
                        className="mb-3",
                    ),
                    dbc.Col(
                        page.card(
                            click_graph_id("duty_station", "uptake_by_duty_station"),
                            "Duty stations: reach",
                            "uptake_by_duty_station",
                            charts.reach(
                                stations,
                                "duty_station",
                                min_cell=page.min_cell,
                                labels=stations["name"].fillna(stations["duty_station"]).tolist(),
                            ),
                        ),
                        lg=6,
                        className="mb-3",
                    ),
                    dbc.Col(
                        page.card(
                            click_graph_id("programme", "programme_summary"),
                            "Leadership programmes: completion rate",
                            "programme_summary",
                            charts.programme_completion(programmes, min_cell=page.min_cell),
                        ),
                        lg=6,
                        className="mb-3",
                    ),
                ]
            ),
        ]
    )

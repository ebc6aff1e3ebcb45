"""Overview: the headline figures (the full dashboard pages come with the dashboard issue)."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

from components.kpi import kpi_card
from data_access.kpis import headline_kpis
from data_access.store import default_engine

dash.register_page(__name__, path="/", name="Overview", title="Overview", order=0)

OVERVIEW_CARDS = "overview-cards"


def layout(**_query: str) -> html.Div:
    figures = headline_kpis(default_engine())
    cards = [
        kpi_card("Staff", f"{figures['headcount']:,}", f"as of {figures['as_of_date']}"),
        kpi_card("Entities", f"{figures['entities']}"),
        kpi_card("Duty stations", f"{figures['duty_stations']}"),
    ]
    for name, platform in figures["platforms"].items():
        cards.append(
            kpi_card(
                name,
                f"{platform['learners']:,} learners",
                f"{platform['completers']:,} completers · {platform['completions']:,} completions · "
                f"{platform['activities']:,} activities",
            )
        )
    for name, programme in figures["programmes"].items():
        rate = programme["completion_rate"]
        cards.append(
            kpi_card(
                name,
                f"{programme['graduates']:,} graduates",
                f"{programme['cohorts']} cohorts · completion {rate:.0%}" if rate is not None else "",
            )
        )
    return html.Div(
        [
            html.H1("Staff learning at a glance", className="h3"),
            dbc.Row([dbc.Col(card, md=4, lg=3, className="mb-3") for card in cards], id=OVERVIEW_CARDS),
        ]
    )

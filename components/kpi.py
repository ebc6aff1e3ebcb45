"""Headline figure cards."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html


def kpi_card(label: str, value: str, detail: str = "") -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(label, className="text-muted small"),
                html.Div(value, className="fs-3 fw-semibold"),
                html.Div(detail, className="small text-muted"),
            ]
        ),
        className="h-100",
    )

"""Headline figure cards, and KPI cards measured against their targets."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from components.theme import STATUS_COLOURS, rate_text

KPI_LABELS = {
    "learners": "Learners",
    "completers": "Completers",
    "activities": "Learning activities",
    "completions": "Completions",
    "reach_rate": "Reach (learners as share of headcount)",
    "completion_rate": "Leadership programme completion rate",
    "female_share": "Female share of programme graduates",
    "field_share": "Field share of programme graduates",
    "national_share": "National share of programme graduates",
    "avg_satisfaction": "Average satisfaction, 1-5 (level 1)",
    "avg_score_gain": "Average score gain, points (level 2)",
    "applied_on_job_rate": "Applied on the job (level 3)",
}
RATE_KPIS = {"reach_rate", "completion_rate", "female_share", "field_share", "national_share", "applied_on_job_rate"}


def kpi_card(label: str, value: str, detail: str = "", card_id: str | None = None) -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(label, className="text-muted small"),
                html.Div(value, className="fs-3 fw-semibold kpi-value"),
                html.Div(detail, className="small text-muted"),
            ],
        ),
        className="h-100",
        **({"id": card_id} if card_id else {}),
    )


def kpi_value_text(kpi: str, value: Any) -> str:
    if value is None or pd.isna(value):
        return "withheld"
    if kpi in RATE_KPIS:
        return rate_text(value)
    return f"{value:,.2f}" if kpi.startswith("avg_") else f"{int(value):,}"


def target_card(kpi: str, scope: str, year: int, target: float, actual: Any, status: str) -> html.Div:
    """A KPI against its target: the figure, the target, and on track / at risk / off track."""
    whose = "organization-wide target" if scope == "ALL" else f"{scope} target"
    card = dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.Span(KPI_LABELS.get(kpi, kpi), className="text-muted small me-2"),
                        dbc.Badge(status, color=STATUS_COLOURS.get(status, "secondary"), className="ms-auto"),
                    ],
                    className="d-flex align-items-start",
                ),
                html.Div(kpi_value_text(kpi, actual), className="fs-3 fw-semibold kpi-value"),
                html.Div(f"{whose} {year}: {kpi_value_text(kpi, target)}", className="small text-muted"),
            ],
        ),
        className=f"h-100 border-{STATUS_COLOURS.get(status, 'secondary')}",
    )
    return html.Div(card, className="h-100 kpi-target", **{"data-kpi": kpi, "data-status": status})

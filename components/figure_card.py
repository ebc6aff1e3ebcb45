"""A chart in a card: title, chart or "view as table", downloads of exactly what it shows, data date."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from components.theme import GRAPH_CONFIG, Figure

EMPTY_MESSAGE = "No data for this selection. Clear or widen the filters to see figures."
#: Pattern-matching ids of a card's tabs and of its table, which is built only when someone opens it.
TABLE_TABS = "table-tabs"
TABLE_BODY = "table-body"


def export_href(view: str, fmt: str, query_string: str) -> str:
    return f"/export/{view}.{fmt}{query_string}"


def empty_state(message: str = EMPTY_MESSAGE) -> dbc.Alert:
    return dbc.Alert(message, color="light", className="mb-0 empty-state")


def figure_card(
    graph_id: str | dict[str, Any],
    title: str,
    figure: Figure | None,
    frame: pd.DataFrame,
    *,
    view: str,
    query_string: str,
    as_of: str | None,
    min_cell: int,
    note: str | None = None,
) -> dbc.Card:
    """``figure`` is None when ``frame`` holds nothing to draw; the card then says so plainly."""
    if frame.empty:
        body: Any = empty_state()
    else:
        if figure is None:
            chart: Any = empty_state(
                f"Nothing to draw: every figure in this selection is zero or counts fewer than {min_cell} people "
                '(hidden to protect privacy). "View as table" shows what can be shown.'
            )
        else:
            chart = dcc.Graph(id=graph_id, figure=figure, config=GRAPH_CONFIG, className="chart")
        card = graph_id if isinstance(graph_id, str) else "-".join(str(v) for v in graph_id.values())
        # The slice it is for: a filter change then sets it again (components.in_place), emptying a table
        # that was open, so the table of the new slice is built when it is opened.
        table = html.Div(
            "Loading the table…", id={"type": TABLE_BODY, "view": view, "card": card}, **{"data-slice": query_string}
        )
        body = dbc.Tabs(
            [
                dbc.Tab(chart, label="Chart", tab_id="chart"),
                dbc.Tab(table, label="View as table", tab_id="table"),
            ],
            id={"type": TABLE_TABS, "view": view, "card": card},
            active_tab="chart",
        )
    footer = [
        html.Span(f"Data as of {as_of}" if as_of else "No data loaded yet", className="me-auto"),
        html.Span(f"<{min_cell}: fewer than {min_cell} people, hidden. ", className="me-2"),
        html.A("CSV", href=export_href(view, "csv", query_string), className="me-2", download=f"{view}.csv"),
        html.A("Excel", href=export_href(view, "xlsx", query_string), download=f"{view}.xlsx"),
    ]
    header = [html.H2(title, className="h6 mb-0")]
    if note:
        header.append(html.Div(note, className="small text-muted"))
    return dbc.Card(
        [
            dbc.CardHeader(header),
            dbc.CardBody(body),
            dbc.CardFooter(footer, className="small text-muted d-flex flex-wrap align-items-center"),
        ],
        className="h-100 figure-card",
    )

"""A view's table as people read it: counts with "<N", rates as percentages, labelled columns."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from components.theme import count_text, rate_text

#: Column-name endings and names that hold rates (shown as percentages).
RATE_SUFFIXES = ("_rate", "_share", "_gap", "_share_participants", "_share_graduates", "share_of_area")
PLAIN_NUMBERS = ("avg_satisfaction", "avg_score_gain", "latitude", "longitude", "year", "cohorts")
MAX_TABLE_ROWS = 500


def is_rate(column: str) -> bool:
    return column.endswith(RATE_SUFFIXES)


def is_count(frame: pd.DataFrame, column: str) -> bool:
    return str(frame[column].dtype) == "Int64"


def heading(column: str) -> str:
    return column.replace("_", " ").capitalize()


def display_frame(frame: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Every cell as text, the way the table and the exports show it."""
    shown = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        if is_count(frame, column):
            shown[heading(column)] = [count_text(v, min_cell) for v in values]
        elif is_rate(column):
            shown[heading(column)] = [rate_text(v) for v in values]
        elif column in PLAIN_NUMBERS:
            shown[heading(column)] = ["–" if pd.isna(v) else f"{v:g}" for v in values]
        else:
            shown[heading(column)] = [
                "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v) for v in values
            ]
    return shown


def data_table(frame: pd.DataFrame, min_cell: int) -> html.Div:
    shown = display_frame(frame.head(MAX_TABLE_ROWS), min_cell)
    more = len(frame) - len(shown)
    note = (
        html.P(f"First {MAX_TABLE_ROWS:,} of {len(frame):,} rows; the download has them all.", className="small")
        if more > 0
        else None
    )
    table = dbc.Table.from_dataframe(shown, striped=True, bordered=False, hover=True, size="sm", responsive=True)
    return html.Div([table, note], className="table-scroll")

"""Colours, number formats and figure defaults shared by every chart."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

#: Okabe-Ito: distinguishable with the common forms of colour blindness.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
STATUS_COLOURS = {"on track": "success", "at risk": "warning", "off track": "danger", "withheld": "secondary"}
#: Sequential blues for heatmaps and maps (light = low).
SEQUENTIAL = "Blues"

#: Every graph: no plotly logo, and the world map from this app's own assets (no internet needed).
GRAPH_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "displayModeBar": "hover",
    "responsive": True,
    "topojsonURL": "/assets/topojson/",
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}


def numbers(values: pd.Series) -> np.ndarray:
    """A nullable column as floats, suppressed values as NaN (plotly draws nothing there)."""
    return pd.to_numeric(values).astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def count_text(value: Any, min_cell: int) -> str:
    """A count of people as shown: thousands separated, suppressed as "<N"."""
    if value is None or pd.isna(value):
        return f"<{min_cell}"
    return f"{int(value):,}"


def rate_text(value: Any, digits: int = 1) -> str:
    """A rate as a percentage; a withheld or undefined rate as an en dash."""
    if value is None or pd.isna(value):
        return "–"
    return f"{float(value) * 100:.{digits}f}%"


def base_layout(figure: go.Figure, *, height: int = 360, legend: bool = True) -> go.Figure:
    figure.update_layout(
        template="plotly_white",
        colorway=list(PALETTE),
        height=height,
        margin={"l": 10, "r": 10, "t": 40 if legend else 10, "b": 10},
        font={"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 13},
        showlegend=legend,
        legend={"orientation": "h", "yref": "container", "y": 1, "yanchor": "top", "x": 0},
        hoverlabel={"namelength": -1},
    )
    figure.update_xaxes(automargin=True)
    figure.update_yaxes(automargin=True)
    return figure

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


GRID = "#EBF0F8"
#: A light look in a few keys. A named plotly template costs about 10 ms and 7 KB per figure.
FIGURE_LAYOUT: dict[str, Any] = {"template": "none", "paper_bgcolor": "white", "plot_bgcolor": "white"}
AXIS_STYLE: dict[str, Any] = {"gridcolor": GRID, "zerolinecolor": "#C8D4E3", "linecolor": GRID, "automargin": True}


def new_figure(*traces: Any) -> go.Figure:
    """An empty figure in the dashboard's look (built in one step: no default template applied)."""
    return go.Figure(data=list(traces) or None, layout=FIGURE_LAYOUT)


def base_layout(figure: go.Figure, *, height: int = 360, legend: bool = True) -> go.Figure:
    figure.update_layout(
        colorway=list(PALETTE),
        height=height,
        margin={"l": 10, "r": 10, "t": 40 if legend else 10, "b": 10},
        font={"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 13},
        showlegend=legend,
        legend={"orientation": "h", "yref": "container", "y": 1, "yanchor": "top", "x": 0},
        hoverlabel={"namelength": -1},
        xaxis=AXIS_STYLE,
        yaxis=AXIS_STYLE,
    )
    return figure

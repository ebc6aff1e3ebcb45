"""Colours, number formats and figure defaults shared by every chart."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from plotly.colors import sequential

#: Okabe-Ito: distinguishable with the common forms of colour blindness.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
STATUS_COLOURS = {"on track": "success", "at risk": "warning", "off track": "danger", "withheld": "secondary"}
#: Sequential blues for heatmaps and maps, light = low. Spelled out: plotly.js reads the name "Blues"
#: the other way round (dark = low).
SEQUENTIAL = [[i / (len(sequential.Blues) - 1), colour] for i, colour in enumerate(sequential.Blues)]

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
    if not pd.api.types.is_numeric_dtype(values.dtype):
        values = pd.to_numeric(values)
    return values.to_numpy(dtype=float, na_value=np.nan)


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


def counts_text(values: np.ndarray, min_cell: int) -> list[str]:
    """``count_text`` of each value of a float array (NaN: suppressed)."""
    return [f"<{min_cell}" if v != v else f"{int(v):,}" for v in values.tolist()]


def rates_text(values: np.ndarray, digits: int = 1) -> list[str]:
    """``rate_text`` of each value of a float array (NaN: withheld)."""
    return ["–" if v != v else f"{v * 100:.{digits}f}%" for v in values.tolist()]


GRID = "#EBF0F8"
AXIS_STYLE: dict[str, Any] = {"gridcolor": GRID, "zerolinecolor": "#C8D4E3", "linecolor": GRID, "automargin": True}
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 13}

#: A figure as plain data (``{"data": [...], "layout": {...}}``), which ``dcc.Graph`` takes as is.
Figure = dict[str, Any]

#: Advance widths (in em) of printable ASCII in DejaVu Sans, measured in Chromium: the sans-serif it
#: draws ``system-ui`` with on Linux, and wider than Segoe UI, San Francisco or Roboto, so a margin
#: sized with it leaves room for the label on every desktop. Other characters count as an ``M``.
_EM: dict[str, float] = dict(
    zip(
        " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
        (
            [0.32, 0.4, 0.46, 0.84, 0.64, 0.95, 0.78, 0.27, 0.39, 0.39, 0.5, 0.84, 0.32, 0.36, 0.32, 0.34]
            + [0.64] * 10
            + [0.34, 0.34, 0.84, 0.84, 0.84, 0.53, 1.0, 0.68, 0.69, 0.7, 0.77, 0.63, 0.58, 0.77, 0.75, 0.29]
            + [0.29, 0.66, 0.56, 0.86, 0.75, 0.79, 0.6, 0.79, 0.69, 0.63, 0.61, 0.73, 0.68, 0.99, 0.69, 0.61]
            + [0.69, 0.39, 0.34, 0.39, 0.84, 0.5, 0.5, 0.61, 0.63, 0.55, 0.63, 0.62, 0.35, 0.63, 0.63, 0.28]
            + [0.28, 0.58, 0.28, 0.97, 0.63, 0.61, 0.63, 0.63, 0.41, 0.52, 0.39, 0.63, 0.59, 0.82, 0.59, 0.59]
            + [0.52, 0.64, 0.34, 0.64, 0.84]
        ),
        strict=True,
    )
)
#: A line of 13 px text with its spacing, and the gap between tick labels and the plot.
_LINE = 19
_TICK_GAP = 14


def text_width(text: str, size: float = FONT["size"]) -> float:
    """About how many pixels ``text`` takes in the dashboard's font at ``size`` px (never less)."""
    return size * sum(_EM.get(character, 0.86) for character in text)


def fixed_margins(
    chart: Figure, *, left_labels: Sequence[str] = (), left_title: bool = False, bottom_lines: int = 1
) -> Figure:
    """``chart`` with margins sized for its labels, and plotly's own sizing (``automargin``) off.

    Plotly sizes margins by drawing the chart, measuring the labels and drawing it again: half of a
    bar chart's drawing time in the browser, on every load and every filter change. Here the left
    margin takes the widest category label (``left_labels``; tick numbers when there are none) and a
    vertical title (``left_title``), the bottom one the tick labels and ``bottom_lines`` of axis title.
    """
    layout = chart["layout"]
    widest = max((text_width(str(label)) for label in left_labels), default=text_width("00,000"))
    margin = {
        **layout["margin"],
        "l": round(widest + _TICK_GAP + (_LINE + 6 if left_title else 0)),
        "b": _LINE + _TICK_GAP + _LINE * bottom_lines + 6,
    }
    axes = {key: {**value, "automargin": False} for key, value in layout.items() if key[1:5] == "axis"}
    return {**chart, "layout": {**layout, **axes, "margin": margin}}


def figure(traces: list[dict[str, Any]], *, height: int = 360, legend: bool = True, **layout: Any) -> Figure:
    """A figure in the dashboard's look, built as plain dictionaries.

    No plotly objects: a graph_objects figure validates every property through plotly's update
    machinery, which cost 10-15 ms per figure here; a dictionary costs next to nothing.
    ``layout`` is merged one level deep over the defaults (``margin={"r": 90}`` keeps the others).

    >>> figure([{"type": "bar", "x": [1], "y": ["a"]}], height=200, xaxis={"title": "People"})["layout"]["height"]
    200
    """
    base: dict[str, Any] = {
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "colorway": list(PALETTE),
        "height": height,
        # Without a legend the top margin still holds the graph's tool bar (shown on hover), so it
        # never covers the top bar or its label.
        "margin": {"l": 10, "r": 10, "t": 40 if legend else 30, "b": 10},
        "font": FONT,
        "showlegend": legend,
        "legend": {"orientation": "h", "xref": "container", "yref": "container", "y": 1, "yanchor": "top", "x": 0},
        "hoverlabel": {"namelength": -1},
        "xaxis": dict(AXIS_STYLE),
        "yaxis": dict(AXIS_STYLE),
    }
    for key, value in layout.items():
        base[key] = {**base[key], **value} if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return {"data": traces, "layout": base}


Shape = dict[str, Any]


def vertical_line(x: float, text: str, *, xref: str = "x", bottom: bool = False) -> tuple[Shape, Shape]:
    """A dashed line across the plot at ``x`` and its label: (shape, annotation)."""
    shape = {
        "type": "line",
        "x0": x,
        "x1": x,
        "xref": xref,
        "y0": 0,
        "y1": 1,
        "yref": "paper",
        "line": {"dash": "dash", "color": "#333", "width": 1.5},
    }
    label = {
        "x": x,
        "xref": xref,
        "y": 0 if bottom else 1,
        "yref": "paper",
        "yanchor": "bottom" if bottom else "top",
        "xanchor": "left",
        "text": text,
        "showarrow": False,
        "font": {"size": 12},
    }
    return shape, label


def panels(count: int, titles: list[str], spacing: float | None = None) -> tuple[dict[str, Any], list[str]]:
    """Side-by-side panels sharing one category axis: their x-axis layouts and trace axis names."""
    spacing = 0.2 / count if spacing is None else spacing
    width = (1 - spacing * (count - 1)) / count
    layout: dict[str, Any] = {"annotations": []}
    names = []
    for index in range(count):
        start = index * (width + spacing)
        key = "xaxis" if index == 0 else f"xaxis{index + 1}"
        names.append("x" if index == 0 else f"x{index + 1}")
        layout[key] = {**AXIS_STYLE, "domain": [start, start + width], "anchor": "y"}
        layout["annotations"].append(
            {
                "text": titles[index],
                "x": start + width / 2,
                "xref": "paper",
                "y": 1,
                "yref": "paper",
                "xanchor": "center",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 14},
            }
        )
    return layout, names

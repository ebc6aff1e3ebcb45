"""Figures from a view's table, as plain plotly data (see ``theme.figure``).

Each builder takes the suppressed table and returns a figure, or None when there is nothing to draw.
Codes ride in ``customdata`` so a click can filter or drill down.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from components.theme import (
    AXIS_STYLE,
    PALETTE,
    SEQUENTIAL,
    Figure,
    count_text,
    figure,
    numbers,
    panels,
    rate_text,
    vertical_line,
)


def _empty(frame: pd.DataFrame, *columns: str) -> bool:
    """Nothing to draw: no rows, or every value hidden or zero."""
    return frame.empty or all(not np.nan_to_num(numbers(frame[c])).any() for c in columns)


def _bar_height(rows: int, per_row: int = 26, minimum: int = 260) -> int:
    return max(minimum, 60 + per_row * rows)


def count_bars(
    frame: pd.DataFrame,
    category: str,
    series: dict[str, str],
    *,
    min_cell: int,
    labels: Sequence[str] | None = None,
) -> Figure | None:
    """Horizontal bars of counts per category, one colour per series, "<N" where suppressed."""
    if _empty(frame, *series):
        return None
    frame = frame.iloc[::-1]
    names = list(labels[::-1]) if labels is not None else frame[category].astype(str).tolist()
    traces = [
        {
            "type": "bar",
            "y": names,
            "x": numbers(frame[column]),
            "orientation": "h",
            "name": label,
            "text": [count_text(v, min_cell) for v in frame[column]],
            "textposition": "auto",
            "cliponaxis": False,
            "customdata": frame[category].tolist(),
            "marker": {"color": PALETTE[index % len(PALETTE)]},
            "hovertemplate": f"%{{y}}<br>{label}: %{{text}}<extra></extra>",
        }
        for index, (column, label) in enumerate(series.items())
    ]
    return figure(
        traces,
        height=_bar_height(len(frame) * max(1, len(series))),
        legend=len(series) > 1,
        barmode="group",
        xaxis={"title": {"text": "People"}},
        yaxis={"type": "category"},
        annotations=_hidden_labels(frame, list(series), names, min_cell),
    )


def _hidden_labels(frame: pd.DataFrame, columns: list[str], names: list[str], min_cell: int) -> list[dict[str, Any]]:
    """Say "<N" where a bar is hidden, so a missing bar never reads as zero."""
    hidden_rows = frame[columns].isna().any(axis=1).tolist()
    return [
        {
            "x": 0,
            "xref": "x",
            "y": name,
            "yref": "y",
            "text": f"some counts <{min_cell}, hidden",
            "showarrow": False,
            "xanchor": "left",
            "font": {"size": 11, "color": "#555"},
            "yshift": -8 if len(columns) > 1 else 0,
        }
        for name, hidden in zip(names, hidden_rows, strict=True)
        if hidden
    ]


def rate_bars(
    frame: pd.DataFrame,
    category: str,
    rate: str,
    count: str,
    *,
    min_cell: int,
    label: str,
    count_label: str,
    labels: Sequence[str] | None = None,
    colour_by: str | None = None,
    target: float | None = None,
) -> Figure | None:
    """Horizontal bars of a rate per category, labelled with the rate and the count behind it."""
    if _empty(frame, rate):
        return None
    frame = frame.iloc[::-1]
    names = list(labels[::-1]) if labels is not None else frame[category].astype(str).tolist()
    text = [
        f"{rate_text(r)} · {count_text(c, min_cell)} {count_label}"
        for r, c in zip(frame[rate], frame[count], strict=True)
    ]
    groups = [(None, frame)] if colour_by is None else list(frame.groupby(colour_by, sort=False))
    traces = []
    for index, (group, part) in enumerate(groups):
        members = [i for i in range(len(frame)) if colour_by is None or frame[colour_by].iloc[i] == group]
        traces.append(
            {
                "type": "bar",
                "y": [names[i] for i in members],
                "x": numbers(part[rate]),
                "orientation": "h",
                "name": str(group) if group is not None else label,
                "text": [text[i] for i in members],
                "textposition": "outside",
                "cliponaxis": False,
                "customdata": part[category].tolist(),
                "marker": {"color": PALETTE[index % len(PALETTE)]},
                "hovertemplate": f"%{{y}}<br>{label}: %{{text}} {count_label}<extra></extra>",
            }
        )
    shapes, annotations = [], []
    if target is not None:
        line, note = vertical_line(target, f"target {rate_text(target, 0)}")
        shapes.append(line)
        annotations.append(note)
    top = max(float(pd.Series(numbers(frame[rate])).max()), target or 0)
    height = _bar_height(len(frame))
    return figure(
        traces,
        height=height + 40 if colour_by is not None else height,
        legend=colour_by is not None,
        margin={"r": 90, **({"t": 70} if colour_by is not None else {})},
        xaxis={
            "tickformat": ".0%",
            "title": {"text": f"{label} · number of {count_label}"},
            "range": [0, top * 1.35],
            **({"tickvals": [v / 10 for v in range(0, 11, 2)]} if top > 0.3 else {}),
        },
        yaxis={"type": "category", "categoryorder": "array", "categoryarray": names},
        shapes=shapes,
        annotations=annotations,
    )


def monthly_lines(frame: pd.DataFrame, value: str, *, min_cell: int, label: str) -> Figure | None:
    """One line per platform over months; suppressed months are gaps."""
    if _empty(frame, value):
        return None
    traces = [
        {
            "type": "scatter",
            "x": (part["month"] + "-01").tolist(),  # ISO date strings: plotly reads them as dates
            "y": numbers(part[value]),
            "mode": "lines+markers",
            "name": str(platform),
            "line": {"color": PALETTE[index % len(PALETTE)], "width": 2},
            "marker": {"size": 4},
            "text": [count_text(v, min_cell) for v in part[value]],
            "hovertemplate": f"{platform}<br>%{{x|%b %Y}}: %{{text}} {label}<extra></extra>",
        }
        for index, (platform, part) in enumerate(frame.groupby("platform", sort=True))
    ]
    return figure(
        traces,
        height=340,
        yaxis={"title": {"text": label.capitalize()}},
        xaxis={"tickformat": "%b %Y", "type": "date"},
        hovermode="x",
    )


def heatmap(
    frame: pd.DataFrame, rows: str, columns: str, value: str, *, row_labels: dict[str, str] | None = None
) -> Figure | None:
    """Rows x columns coloured by a share; withheld cells stay blank."""
    if _empty(frame, value):
        return None
    grid = frame.pivot_table(index=rows, columns=columns, values=value, aggfunc="first", dropna=False)
    grid = grid.astype("Float64")
    codes = grid.index.tolist()
    names = [row_labels.get(code, code) if row_labels else code for code in codes]
    trace = {
        "type": "heatmap",
        "z": grid.to_numpy(dtype=float, na_value=float("nan")),
        "x": [str(c) for c in grid.columns],
        "y": codes,
        "customdata": [[code] * len(grid.columns) for code in codes],
        "colorscale": SEQUENTIAL,
        "colorbar": {"tickformat": ".0%", "title": {"text": "Share"}},
        "hovertemplate": "%{y}<br>%{x}: %{z:.1%}<extra></extra>",
        "xgap": 1,
        "ygap": 1,
    }
    return figure(
        [trace],
        height=_bar_height(len(codes), per_row=18, minimum=320) + 120,
        legend=False,
        yaxis={"type": "category", "autorange": "reversed", "tickvals": codes, "ticktext": names},
        xaxis={"tickangle": -35, "side": "top"},
    )


def diverging_gap(frame: pd.DataFrame, *, min_cell: int) -> Figure | None:
    """need_gap per need: positive (more need than uptake) in orange, negative in blue."""
    if _empty(frame, "need_gap"):
        return None
    frame = frame.iloc[::-1]
    gaps = numbers(frame["need_gap"])
    text = [
        f"need {rate_text(n)} · completions {rate_text(c)} · gap {rate_text(g)}"
        for n, c, g in zip(frame["need_share"], frame["completion_share"], frame["need_gap"], strict=True)
    ]
    trace = {
        "type": "bar",
        "y": frame["learning_need"].tolist(),
        "x": gaps,
        "orientation": "h",
        "marker": {"color": [PALETTE[1] if g > 0 else PALETTE[0] for g in gaps]},
        "customdata": frame["learning_need"].tolist(),
        "text": text,
        "textposition": "none",
        "hovertemplate": "%{y}<br>%{text}<extra></extra>",
    }
    return figure(
        [trace],
        height=_bar_height(len(frame)),
        legend=False,
        xaxis={"tickformat": "+.0%", "title": {"text": "Need share minus completion share"}, "zeroline": True},
        yaxis={"type": "category"},
    )


def stacked_shares(frame: pd.DataFrame, category: str, stack: str, share: str, order: Sequence[str]) -> Figure | None:
    """100% stacked horizontal bars: ``stack`` values within each ``category``."""
    if _empty(frame, share):
        return None
    traces = []
    for index, value in enumerate(order):
        part = frame[frame[stack] == value]
        traces.append(
            {
                "type": "bar",
                "y": part[category].tolist(),
                "x": numbers(part[share]),
                "orientation": "h",
                "name": value.capitalize(),
                "marker": {"color": PALETTE[[5, 1, 4][index % 3]]},
                "text": [rate_text(v, 0) for v in part[share]],
                "textposition": "inside",
                "hovertemplate": f"%{{y}}<br>{value}: %{{text}}<extra></extra>",
            }
        )
    return figure(
        traces,
        height=_bar_height(frame[category].nunique(), per_row=40),
        barmode="stack",
        xaxis={"tickformat": ".0%", "range": [0, 1]},
        yaxis={"type": "category"},
    )


def grouped_shares(frame: pd.DataFrame, category: str, series: str, share: str, *, min_cell: int) -> Figure | None:
    """Shares per category, one bar per ``series`` value (e.g. LNA cycles side by side)."""
    if _empty(frame, share):
        return None
    traces = [
        {
            "type": "bar",
            "y": part[category].tolist(),
            "x": numbers(part[share]),
            "orientation": "h",
            "name": str(value),
            "marker": {"color": PALETTE[index % len(PALETTE)]},
            "customdata": part[category].tolist(),
            "hovertemplate": f"{value}<br>%{{y}}: %{{x:.1%}}<extra></extra>",
        }
        for index, (value, part) in enumerate(frame.groupby(series, sort=True))
    ]
    return figure(
        traces,
        height=_bar_height(frame[category].nunique() * frame[series].nunique(), per_row=12),
        barmode="group",
        xaxis={"tickformat": ".0%"},
        yaxis={"type": "category"},
    )


def duty_station_map(frame: pd.DataFrame, *, min_cell: int) -> Figure | None:
    """Duty stations as points sized by learners and coloured by reach (share of headcount)."""
    located = frame.dropna(subset=["latitude", "longitude"])
    if _empty(located, "learners"):
        return None
    learners = numbers(located["learners"])
    largest = max(1.0, float(pd.Series(learners).max()))
    sizes = [6 if pd.isna(v) else 6 + 30 * (v / largest) ** 0.5 for v in learners]
    trace = {
        "type": "scattergeo",
        "lat": numbers(located["latitude"]),
        "lon": numbers(located["longitude"]),
        "text": [
            f"{name}<br>{count_text(n, min_cell)} learners · reach {rate_text(r)}"
            for name, n, r in zip(located["name"], located["learners"], located["reach_rate"], strict=True)
        ],
        "customdata": located["duty_station"].tolist(),
        "hovertemplate": "%{text}<extra></extra>",
        "marker": {
            "size": sizes,
            "color": numbers(located["reach_rate"]),
            "colorscale": SEQUENTIAL,
            "cmin": 0,
            "cmax": 1,
            "colorbar": {"tickformat": ".0%", "title": {"text": "Reach"}},
            "line": {"width": 0.5, "color": "#333"},
        },
    }
    geo = {
        "projection": {"type": "natural earth", "scale": 1},
        "showcountries": True,
        "countrycolor": "#bbb",
        "showland": True,
        "landcolor": "#f2f2f2",
        "showocean": False,
        "resolution": 110,
        "fitbounds": False,
        "lataxis": {"range": [-58, 85]},
        "lonaxis": {"range": [-180, 180]},
    }
    return figure([trace], height=420, legend=False, geo=geo)


def small_multiples(frame: pd.DataFrame, category: str, measures: dict[str, tuple[str, str]]) -> Figure | None:
    """One horizontal-bar panel per measure (different scales side by side), e.g. evaluation levels."""
    if frame.empty or all(_empty(frame, column) for column in measures):
        return None
    axes, names = panels(len(measures), [title for title, _ in measures.values()])
    traces = []
    for index, (column, (_title, fmt)) in enumerate(measures.items()):
        traces.append(
            {
                "type": "bar",
                "y": frame[category].tolist(),
                "x": numbers(frame[column]),
                "xaxis": names[index],
                "yaxis": "y",
                "orientation": "h",
                "marker": {"color": PALETTE[index]},
                "text": ["–" if pd.isna(v) else (rate_text(v) if fmt == "%" else f"{v:.2f}") for v in frame[column]],
                "textposition": "auto",
                "customdata": frame[category].tolist(),
                "hovertemplate": "%{y}: %{text}<extra></extra>",
            }
        )
        if fmt == "%":
            axes["xaxis" if index == 0 else f"xaxis{index + 1}"]["tickformat"] = ".0%"
    return figure(
        traces,
        height=_bar_height(len(frame), per_row=40),
        legend=False,
        margin={"t": 40},
        yaxis={**AXIS_STYLE, "type": "category", "autorange": "reversed"},
        **axes,
    )


def cohort_lines(frame: pd.DataFrame, value: str, *, label: str) -> Figure | None:
    """One line per programme across its cohorts (a cohort's name sorts in time order)."""
    if _empty(frame, value):
        return None
    traces = [
        {
            "type": "scatter",
            "x": part["cohort"].tolist(),
            "y": numbers(part[value]),
            "mode": "lines+markers",
            "name": str(programme),
            "customdata": part["programme"].tolist(),
            "line": {"color": PALETTE[index % len(PALETTE)], "width": 2},
            "hovertemplate": f"{programme}<br>cohort %{{x}}: %{{y:.1%}}<extra></extra>",
        }
        for index, (programme, part) in enumerate(frame.groupby("programme", sort=True))
    ]
    return figure(
        traces,
        height=380,
        margin={"t": 80},
        yaxis={"tickformat": ".0%", "title": {"text": label}, "range": [0, 1.05]},
        xaxis={"type": "category", "categoryorder": "category ascending", "title": {"text": "Cohort"}},
    )


def share_panels(
    frame: pd.DataFrame, category: str, measures: dict[str, tuple[str, str, float | None]], *, min_cell: int
) -> Figure | None:
    """Side-by-side panels of participants' and graduates' shares, each with its workforce baseline.

    ``measures`` maps a column prefix (``female_share``) to (panel title, baseline label, baseline value).
    """
    columns = [f"{prefix}_{group}" for prefix in measures for group in ("participants", "graduates")]
    if frame.empty or all(_empty(frame, column) for column in columns):
        return None
    axes, names = panels(len(measures), [title for title, _, _ in measures.values()])
    traces, shapes = [], []
    annotations = list(axes.pop("annotations"))
    for index, (prefix, (_title, base_label, base)) in enumerate(measures.items()):
        for offset, group in enumerate(("participants", "graduates")):
            values = frame[f"{prefix}_{group}"]
            traces.append(
                {
                    "type": "bar",
                    "y": frame[category].tolist(),
                    "x": numbers(values),
                    "xaxis": names[index],
                    "yaxis": "y",
                    "orientation": "h",
                    "name": group.capitalize(),
                    "legendgroup": group,
                    "showlegend": index == 0,
                    "marker": {"color": PALETTE[offset]},
                    "customdata": frame[category].tolist(),
                    "text": [rate_text(v) for v in values],
                    "textposition": "auto",
                    "hovertemplate": f"%{{y}}<br>{group}: %{{text}}<extra></extra>",
                }
            )
        if base is not None and not pd.isna(base):
            label = f"{base_label} {rate_text(base, 0)}"
            line, note = vertical_line(float(base), label, xref=names[index], bottom=True)
            shapes.append(line)
            annotations.append(note)
        axis = axes["xaxis" if index == 0 else f"xaxis{index + 1}"]
        axis.update(tickformat=".0%", range=[0, 1], tickvals=[0, 0.25, 0.5, 0.75, 1])
    return figure(
        traces,
        height=_bar_height(len(frame), per_row=60),
        margin={"t": 80},
        barmode="group",
        yaxis={**AXIS_STYLE, "type": "category", "autorange": "reversed"},
        shapes=shapes,
        annotations=annotations,
        **axes,
    )


def programme_completion(frame: pd.DataFrame, *, min_cell: int) -> Figure | None:
    """Completion rate per programme, labelled with its graduates."""
    return rate_bars(
        frame,
        "programme",
        "completion_rate",
        "graduates",
        min_cell=min_cell,
        label="Completion rate",
        count_label="graduates",
    )


def need_shares(frame: pd.DataFrame, *, min_cell: int, by_area: bool = True) -> Figure | None:
    """Share of respondents naming each need, coloured by the Learning Strategy area."""
    return rate_bars(
        frame,
        "learning_need",
        "need_share",
        "respondents",
        min_cell=min_cell,
        label="Share of respondents naming the need",
        count_label="respondents",
        colour_by="area" if by_area else None,
    )


def reach(frame: pd.DataFrame, category: str, *, min_cell: int, labels: Sequence[str] | None = None) -> Figure | None:
    """Reach (learners as a share of headcount) per category, labelled with its learners."""
    return rate_bars(
        frame,
        category,
        "reach_rate",
        "learners",
        min_cell=min_cell,
        label="Reach: learners as share of headcount",
        count_label="learners",
        labels=labels,
    )

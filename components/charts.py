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
    counts_text,
    figure,
    fixed_margins,
    numbers,
    panels,
    rate_text,
    rates_text,
    vertical_line,
)


def _empty(frame: pd.DataFrame, *columns: str) -> bool:
    """Nothing to draw: no rows, or every value hidden or zero."""
    return frame.empty or all(not np.nan_to_num(numbers(frame[c])).any() for c in columns)


def _positions(values: list[Any], *, sort: bool = False) -> list[tuple[Any, list[int]]]:
    """Each distinct value (in order of first appearance, or sorted) with the positions where it
    occurs; missing values are left out, as pandas' ``groupby`` leaves them out."""
    found: dict[Any, list[int]] = {}
    for position, value in enumerate(values):
        if value is not None and value == value:
            found.setdefault(value, []).append(position)
    return sorted(found.items(), key=lambda item: item[0]) if sort else list(found.items())


def _distinct(values: list[Any]) -> int:
    """How many distinct values, missing ones left out (as pandas' ``nunique``)."""
    return len({value for value in values if value is not None and value == value})


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
    codes = frame[category].tolist()[::-1]  # the first row at the top
    names = list(labels[::-1]) if labels is not None else [str(code) for code in codes]
    values = {column: numbers(frame[column])[::-1] for column in series}
    traces = [
        {
            "type": "bar",
            "y": names,
            "x": values[column],
            "orientation": "h",
            "name": label,
            "text": counts_text(values[column], min_cell),
            "textposition": "auto",
            "cliponaxis": False,
            "customdata": codes,
            "marker": {"color": PALETTE[index % len(PALETTE)]},
            "hovertemplate": f"%{{y}}<br>{label}: %{{text}}<extra></extra>",
        }
        for index, (column, label) in enumerate(series.items())
    ]
    chart = figure(
        traces,
        height=_bar_height(len(frame) * max(1, len(series))),
        legend=len(series) > 1,
        barmode="group",
        xaxis={"title": {"text": "People"}},
        yaxis={"type": "category"},
        annotations=_hidden_labels(list(values.values()), names, min_cell),
    )
    return fixed_margins(chart, left_labels=names)


def _hidden_labels(columns: list[np.ndarray], names: list[str], min_cell: int) -> list[dict[str, Any]]:
    """Say "<N" where a bar is hidden, so a missing bar never reads as zero."""
    hidden_rows = np.isnan(np.vstack(columns)).any(axis=0).tolist()
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
    codes = frame[category].tolist()[::-1]  # the first row at the top
    names = list(labels[::-1]) if labels is not None else [str(code) for code in codes]
    rates = numbers(frame[rate])[::-1]
    # The axis title names the count; the label stays short enough to fit beside the longest bar.
    counts = counts_text(numbers(frame[count])[::-1], min_cell)
    text = [f"{r} · {c}" for r, c in zip(rates_text(rates), counts, strict=True)]
    groups = [(None, list(range(len(codes))))] if colour_by is None else _positions(frame[colour_by].tolist()[::-1])
    traces = []
    for index, (group, members) in enumerate(groups):
        traces.append(
            {
                "type": "bar",
                "y": [names[i] for i in members],
                "x": rates[members],
                "orientation": "h",
                "name": str(group) if group is not None else label,
                "text": [text[i] for i in members],
                "textposition": "outside",
                "cliponaxis": False,
                "customdata": [codes[i] for i in members],
                "marker": {"color": PALETTE[index % len(PALETTE)]},
                "hovertemplate": f"%{{y}}<br>{label}: %{{text}} {count_label}<extra></extra>",
            }
        )
    shapes, annotations = [], []
    if target is not None:
        line, note = vertical_line(target, f"target {rate_text(target, 0)}")
        shapes.append(line)
        annotations.append(note)
    top = max(float(np.nanmax(rates)), target or 0)
    height = _bar_height(len(frame))
    chart = figure(
        traces,
        height=height + 40 if colour_by is not None else height,
        legend=colour_by is not None,
        margin={"r": 90, **({"t": 70} if colour_by is not None else {})},
        xaxis={
            "tickformat": ".0%",
            "title": {"text": f"{label}<br>beside each bar: share · number of {count_label}"},
            "range": [0, top * 1.35],
            **({"tickvals": [0, 0.25, 0.5, 0.75, 1]} if top > 0.3 else {}),  # room for "100%" on a narrow plot
        },
        yaxis={"type": "category", "categoryorder": "array", "categoryarray": names},
        shapes=shapes,
        annotations=annotations,
    )
    return fixed_margins(chart, left_labels=names, bottom_lines=2)


def monthly_lines(frame: pd.DataFrame, value: str, *, min_cell: int, label: str) -> Figure | None:
    """One line per platform over months; suppressed months are gaps."""
    if _empty(frame, value):
        return None
    months = [f"{month}-01" for month in frame["month"].tolist()]  # ISO date strings: plotly reads them as dates
    values = numbers(frame[value])
    text = counts_text(values, min_cell)
    traces = [
        {
            "type": "scatter",
            "x": [months[i] for i in members],
            "y": values[members],
            "mode": "lines+markers",
            "name": str(platform),
            "line": {"color": PALETTE[index % len(PALETTE)], "width": 2},
            "marker": {"size": 4},
            "text": [text[i] for i in members],
            "hovertemplate": f"{platform}<br>%{{x|%b %Y}}: %{{text}} {label}<extra></extra>",
        }
        for index, (platform, members) in enumerate(_positions(frame["platform"].tolist(), sort=True))
    ]
    chart = figure(
        traces,
        height=340,
        yaxis={"title": {"text": label.capitalize()}},
        # A short span gets a tick per month: left to itself plotly ticks twice a month, and the month
        # labels repeat.
        xaxis={"tickformat": "%b %Y", "type": "date", **({"dtick": "M1"} if len(set(months)) <= 12 else {})},
        hovermode="x",
    )
    return fixed_margins(chart, left_title=True, bottom_lines=0)


def heatmap(
    frame: pd.DataFrame, rows: str, columns: str, value: str, *, row_labels: dict[str, str] | None = None
) -> Figure | None:
    """Rows x columns coloured by a share; withheld cells stay blank."""
    if _empty(frame, value):
        return None
    row_codes, row_values = pd.factorize(frame[rows], sort=True)
    column_codes, column_values = pd.factorize(frame[columns], sort=True)
    grid = np.full((len(row_values), len(column_values)), np.nan)
    values = numbers(frame[value])
    # The first value of each cell wins: written last, in reverse order.
    cells = np.flatnonzero(~np.isnan(values) & (row_codes >= 0) & (column_codes >= 0))[::-1]
    grid[row_codes[cells], column_codes[cells]] = values[cells]
    codes = list(row_values)
    names = [row_labels.get(code, code) if row_labels else code for code in codes]
    trace = {
        "type": "heatmap",
        "z": grid,
        "x": [str(c) for c in column_values],
        "y": codes,
        "customdata": [[code] * len(column_values) for code in codes],
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
    needs = frame["learning_need"].tolist()[::-1]  # the first row at the top
    shares = [rates_text(numbers(frame[column])[::-1]) for column in ("need_share", "completion_share", "need_gap")]
    gaps = numbers(frame["need_gap"])[::-1]
    text = [f"need {n} · completions {c} · gap {g}" for n, c, g in zip(*shares, strict=True)]
    trace = {
        "type": "bar",
        "y": needs,
        "x": gaps,
        "orientation": "h",
        "marker": {"color": [PALETTE[1] if g > 0 else PALETTE[0] for g in gaps]},
        "customdata": needs,
        "text": text,
        "textposition": "none",
        "hovertemplate": "%{y}<br>%{text}<extra></extra>",
    }
    chart = figure(
        [trace],
        height=_bar_height(len(frame)),
        legend=False,
        xaxis={"tickformat": "+.0%", "title": {"text": "Need share minus completion share"}, "zeroline": True},
        yaxis={"type": "category"},
    )
    return fixed_margins(chart, left_labels=trace["y"])


def stacked_shares(frame: pd.DataFrame, category: str, stack: str, share: str, order: Sequence[str]) -> Figure | None:
    """100% stacked horizontal bars: ``stack`` values within each ``category``."""
    if _empty(frame, share):
        return None
    members = dict(_positions(frame[stack].tolist()))
    categories, shares = frame[category].tolist(), numbers(frame[share])
    text = rates_text(shares, 0)
    traces = []
    for index, value in enumerate(order):
        part = members.get(value, [])
        traces.append(
            {
                "type": "bar",
                "y": [categories[i] for i in part],
                "x": shares[part],
                "orientation": "h",
                "name": value.capitalize(),
                "marker": {"color": PALETTE[[5, 1, 4][index % 3]]},
                "text": [text[i] for i in part],
                "textposition": "inside",
                "hovertemplate": f"%{{y}}<br>{value}: %{{text}}<extra></extra>",
            }
        )
    chart = figure(
        traces,
        height=_bar_height(_distinct(categories), per_row=40),
        barmode="stack",
        xaxis={"tickformat": ".0%", "range": [0, 1]},
        yaxis={"type": "category"},
    )
    return fixed_margins(chart, left_labels=categories, bottom_lines=0)


def grouped_shares(frame: pd.DataFrame, category: str, series: str, share: str, *, min_cell: int) -> Figure | None:
    """Shares per category, one bar per ``series`` value (e.g. LNA cycles side by side)."""
    if _empty(frame, share):
        return None
    categories, shares, groups = frame[category].tolist(), numbers(frame[share]), frame[series].tolist()
    traces = [
        {
            "type": "bar",
            "y": [categories[i] for i in part],
            "x": shares[part],
            "orientation": "h",
            "name": str(value),
            "marker": {"color": PALETTE[index % len(PALETTE)]},
            "customdata": [categories[i] for i in part],
            "hovertemplate": f"{value}<br>%{{y}}: %{{x:.1%}}<extra></extra>",
        }
        for index, (value, part) in enumerate(_positions(groups, sort=True))
    ]
    # Room for every category's name: plotly drops every other label when the rows are tighter.
    per_row = max(26, 12 * _distinct(groups))
    chart = figure(
        traces,
        height=_bar_height(_distinct(categories), per_row=per_row),
        barmode="group",
        xaxis={"tickformat": ".0%"},
        yaxis={"type": "category", "tickmode": "linear", "dtick": 1},
    )
    return fixed_margins(chart, left_labels=categories, bottom_lines=0)


def duty_station_map(frame: pd.DataFrame, *, min_cell: int) -> Figure | None:
    """Duty stations as points sized by learners and coloured by reach (share of headcount)."""
    if frame.empty:
        return None
    latitude, longitude = numbers(frame["latitude"]), numbers(frame["longitude"])
    located = np.flatnonzero(~np.isnan(latitude) & ~np.isnan(longitude))
    learners, rates = numbers(frame["learners"])[located], numbers(frame["reach_rate"])[located]
    if not np.nan_to_num(learners).any():
        return None
    largest = max(1.0, float(np.nanmax(learners)))
    sizes = np.where(np.isnan(learners), 6.0, 6 + 30 * np.sqrt(np.nan_to_num(learners) / largest))
    rows = located.tolist()
    names, codes = frame["name"].tolist(), frame["duty_station"].tolist()
    names = [names[row] for row in rows]
    texts = zip(names, counts_text(learners, min_cell), rates_text(rates), strict=True)
    trace = {
        "type": "scattergeo",
        "lat": latitude[located],
        "lon": longitude[located],
        "text": [f"{name}<br>{count} learners · reach {rate}" for name, count, rate in texts],
        "customdata": [codes[row] for row in rows],
        "hovertemplate": "%{text}<extra></extra>",
        "marker": {
            "size": sizes,
            "color": rates,
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
    categories = frame[category].tolist()
    for index, (column, (_title, fmt)) in enumerate(measures.items()):
        values = numbers(frame[column])
        traces.append(
            {
                "type": "bar",
                "y": categories,
                "x": values,
                "xaxis": names[index],
                "yaxis": "y",
                "orientation": "h",
                "marker": {"color": PALETTE[index]},
                "text": rates_text(values) if fmt == "%" else ["–" if v != v else f"{v:.2f}" for v in values.tolist()],
                "textposition": "auto",
                "customdata": categories,
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
    cohorts, values = frame["cohort"].tolist(), numbers(frame[value])
    traces = [
        {
            "type": "scatter",
            "x": [cohorts[i] for i in part],
            "y": values[part],
            "mode": "lines+markers",
            "name": str(programme),
            "customdata": [programme] * len(part),
            "line": {"color": PALETTE[index % len(PALETTE)], "width": 2},
            "hovertemplate": f"{programme}<br>cohort %{{x}}: %{{y:.1%}}<extra></extra>",
        }
        for index, (programme, part) in enumerate(_positions(frame["programme"].tolist(), sort=True))
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
    categories = frame[category].tolist()
    for index, (prefix, (_title, base_label, base)) in enumerate(measures.items()):
        for offset, group in enumerate(("participants", "graduates")):
            values = numbers(frame[f"{prefix}_{group}"])
            traces.append(
                {
                    "type": "bar",
                    "y": categories,
                    "x": values,
                    "xaxis": names[index],
                    "yaxis": "y",
                    "orientation": "h",
                    "name": group.capitalize(),
                    "legendgroup": group,
                    "showlegend": index == 0,
                    "marker": {"color": PALETTE[offset]},
                    "customdata": categories,
                    "text": rates_text(values),
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

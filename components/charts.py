"""Figures from a view's table (plotly graph_objects: far cheaper per figure than plotly.express).

Each builder takes the suppressed table and returns a figure, or None when there is nothing to draw.
Codes ride in ``customdata`` so a click can filter or drill down.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components.theme import AXIS_STYLE, PALETTE, SEQUENTIAL, base_layout, count_text, new_figure, numbers, rate_text


def _empty(frame: pd.DataFrame, *columns: str) -> bool:
    """Nothing to draw: no rows, or every value hidden or zero."""
    return frame.empty or all((pd.Series(numbers(frame[c])).fillna(0) == 0).all() for c in columns)


def _bar_height(rows: int, per_row: int = 26, minimum: int = 260) -> int:
    return max(minimum, 60 + per_row * rows)


def count_bars(
    frame: pd.DataFrame,
    category: str,
    series: dict[str, str],
    *,
    min_cell: int,
    labels: Sequence[str] | None = None,
) -> go.Figure | None:
    """Horizontal bars of counts per category, one colour per series, "<N" where suppressed."""
    if _empty(frame, *series):
        return None
    frame = frame.iloc[::-1]
    names = list(labels[::-1]) if labels is not None else frame[category].astype(str).tolist()
    figure = new_figure()
    for index, (column, label) in enumerate(series.items()):
        figure.add_bar(
            y=names,
            x=numbers(frame[column]),
            orientation="h",
            name=label,
            text=[count_text(v, min_cell) for v in frame[column]],
            textposition="auto",
            cliponaxis=False,
            customdata=frame[category].tolist(),
            marker_color=PALETTE[index % len(PALETTE)],
            hovertemplate=f"%{{y}}<br>{label}: %{{text}}<extra></extra>",
        )
    figure.update_layout(barmode="group", xaxis_title="People", yaxis={"type": "category"})
    _label_hidden(figure, frame, category, list(series), names, min_cell)
    return base_layout(figure, height=_bar_height(len(frame) * max(1, len(series))), legend=len(series) > 1)


def _label_hidden(
    figure: go.Figure, frame: pd.DataFrame, category: str, columns: list[str], names: list[str], min_cell: int
) -> None:
    """Say "<N" where a bar is hidden, so a missing bar never reads as zero."""
    for name, (_, row) in zip(names, frame.iterrows(), strict=True):
        hidden = [c for c in columns if pd.isna(row[c])]
        if hidden:
            figure.add_annotation(
                x=0,
                y=name,
                text=f"some counts <{min_cell}, hidden",
                showarrow=False,
                xanchor="left",
                font={"size": 11, "color": "#555"},
                yshift=-8 if len(columns) > 1 else 0,
            )


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
) -> go.Figure | None:
    """Horizontal bars of a rate per category, labelled with the rate and the count behind it."""
    if _empty(frame, rate):
        return None
    frame = frame.iloc[::-1]
    names = list(labels[::-1]) if labels is not None else frame[category].astype(str).tolist()
    text = [
        f"{rate_text(r)} · {count_text(c, min_cell)} {count_label}"
        for r, c in zip(frame[rate], frame[count], strict=True)
    ]
    figure = new_figure()
    groups = [(None, frame)] if colour_by is None else list(frame.groupby(colour_by, sort=False))
    for index, (group, part) in enumerate(groups):
        positions = [names[i] for i in range(len(frame)) if colour_by is None or frame[colour_by].iloc[i] == group]
        figure.add_bar(
            y=positions,
            x=numbers(part[rate]),
            orientation="h",
            name=str(group) if group is not None else label,
            text=[t for i, t in enumerate(text) if colour_by is None or frame[colour_by].iloc[i] == group],
            textposition="outside",
            cliponaxis=False,
            customdata=part[category].tolist(),
            marker_color=PALETTE[index % len(PALETTE)],
            hovertemplate=f"%{{y}}<br>{label}: %{{text}} {count_label}<extra></extra>",
        )
    if target is not None:
        figure.add_vline(
            x=target, line_dash="dash", line_color="#444", annotation_text=f"target {rate_text(target, 0)}"
        )
    top = max(float(pd.Series(numbers(frame[rate])).max()), target or 0)
    figure.update_layout(
        xaxis={
            "tickformat": ".0%",
            "title": f"{label} · number of {count_label}",
            "range": [0, top * 1.35],
            "tickvals": [v / 10 for v in range(0, 11, 2)] if top > 0.3 else None,
        },
        yaxis={"type": "category", "categoryorder": "array", "categoryarray": names},
    )
    figure = base_layout(figure, height=_bar_height(len(frame)), legend=colour_by is not None)
    figure.update_layout(margin_r=90)
    if colour_by is not None:
        figure.update_layout(margin_t=70, height=figure.layout.height + 40)
    return figure


def monthly_lines(frame: pd.DataFrame, value: str, *, min_cell: int, label: str) -> go.Figure | None:
    """One line per platform over months; suppressed months are gaps."""
    if _empty(frame, value):
        return None
    figure = new_figure()
    for index, (platform, part) in enumerate(frame.groupby("platform", sort=True)):
        figure.add_scatter(
            x=(part["month"] + "-01").tolist(),  # ISO date strings: plotly reads them as dates, no parsing here
            y=numbers(part[value]),
            mode="lines+markers",
            name=str(platform),
            line={"color": PALETTE[index % len(PALETTE)], "width": 2},
            marker={"size": 4},
            text=[count_text(v, min_cell) for v in part[value]],
            hovertemplate=f"{platform}<br>%{{x|%b %Y}}: %{{text}} {label}<extra></extra>",
        )
    figure.update_layout(yaxis_title=label.capitalize(), xaxis={"title": None, "tickformat": "%b %Y"}, hovermode="x")
    return base_layout(figure, height=340)


def heatmap(
    frame: pd.DataFrame, rows: str, columns: str, value: str, *, row_labels: dict[str, str] | None = None
) -> go.Figure | None:
    """Rows x columns coloured by a share; withheld cells stay blank."""
    if _empty(frame, value):
        return None
    grid = frame.pivot_table(index=rows, columns=columns, values=value, aggfunc="first", dropna=False)
    grid = grid.astype("Float64")
    codes = grid.index.tolist()
    names = [row_labels.get(code, code) if row_labels else code for code in codes]
    figure = new_figure(
        go.Heatmap(
            z=grid.to_numpy(dtype=float, na_value=float("nan")),
            x=[str(c) for c in grid.columns],
            y=codes,
            customdata=[[code] * len(grid.columns) for code in codes],
            colorscale=SEQUENTIAL,
            colorbar={"tickformat": ".0%", "title": "Share"},
            hovertemplate="%{y}<br>%{x}: %{z:.1%}<extra></extra>",
            xgap=1,
            ygap=1,
        )
    )
    figure.update_layout(
        yaxis={"type": "category", "autorange": "reversed", "tickvals": codes, "ticktext": names},
        xaxis={"tickangle": -35, "side": "top"},
    )
    return base_layout(figure, height=_bar_height(len(codes), per_row=18, minimum=320) + 120, legend=False)


def diverging_gap(frame: pd.DataFrame, *, min_cell: int) -> go.Figure | None:
    """need_gap per need: positive (more need than uptake) in orange, negative in blue."""
    if _empty(frame, "need_gap"):
        return None
    frame = frame.iloc[::-1]
    gaps = numbers(frame["need_gap"])
    text = [
        f"need {rate_text(n)} · completions {rate_text(c)} · gap {rate_text(g)}"
        for n, c, g in zip(frame["need_share"], frame["completion_share"], frame["need_gap"], strict=True)
    ]
    figure = new_figure(
        go.Bar(
            y=frame["learning_need"],
            x=gaps,
            orientation="h",
            marker_color=[PALETTE[1] if g > 0 else PALETTE[0] for g in gaps],
            customdata=frame["learning_need"].tolist(),
            text=text,
            textposition="none",
            hovertemplate="%{y}<br>%{text}<extra></extra>",
        )
    )
    figure.update_layout(
        xaxis={"tickformat": "+.0%", "title": "Need share minus completion share", "zeroline": True},
        yaxis={"type": "category"},
    )
    return base_layout(figure, height=_bar_height(len(frame)), legend=False)


def stacked_shares(
    frame: pd.DataFrame, category: str, stack: str, share: str, order: Sequence[str]
) -> go.Figure | None:
    """100% stacked horizontal bars: ``stack`` values within each ``category``."""
    if _empty(frame, share):
        return None
    figure = new_figure()
    for index, value in enumerate(order):
        part = frame[frame[stack] == value]
        figure.add_bar(
            y=part[category],
            x=numbers(part[share]),
            orientation="h",
            name=value.capitalize(),
            marker_color=PALETTE[[5, 1, 4][index % 3]],
            text=[rate_text(v, 0) for v in part[share]],
            textposition="inside",
            hovertemplate=f"%{{y}}<br>{value}: %{{text}}<extra></extra>",
        )
    figure.update_layout(barmode="stack", xaxis={"tickformat": ".0%", "range": [0, 1]}, yaxis={"type": "category"})
    return base_layout(figure, height=_bar_height(frame[category].nunique(), per_row=40))


def grouped_shares(frame: pd.DataFrame, category: str, series: str, share: str, *, min_cell: int) -> go.Figure | None:
    """Shares per category, one bar per ``series`` value (e.g. LNA cycles side by side)."""
    if _empty(frame, share):
        return None
    figure = new_figure()
    for index, (value, part) in enumerate(frame.groupby(series, sort=True)):
        figure.add_bar(
            y=part[category],
            x=numbers(part[share]),
            orientation="h",
            name=str(value),
            marker_color=PALETTE[index % len(PALETTE)],
            customdata=part[category].tolist(),
            hovertemplate=f"{value}<br>%{{y}}: %{{x:.1%}}<extra></extra>",
        )
    figure.update_layout(barmode="group", xaxis={"tickformat": ".0%"}, yaxis={"type": "category"})
    return base_layout(figure, height=_bar_height(frame[category].nunique() * frame[series].nunique(), per_row=12))


def duty_station_map(frame: pd.DataFrame, *, min_cell: int) -> go.Figure | None:
    """Duty stations as points sized by learners and coloured by reach (share of headcount)."""
    located = frame.dropna(subset=["latitude", "longitude"])
    if _empty(located, "learners"):
        return None
    learners = numbers(located["learners"])
    sizes = [6 if pd.isna(v) else 6 + 30 * (v / max(1.0, float(pd.Series(learners).max()))) ** 0.5 for v in learners]
    figure = new_figure(
        go.Scattergeo(
            lat=located["latitude"],
            lon=located["longitude"],
            text=[
                f"{name}<br>{count_text(n, min_cell)} learners · reach {rate_text(r)}"
                for name, n, r in zip(located["name"], located["learners"], located["reach_rate"], strict=True)
            ],
            customdata=located["duty_station"].tolist(),
            hovertemplate="%{text}<extra></extra>",
            marker={
                "size": sizes,
                "color": numbers(located["reach_rate"]),
                "colorscale": SEQUENTIAL,
                "cmin": 0,
                "cmax": 1,
                "colorbar": {"tickformat": ".0%", "title": "Reach"},
                "line": {"width": 0.5, "color": "#333"},
            },
        )
    )
    figure.update_geos(
        projection_type="natural earth",
        showcountries=True,
        countrycolor="#bbb",
        showland=True,
        landcolor="#f2f2f2",
        showocean=False,
        resolution=110,
        fitbounds=False,
        projection_scale=1,
        lataxis_range=[-58, 85],
        lonaxis_range=[-180, 180],
    )
    return base_layout(figure, height=420, legend=False)


def small_multiples(frame: pd.DataFrame, category: str, panels: dict[str, tuple[str, str]]) -> go.Figure | None:
    """One horizontal-bar panel per measure (different scales side by side), e.g. evaluation levels."""
    if frame.empty or all(_empty(frame, column) for column in panels):
        return None
    figure = make_subplots(
        rows=1, cols=len(panels), shared_yaxes=True, subplot_titles=[t for t, _ in panels.values()], figure=new_figure()
    )
    for index, (column, (_title, fmt)) in enumerate(panels.items(), start=1):
        values = numbers(frame[column])
        figure.add_bar(
            y=frame[category],
            x=values,
            orientation="h",
            marker_color=PALETTE[index - 1],
            text=["–" if pd.isna(v) else (rate_text(v) if fmt == "%" else f"{v:.2f}") for v in frame[column]],
            textposition="auto",
            customdata=frame[category].tolist(),
            hovertemplate="%{y}: %{text}<extra></extra>",
            row=1,
            col=index,
        )
        if fmt == "%":
            figure.update_xaxes(tickformat=".0%", row=1, col=index)
    figure.update_yaxes(type="category", autorange="reversed", **AXIS_STYLE)
    figure.update_xaxes(**AXIS_STYLE)
    figure = base_layout(figure, height=_bar_height(len(frame), per_row=40), legend=False)
    return figure.update_layout(margin_t=40)


def cohort_lines(frame: pd.DataFrame, value: str, *, label: str) -> go.Figure | None:
    """One line per programme across its cohorts (a cohort's name sorts in time order)."""
    if _empty(frame, value):
        return None
    figure = new_figure()
    for index, (programme, part) in enumerate(frame.groupby("programme", sort=True)):
        figure.add_scatter(
            x=part["cohort"],
            y=numbers(part[value]),
            mode="lines+markers",
            name=str(programme),
            customdata=part["programme"].tolist(),
            line={"color": PALETTE[index % len(PALETTE)], "width": 2},
            hovertemplate=f"{programme}<br>cohort %{{x}}: %{{y:.1%}}<extra></extra>",
        )
    figure.update_layout(
        yaxis={"tickformat": ".0%", "title": label, "range": [0, 1.05]},
        xaxis={"type": "category", "categoryorder": "category ascending", "title": "Cohort"},
    )
    figure = base_layout(figure, height=380)
    return figure.update_layout(margin_t=80)


def share_panels(
    frame: pd.DataFrame, category: str, panels: dict[str, tuple[str, str, float | None]], *, min_cell: int
) -> go.Figure | None:
    """Side-by-side panels of participants' and graduates' shares, each with its workforce baseline.

    ``panels`` maps a column prefix (``female_share``) to (panel title, baseline label, baseline value).
    """
    columns = [f"{prefix}_{group}" for prefix in panels for group in ("participants", "graduates")]
    if frame.empty or all(_empty(frame, column) for column in columns):
        return None
    figure = make_subplots(
        rows=1,
        cols=len(panels),
        shared_yaxes=True,
        subplot_titles=[title for title, _, _ in panels.values()],
        figure=new_figure(),
    )
    for index, (prefix, (_title, base_label, base)) in enumerate(panels.items(), start=1):
        for offset, group in enumerate(("participants", "graduates")):
            values = frame[f"{prefix}_{group}"]
            figure.add_bar(
                y=frame[category],
                x=numbers(values),
                orientation="h",
                name=group.capitalize(),
                legendgroup=group,
                showlegend=index == 1,
                marker_color=PALETTE[offset],
                customdata=frame[category].tolist(),
                text=[rate_text(v) for v in values],
                textposition="auto",
                hovertemplate=f"%{{y}}<br>{group}: %{{text}}<extra></extra>",
                row=1,
                col=index,
            )
        if base is not None and not pd.isna(base):
            figure.add_vline(
                x=float(base),
                line_dash="dash",
                line_color="#333",
                row=1,
                col=index,
                annotation_text=f"{base_label} {rate_text(base, 0)}",
                annotation_position="bottom right",
            )
        figure.update_xaxes(tickformat=".0%", range=[0, 1], tickvals=[0, 0.25, 0.5, 0.75, 1], row=1, col=index)
    figure.update_yaxes(type="category", autorange="reversed", **AXIS_STYLE)
    figure.update_xaxes(**AXIS_STYLE)
    figure.update_layout(barmode="group")
    figure = base_layout(figure, height=_bar_height(len(frame), per_row=60))
    return figure.update_layout(margin_t=80)


def programme_completion(frame: pd.DataFrame, *, min_cell: int) -> go.Figure | None:
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


def need_shares(frame: pd.DataFrame, *, min_cell: int, by_area: bool = True) -> go.Figure | None:
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


def reach(
    frame: pd.DataFrame, category: str, *, min_cell: int, labels: Sequence[str] | None = None
) -> go.Figure | None:
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

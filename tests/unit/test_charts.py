"""Figure builders: what a reader sees on the axes."""

from __future__ import annotations

import pandas as pd

from components.charts import monthly_lines


def months_frame(months: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"month": months, "platform": ["Coursera"] * len(months), "completions": list(range(10, 10 + len(months)))}
    )


def test_a_short_span_has_one_tick_per_month_so_no_month_label_repeats():
    figure = monthly_lines(months_frame(["2024-01", "2024-02", "2024-03"]), "completions", min_cell=5, label="x")
    assert figure["layout"]["xaxis"]["dtick"] == "M1"


def test_a_long_span_leaves_the_ticks_to_plotly():
    months = [f"{year}-{month:02d}" for year in (2022, 2023) for month in range(1, 13)]
    figure = monthly_lines(months_frame(months), "completions", min_cell=5, label="x")
    assert "dtick" not in figure["layout"]["xaxis"]

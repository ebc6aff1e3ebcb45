"""Figure builders: what a reader sees on the axes."""

from __future__ import annotations

import pandas as pd

from components.charts import grouped_shares, monthly_lines, rate_bars
from components.theme import text_width


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


def test_needs_across_cycles_give_every_need_a_labelled_row():
    needs = [f"Need {n}" for n in range(15)]
    frame = pd.DataFrame(
        {
            "learning_need": needs * 2,
            "cycle": ["2020"] * 15 + ["2022"] * 15,
            "need_share": [0.01 * n for n in range(30)],
        }
    )
    figure = grouped_shares(frame, "learning_need", "cycle", "need_share", min_cell=5)
    assert figure["layout"]["yaxis"]["dtick"] == 1  # plotly would otherwise label every other need
    assert figure["layout"]["height"] >= 26 * len(needs)


def test_rate_bar_labels_leave_the_count_name_to_the_axis_title():
    frame = pd.DataFrame({"learning_need": ["Innovation"], "need_share": [0.123], "respondents": [1234]})
    figure = rate_bars(
        frame, "learning_need", "need_share", "respondents", min_cell=5, label="Share", count_label="respondents"
    )
    assert figure["data"][0]["text"] == ["12.3% · 1,234"]
    assert figure["layout"]["xaxis"]["title"]["text"].endswith("share · number of respondents")
    assert "%{text} respondents" in figure["data"][0]["hovertemplate"]


def test_bar_charts_size_their_margins_for_the_longest_label_so_plotly_draws_once():
    names = ["Aspiring People Leaders Certification", "UN System Executive Management Programme", "EMC"]
    frame = pd.DataFrame(
        {"programme": names, "completion_rate": [0.8, 0.7, 0.9], "graduates": [100, 200, 300]},
    )
    layout = rate_bars(
        frame, "programme", "completion_rate", "graduates", min_cell=5, label="Rate", count_label="graduates"
    )["layout"]
    assert not layout["xaxis"]["automargin"] and not layout["yaxis"]["automargin"]
    # Wide enough for the longest name in DejaVu Sans at 13 px (about 300 px, measured in Chromium),
    # not for the shortest; and room below for the ticks and the two-line axis title.
    assert text_width(names[1]) > 290
    assert layout["margin"]["l"] >= text_width(names[1]) > text_width("EMC") + 200
    assert layout["margin"]["b"] >= 3 * 19


def test_a_label_outside_ascii_is_counted_as_wide():
    assert text_width("Genève") >= text_width("Geneve")

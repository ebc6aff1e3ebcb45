"""Leadership programmes: participants, graduates, completion, who they are against the workforce, evaluation."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from components import charts
from components.filters import click_graph_id, filter_bar
from components.theme import rate_text
from pages._context import PageContext

dash.register_page(__name__, path="/leadership", name="Leadership programmes", title="Leadership programmes", order=3)

#: measure -> (title, share column prefix, workforce baseline column, baseline label)
SHARES = {
    "female": ("Women", "female_share", "female_share", "women in the workforce"),
    "field": ("Outside headquarters", "field_share", "field_share", "field staff in the workforce"),
    "national": (
        "National personnel",
        "national_share",
        "locally_recruited_share",
        "locally recruited (GS, NPO) staff",
    ),
}
EVALUATION = {
    "avg_satisfaction": ("Satisfaction, 1-5 (level 1)", "n"),
    "avg_score_gain": ("Score gain, points (level 2)", "n"),
    "applied_on_job_rate": ("Applied on the job (level 3)", "%"),
}


def share_card(page: PageContext, measure: str, summary: pd.DataFrame, baseline: pd.DataFrame) -> dbc.Card:
    title, prefix, base_column, base_label = SHARES[measure]
    long = pd.concat(
        [
            pd.DataFrame(
                {"programme": summary["programme"], "group": "Participants", "share": summary[f"{prefix}_participants"]}
            ),
            pd.DataFrame(
                {"programme": summary["programme"], "group": "Graduates", "share": summary[f"{prefix}_graduates"]}
            ),
        ]
    )
    figure = charts.grouped_shares(long, "programme", "group", "share", min_cell=page.min_cell)
    base = baseline[base_column].iloc[0] if not baseline.empty else None
    if figure is not None and base is not None and not pd.isna(base):
        figure.add_vline(
            x=float(base), line_dash="dash", line_color="#444", annotation_text=f"workforce {rate_text(base)}"
        )
    return page.card(
        click_graph_id("programme", f"programme_{measure}"),
        f"{title}: share of participants and of graduates",
        "programme_summary",
        figure,
        note=f"Dashed line: {base_label} ({rate_text(base)}), from the latest headcount.",
    )


def layout(**query: str) -> html.Div:
    page = PageContext.from_query(query)
    summary = page.view("programme_summary")
    cohorts = page.view("programme_cohorts")
    baseline = page.view("workforce_baseline")
    cohorts_long = cohorts.assign(label=cohorts["programme"] + " " + cohorts["cohort"])
    return html.Div(
        [
            html.H1("Leadership programmes", className="h3"),
            html.P(
                page.describe() + " · all cohorts (cohorts are the programmes' own periods)", className="text-muted"
            ),
            filter_bar(
                page.filters,
                page.options,
                extra=("programme",),
                hide=("from_month", "to_month", "platform"),
                clear_href="/leadership",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        page.card(
                            click_graph_id("programme", "programme_summary"),
                            "Completion rate and graduates per programme",
                            "programme_summary",
                            charts.rate_bars(
                                summary,
                                "programme",
                                "completion_rate",
                                "graduates",
                                min_cell=page.min_cell,
                                label="Completion rate: completed / all participants",
                                count_label="graduates",
                            ),
                            note="Click a programme to filter by it.",
                        ),
                        lg=6,
                        className="mb-3",
                    ),
                    dbc.Col(
                        page.card(
                            "leadership-cohorts",
                            "Completion rate per cohort",
                            "programme_cohorts",
                            charts.rate_bars(
                                cohorts_long,
                                "label",
                                "completion_rate",
                                "graduates",
                                min_cell=page.min_cell,
                                label="Completion rate",
                                count_label="graduates",
                            ),
                        ),
                        lg=6,
                        className="mb-3",
                    ),
                    *[
                        dbc.Col(share_card(page, measure, summary, baseline), lg=4, className="mb-3")
                        for measure in SHARES
                    ],
                    dbc.Col(
                        page.card(
                            "leadership-evaluation",
                            "Evaluation levels 1-3 per programme",
                            "programme_summary",
                            charts.small_multiples(summary, "programme", EVALUATION),
                            note="Only where evaluations were uploaded; withheld below the minimum number of people.",
                        ),
                        lg=12,
                        className="mb-3",
                    ),
                ]
            ),
        ]
    )

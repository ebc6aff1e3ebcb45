"""Leadership programmes: participants, graduates, completion, who they are against the workforce, evaluation."""

from __future__ import annotations

import dash
import pandas as pd
from dash import html

from components import charts
from components.filters import click_graph_id, filter_bar
from components.page_context import PageContext, page_layout
from components.sections import grid, programmes_card

dash.register_page(__name__, path="/leadership", name="Leadership programmes", title="Leadership programmes", order=3)

EVALUATION = {
    "avg_satisfaction": ("Satisfaction, 1-5 (level 1)", "n"),
    "avg_score_gain": ("Score gain, points (level 2)", "n"),
    "applied_on_job_rate": ("Applied on the job (level 3)", "%"),
}
SHARES_NOTE = (
    "Dashed lines: the workforce in the latest headcount. National personnel are compared with locally "
    "recruited staff (GS and NPO categories)."
)


def share_figure(page: PageContext, summary: pd.DataFrame, baseline: pd.DataFrame) -> object:
    base = baseline.iloc[0] if not baseline.empty else {}
    panels = {
        "female_share": ("Women", "workforce", base.get("female_share")),
        "field_share": ("Outside headquarters", "workforce", base.get("field_share")),
        "national_share": ("National personnel", "locally recruited", base.get("locally_recruited_share")),
    }
    return charts.share_panels(summary, "programme", panels, min_cell=page.min_cell)


def layout(**query: str) -> html.Div:
    return page_layout(content, query)


def content(page: PageContext) -> html.Div:
    summary = page.view("programme_summary")
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
            grid(
                (
                    programmes_card(
                        page,
                        "Completion rate and graduates per programme",
                        note="Completion rate: completed / all participants. Click a programme to filter by it.",
                    ),
                    6,
                ),
                (
                    page.card(
                        click_graph_id("programme", "programme_cohorts"),
                        "Completion rate per cohort",
                        "programme_cohorts",
                        charts.cohort_lines(page.view("programme_cohorts"), "completion_rate", label="Completion rate"),
                        note="Cohorts still running show a low rate until their participants complete.",
                    ),
                    6,
                ),
                (
                    page.card(
                        click_graph_id("programme", "programme_shares"),
                        "Who takes part and who graduates: women, field and national personnel",
                        "programme_summary",
                        share_figure(page, summary, page.view("workforce_baseline")),
                        note=SHARES_NOTE,
                    ),
                    12,
                ),
                (
                    page.card(
                        "leadership-evaluation",
                        "Evaluation levels 1-3 per programme",
                        "programme_summary",
                        charts.small_multiples(summary, "programme", EVALUATION),
                        note="Only where evaluations were uploaded; withheld below the minimum number of people.",
                    ),
                    12,
                ),
            ),
        ]
    )

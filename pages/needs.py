"""Learning needs (LNA): needs by area and need, priorities, entity x need, cycles, and the needs-vs-uptake gap."""

from __future__ import annotations

import dash
from dash import html

from components import charts
from components.filters import click_graph_id, filter_bar
from components.page_context import PageContext, page_layout
from components.sections import grid

dash.register_page(__name__, path="/needs", name="Learning needs", title="Learning needs analysis", order=1)

NEEDS_FILTERS = ("cycle", "report_type", "learning_need")
NEED_SHARE_NOTE = (
    "need_share = respondents naming the need / all respondents in the slice. Click a need to filter by it."
)
GAP_NOTE = (
    "need_gap = need share in the LNA minus the need's share of completions in the period. "
    "Orange: more need than uptake."
)
HEATMAP_NOTE = "Blank cells are withheld (fewer respondents than the minimum). Click an entity to open its profile."


def layout(**query: str) -> html.Div:
    return page_layout(content, query)


def content(page: PageContext) -> html.Div:
    needs = page.view("needs_by_need")
    cycle = needs["cycle"].iloc[0] if not needs.empty else page.filters.cycle
    by_entity = page.view("needs_by_entity")
    entity_names = dict(zip(by_entity["entity"], by_entity["entity"], strict=True))
    return html.Div(
        [
            html.H1("Learning needs analysis", className="h3"),
            html.P(
                f"{page.describe()} · LNA cycle {cycle or 'none'}"
                + (f" · {page.filters.report_type}" if page.filters.report_type else ""),
                className="text-muted",
            ),
            filter_bar(
                page.filters,
                page.options,
                extra=NEEDS_FILTERS,
                hide=("from_month", "to_month", "platform"),
                clear_href="/needs",
            ),
            grid(
                (
                    page.card(
                        click_graph_id("learning_need", "needs_by_need"),
                        f"Learning needs by area, LNA {cycle}",
                        "needs_by_need",
                        charts.need_shares(needs, min_cell=page.min_cell),
                        note=NEED_SHARE_NOTE,
                    ),
                    6,
                ),
                (
                    page.card(
                        click_graph_id("learning_need", "need_gap"),
                        "Needs against uptake: where learning lags behind need",
                        "need_gap",
                        charts.diverging_gap(page.view("need_gap"), min_cell=page.min_cell),
                        note=GAP_NOTE,
                    ),
                    6,
                ),
                (
                    page.card(
                        "needs-priority",
                        "Priority mix per area",
                        "needs_by_priority",
                        charts.stacked_shares(
                            page.view("needs_by_priority"),
                            "area",
                            "priority",
                            "share_of_area",
                            ("high", "medium", "low"),
                        ),
                    ),
                    6,
                ),
                (
                    page.card(
                        "needs-cycles",
                        "Needs across LNA cycles",
                        "needs_by_cycle",
                        charts.grouped_shares(
                            page.view("needs_by_cycle"),
                            "learning_need",
                            "cycle",
                            "need_share",
                            min_cell=page.min_cell,
                        ),
                        note="Share of each cycle's respondents naming the need.",
                    ),
                    6,
                ),
                (
                    page.card(
                        click_graph_id("entity", "needs_by_entity"),
                        f"Needs per entity, LNA {cycle}: share of the entity's respondents",
                        "needs_by_entity",
                        charts.heatmap(by_entity, "entity", "learning_need", "need_share", row_labels=entity_names),
                        note=HEATMAP_NOTE,
                    ),
                    12,
                ),
            ),
        ]
    )

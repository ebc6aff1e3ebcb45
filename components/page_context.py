"""What every page needs for one visit: its filters, the store, the suppression size and the data date."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import pandas as pd
from dash import MATCH, Input, Output, State, callback, ctx, html, no_update
from sqlalchemy import Engine

import settings
from components.figure_card import TABLE_BODY, TABLE_TABS, figure_card
from components.filters import PAGE_URL
from components.in_place import drawn, router_leaves_the_page
from components.tables import data_table
from data_access.reads.cache import DataVersions, data_versions
from data_access.reads.filters import Filters
from data_access.reads.views import VIEWS, cached_options, cached_view, data_as_of
from data_access.store import default_cache, default_engine
from server.auth import current_user, require, scoped


@dataclass
class PageContext:
    filters: Filters
    engine: Engine
    min_cell: int
    as_of: str | None
    options: dict[str, list[tuple[str, str]]]
    versions: DataVersions = field(default_factory=DataVersions)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @classmethod
    def from_query(cls, query: dict[str, Any], **fixed: Any) -> PageContext:
        """The context for a visit; ``fixed`` overrides query values (the entity of an entity page)."""
        engine = default_engine()
        user = current_user()
        filters = scoped(Filters.from_query({**query, **fixed}), user)
        versions = data_versions(engine)
        options = cached_options(engine, default_cache(settings.get("CACHE_URL")), versions)
        if user is not None and user.entities is not None:
            options["entity"] = [(code, label) for code, label in options["entity"] if code in user.entities]
        return cls(filters, engine, settings.get_int("MIN_CELL_SIZE"), data_as_of(engine), options, versions)

    @classmethod
    def from_location(cls, pathname: str | None, search: str | None) -> PageContext:
        """The context of the page at this location (an entity profile's path fixes the entity)."""
        query = dict(parse_qsl((search or "").lstrip("?")))
        fixed = {}
        if (pathname or "").startswith("/entity/"):
            fixed["entity"] = (pathname or "").removeprefix("/entity/").strip("/")
        return cls.from_query(query, **fixed)

    def view(self, name: str) -> pd.DataFrame:
        """The suppressed table of view ``name`` for this visit's filters (computed once per visit)."""
        if name not in self.tables:
            store = default_cache(settings.get("CACHE_URL"))
            self.tables[name] = cached_view(self.engine, store, self.versions, name, self.filters, self.min_cell)
        return self.tables[name]

    def card(self, graph_id: Any, title: str, view: str, figure: Any, note: str | None = None) -> Any:
        return figure_card(
            graph_id,
            title,
            figure,
            self.view(view),
            view=view,
            query_string=self.filters.query_string(),
            as_of=self.as_of,
            min_cell=self.min_cell,
            note=note,
        )

    def label(self, kind: str, code: str | None) -> str | None:
        return dict(self.options.get(kind, [])).get(code, code) if code else None

    def describe(self) -> str:
        """The active filters in words, for the page heading."""
        f = self.filters
        parts = [
            self.label("entity", f.entity),
            self.label("duty_station", f.duty_station),
            f.staff_category,
            self.label("gender", f.gender),
            f.platform,
        ]
        if f.date_from or f.date_to:
            parts.append(f"{f.date_from or 'start'} to {f.date_to or 'latest'}")
        shown = [p for p in parts if p]
        return "All staff, all platforms, all dates" if not shown else " · ".join(shown)


def page_layout(content: Callable[[PageContext], Any], query: dict[str, Any], **fixed: Any) -> Any:
    """A dashboard page's layout: ``content`` for this visit's context, drawn so that a filter change
    redraws it in place (``components.in_place``).

    Only Dash's once-per-process setup calls a layout with nobody signed in (to learn the ids in every
    page; the callbacks' ids are in the shell or pattern-matching): it gets an empty page, with no data.
    """
    if current_user() is None:
        return html.Div()
    if router_leaves_the_page():
        return no_update
    return drawn(content(PageContext.from_query(query, **fixed)))


@callback(
    Output({"type": TABLE_BODY, "view": MATCH, "card": MATCH}, "children"),
    Input({"type": TABLE_TABS, "view": MATCH, "card": MATCH}, "active_tab"),
    State(PAGE_URL, "pathname"),
    State(PAGE_URL, "search"),
    prevent_initial_call=True,
)
def open_table(active_tab: str | None, pathname: str | None, search: str | None) -> Any:
    """Build a card's table when someone opens it, from the same suppressed view as its chart."""
    require("viewer")
    view = ctx.triggered_id["view"] if isinstance(ctx.triggered_id, dict) else None
    if active_tab != "table" or view not in VIEWS:
        return no_update
    page = PageContext.from_location(pathname, search)
    return data_table(page.view(view), page.min_cell)

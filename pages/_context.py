"""What every page needs for one visit: its filters, the store, the suppression size and the data date.

(A leading underscore keeps Dash's page registry from treating this helper as a page.)
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import dash
import flask
import numpy as np
import orjson
import pandas as pd
from dash import MATCH, Input, Output, State, callback, ctx, no_update
from dash.development.base_component import Component
from plotly.io.json import to_json_plotly
from sqlalchemy import Engine

import settings
from auth import current_user, require, scoped
from components.fast_build import component_json
from components.figure_card import TABLE_BODY, TABLE_TABS, figure_card
from components.filters import PAGES_LOCATION
from components.tables import data_table
from data_access.cache import DataVersions, MemoryStore, Store, cache_key, data_versions
from data_access.filters import Filters
from data_access.reference import REFERENCE_READS, Reference, reference_of
from data_access.store import default_cache, default_engine
from data_access.views import VIEWS, cached_options, cached_view, data_as_of


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
        as_of = data_as_of(engine, versions)
        return cls(filters, engine, settings.get_int("MIN_CELL_SIZE"), as_of, options, versions)

    @classmethod
    def from_location(cls, pathname: str | None, search: str | None) -> PageContext:
        """The context of the page at this location (an entity profile's path fixes the entity)."""
        query = dict(parse_qsl((search or "").lstrip("?")))
        fixed = {}
        if (pathname or "").startswith("/entity/"):
            fixed["entity"] = (pathname or "").removeprefix("/entity/").strip("/")
        return cls.from_query(query, **fixed)

    def view(self, name: str) -> pd.DataFrame:
        if name not in self.tables:
            store = default_cache(settings.get("CACHE_URL"))
            self.tables[name] = cached_view(self.engine, store, self.versions, name, self.filters, self.min_cell)
        return self.tables[name]

    def reference(self) -> Reference | None:
        """Headcount and names of this visit's data version, held in memory (None while the data changes)."""
        return reference_of(self.engine, self.versions.of(REFERENCE_READS))

    def rendered(self, name: str, render: Callable[[PageContext], Any]) -> Any:
        """``render(self)`` as JSON, or the same page's content as rendered before for this slice, viewer
        scope and data version (by this process, or by any worker through a shared cache): a repeat
        visit skips building and serialising the components."""
        user = current_user()
        scope = None if user is None or user.entities is None else sorted(user.entities)
        key = json.dumps(
            [name, self.filters.to_query(), scope, self.versions, self.min_cell, self.as_of], sort_keys=True
        )
        found = _rendered_pages().get(key) or _pages_ahead().get(key)
        if found is None:
            store = default_cache(settings.get("CACHE_URL"))
            shared = store if getattr(store, "shared", False) else None
            value = _read(shared, cache_key("page", key))
            if value is None:
                value = as_json(render(self))
                _write(shared, cache_key("page", key), value)
            found = orjson.Fragment(value)
            ahead = flask.has_request_context() and flask.g.get(RENDERING_AHEAD)
            (_pages_ahead() if ahead else _rendered_pages()).set(key, found)
        return found

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


def as_json(components: Any) -> bytes:
    """``components`` serialised once, as JSON that Dash's response embeds as is (an ``orjson.Fragment``).

    Dash serialises a callback's answer with plotly's encoder, which walks every component in Python
    when the answer holds any; orjson's ``default`` hook does the same work natively. One bytes object
    per cached page also leaves the garbage collector nothing to walk. Anything orjson cannot take
    goes back to plotly's encoder.
    """
    try:
        return orjson.dumps(components, default=_plain, option=_JSON_OPTIONS)
    except TypeError:
        return to_json_plotly(components).encode()


def _read(store: Store | None, key: str) -> bytes | None:
    try:
        return store.get(key) if store is not None else None
    except Exception:  # a cache that is down only makes pages slower
        return None


def _write(store: Store | None, key: str, value: bytes) -> None:
    with contextlib.suppress(Exception):
        if store is not None:
            store.set(key, value)


def prerender(slices: Iterable[Filters], engine: Engine) -> int:
    """Render the pages registered with ``warm=True`` for ``slices`` now, as a viewer of every entity
    sees them, so the first visit of a warmed slice is served rendered (an entity's profile for the
    slice of that entity alone). Stops when the data changes meanwhile; returns the pages rendered."""
    versions = data_versions(engine)
    layouts = [
        (bool(page.get("path_template")), importlib.import_module(page["module"]).layout)
        for page in dash.page_registry.values()
        if page.get("warm")
    ]
    done = 0
    for filters in slices:
        if done and data_versions(engine) != versions:
            break
        for per_entity, layout in layouts:
            if not per_entity:
                layout(**filters.to_query())
            elif filters.active() == ["entity"]:
                layout(code=filters.entity)
            else:
                continue
            done += 1
    return done


_JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def _plain(value: Any) -> Any:
    if isinstance(value, Component):
        return component_json(value)
    if hasattr(value, "to_plotly_json"):
        return value.to_plotly_json()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (np.ndarray, pd.Series, pd.Index)):
        return value.tolist()  # orjson comes back here for any NA inside
    raise TypeError(type(value).__name__)


#: Set in ``flask.g`` while pages are rendered ahead of a click (``pages/_prefetch.py``).
RENDERING_AHEAD = "rendering_ahead"


@functools.cache
def _pages_ahead() -> MemoryStore[Any]:
    """Pages rendered ahead of a click, kept apart so they never push out what the commit's warm-up
    rendered: about four profiles' refinements (60 pages each, about 12 MB in all)."""
    return MemoryStore(capacity=256)


@functools.cache
def _rendered_pages() -> MemoryStore[Any]:
    """Each process's latest rendered pages, as JSON (keys hold the data version, so never stale).

    A page takes 50-75 KB, so 512 of them (what a warm-up renders, and more) hold about 35 MB.
    """
    return MemoryStore(capacity=512)


@callback(
    Output({"type": TABLE_BODY, "view": MATCH, "card": MATCH}, "children"),
    Input({"type": TABLE_TABS, "view": MATCH, "card": MATCH}, "active_tab"),
    State(PAGES_LOCATION, "pathname"),
    State(PAGES_LOCATION, "search"),
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

"""A filter change redraws the page in place: only the props that changed are sent, and graphs get their
new figures through Plotly.react, instead of the page router mounting the whole page again.

A page is drawn as ``drawn(tree)``: every component gets an id (its position, when it has none of its
own) and a ``dcc.Store`` keeps the page's *shape* (each component's kind, id and whether it holds
components) and a digest of each component's props. When only the query string changes, the page
router is told to leave the page alone (``router_leaves_the_page``) and ``update_page`` builds the
page for the new query: if its shape is the one shown, it sets just the props whose digest changed,
and every figure; otherwise (a card appeared or went) it puts the new page in whole.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl

import dash
from dash import ALL, Input, State, callback, ctx, dcc, html, set_props
from dash.development.base_component import Component
from dash.exceptions import MissingCallbackContextException

from components.filters import PAGE_URL

PAGE_BODY = "page-body"
#: A pattern id: a page that is not drawn in place (the data page, say) has none, and the update's
#: State(ALL) is then an empty list rather than an id missing from the page.
PAGE_SHAPE = {"type": "page-shape", "of": "page"}
#: Props sent on every redraw whatever their digest: a graph's figure (its digest would cost as much
#: as sending it, and nearly every filter changes it), and a card's tabs, so one left on its table
#: goes back to the chart and builds the table again for the new slice when opened.
ALWAYS_SENT = {"Graph", "Tabs"}


def drawn(tree: Any) -> html.Div:
    """``tree`` as a page that ``update_page`` can redraw in place."""
    return html.Div([tree, dcc.Store(id=PAGE_SHAPE, data=_describe(tree))], id=PAGE_BODY)


def router_leaves_the_page() -> bool:
    """Whether the page router is asking for a layout because only the query string changed: then
    ``update_page`` redraws the page, and the router should return no_update."""
    try:
        changed = list(ctx.triggered_prop_ids)
    except MissingCallbackContextException:  # a layout asked for outside a callback
        return False
    return bool(changed) and all(key.endswith(".search") for key in changed) and bool(ctx.outputs_list)


@callback(
    Input(PAGE_URL, "pathname"),
    Input(PAGE_URL, "search"),
    State({**PAGE_SHAPE, "of": ALL}, "data"),
    prevent_initial_call=True,
)
def update_page(pathname: str | None, search: str | None, drawn_now: list[dict[str, Any] | None]) -> None:
    """A new query string on the same page (a new path is the page router's)."""
    if not drawn_now or not all(key.endswith(".search") for key in ctx.triggered_prop_ids):
        return
    shown = drawn_now[0]
    found = page_at(pathname or "/")
    if found is None:
        return
    layout, path_variables = found
    page = layout(**path_variables, **dict(parse_qsl((search or "").lstrip("?"))))
    if not isinstance(page, html.Div) or page.id != PAGE_BODY:
        return  # nobody signed in, say: nothing to draw
    tree, store = page.children
    now = store.data
    if not shown or shown.get("shape") != now["shape"]:
        set_props(PAGE_BODY, {"children": page.children})
        return
    for (node, nested), before, after in zip(_components(tree), shown["props"], now["props"], strict=True):
        described = node.to_plotly_json()
        if before != after or described["type"] in ALWAYS_SENT:
            props = _own_props(described["props"], nested)
            set_props(props.pop("id"), props)
    set_props(PAGE_SHAPE, {"data": now})


def page_at(pathname: str) -> tuple[Callable[..., Any], dict[str, str]] | None:
    """The registered page's layout function for ``pathname``, and the variables of its path template."""
    parts = pathname.rstrip("/").split("/")
    for page in dash.page_registry.values():
        template = (page.get("path_template") or page["path"]).rstrip("/").split("/")
        if len(template) != len(parts) or not callable(page["layout"]):
            continue
        pairs = list(zip(template, parts, strict=True))
        variables = {t[1:-1]: p for t, p in pairs if t.startswith("<") and t.endswith(">")}
        if all(t == p or t[1:-1] in variables for t, p in pairs):
            return page["layout"], variables
    return None


def _describe(tree: Any) -> dict[str, Any]:
    """Number the components of ``tree`` that have no id, and describe it: its shape and, per
    component, a digest of its own props (not the components it holds)."""
    shape, digests = [], []
    for position, (node, nested) in enumerate(_components(tree)):
        described = node.to_plotly_json()
        if "id" not in described["props"]:
            node.id = f"{PAGE_BODY}-{position}"
            described = node.to_plotly_json()
        shape.append((described["namespace"], described["type"], described["props"]["id"], nested))
        own = {} if described["type"] in ALWAYS_SENT else _own_props(described["props"], nested)
        digests.append(_digest(own)[:16])
    return {"shape": _digest(shape), "props": digests}


def _own_props(props: dict[str, Any], nested: bool) -> dict[str, Any]:
    return {name: value for name, value in props.items() if name != "children" or not nested}


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _components(tree: Any) -> Iterator[tuple[Component, bool]]:
    """Every component in ``tree``, depth first, with whether its children are components."""
    if isinstance(tree, list | tuple):
        for item in tree:
            yield from _components(item)
        return
    if not isinstance(tree, Component):
        return
    children = getattr(tree, "children", None)
    nested = isinstance(children, Component | list | tuple)
    yield tree, nested
    if nested:
        yield from _components(children)

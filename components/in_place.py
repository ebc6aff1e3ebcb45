"""A filter change redraws the page in place: only the props that changed are sent, and graphs get their
new figures through Plotly.react, instead of the page router mounting the whole page again.

A page is drawn as ``drawn(tree)``: every component gets an id (its path in the page, when it has none
of its own) and a ``dcc.Store`` keeps the page's description: per component, a digest of its kind and
id, a digest of its own props, and the same for the components it holds. When only the query string
changes, the page router is told to leave the page alone (``router_leaves_the_page``) and
``update_page`` builds the page for the new query and walks it beside the description of the page
shown: a component whose own props changed gets them set; one whose components changed in number or
kind (a card that now has no data, say) gets its children whole; everything else is left as it is.
Figures are always sent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import dash
from dash import ALL, Input, State, callback, ctx, dcc, html, set_props
from dash.development.base_component import Component
from dash.exceptions import MissingCallbackContextException

from components.figure_card import TABLE_TABS
from components.filters import PAGE_URL

PAGE_BODY = "page-body"
#: A pattern id: a page that is not drawn in place (the data page, say) has none, and the update's
#: State(ALL) is then an empty list rather than an id missing from the page.
PAGE_SHAPE = {"type": "page-shape", "of": "page"}
#: Props sent on every redraw whatever their digest: a graph's figure (its digest would cost as much
#: as sending it, and nearly every filter changes it).
ALWAYS_SENT = {"Graph"}
#: A card's tabs: one left on its table is set back to its chart (the table was of the old slice).
OPEN_TABS = {"type": TABLE_TABS, "view": ALL, "card": ALL}

Description = list[Any]  # [kind and id digest, own props digest, [the held components' descriptions] or None]


def drawn(tree: Any) -> html.Div:
    """``tree`` (a component) as a page that ``update_page`` can redraw in place."""
    return html.Div([tree, dcc.Store(id=PAGE_SHAPE, data=_describe(tree, f"{PAGE_BODY}-0"))], id=PAGE_BODY)


def router_leaves_the_page() -> bool:
    """Whether the page router is asking for a layout because only the query string changed: then
    ``update_page`` redraws the page, and the router should return no_update."""
    return _only_the_query_changed() and bool(ctx.outputs_list)  # update_page has no outputs: it sets props


def _only_the_query_changed() -> bool:
    """In a callback that a location's query string alone triggered (not its path)."""
    try:
        changed = list(ctx.triggered_prop_ids)
    except MissingCallbackContextException:  # a layout asked for outside a callback
        return False
    return bool(changed) and all(key.endswith(".search") for key in changed)


@callback(
    Input(PAGE_URL, "pathname"),
    Input(PAGE_URL, "search"),
    State({**PAGE_SHAPE, "of": ALL}, "data"),
    State(OPEN_TABS, "active_tab"),
    prevent_initial_call=True,
)
def update_page(pathname: str | None, search: str | None, shown: list[Description | None], tabs: list[Any]) -> None:
    """A new query string on the same page (a new path is the page router's)."""
    if not shown or not _only_the_query_changed():
        return
    on_tables = {_digest(spec["id"]) for spec, tab in zip(ctx.states_list[1], tabs, strict=True) if tab == "table"}
    found = page_at(pathname or "/")
    if found is None:
        return
    layout, path_variables = found
    page = layout(**path_variables, **dict(parse_qsl((search or "").lstrip("?"))))
    if not isinstance(page, html.Div) or page.id != PAGE_BODY:
        return  # nobody signed in, say: nothing to draw
    tree, store = page.children
    if shown[0] is None or shown[0][0] != store.data[0]:
        set_props(PAGE_BODY, {"children": page.children})
        return
    _apply(tree, store.data, shown[0], on_tables)
    set_props(PAGE_SHAPE, {"data": store.data})


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


def _describe(node: Component, path: str) -> Description:
    """Give ``node`` and the components it holds an id where they have none (their path), and describe them."""
    if "id" not in node.to_plotly_json()["props"]:
        node.id = path
    described = node.to_plotly_json()
    held = _held(node)
    kind = (described["namespace"], described["type"], described["props"]["id"], held is not None)
    own = {} if described["type"] in ALWAYS_SENT else _own_props(described["props"], held is not None)
    children = None if held is None else [_describe(child, f"{path}-{n}") for n, child in enumerate(held)]
    return [_digest(kind), _digest(own), children]


def _apply(node: Component, now: Description, shown: Description, on_tables: set[str]) -> None:
    """Set on the page what differs between ``shown`` and ``now`` (the description of ``node``, of the same
    kind and id as the component shown); tabs whose id digest is in ``on_tables`` go back to their chart."""
    described = node.to_plotly_json()
    held = _held(node)
    props = _own_props(described["props"], held is not None)
    same_held = (
        held is not None
        and shown[2] is not None
        and len(shown[2]) == len(now[2])
        and all(before[0] == after[0] for before, after in zip(shown[2], now[2], strict=True))
    )
    regrown = held is not None and not same_held
    if regrown:
        props["children"] = node.children  # its components changed in number or kind: sent whole
    reset = _digest(props["id"]) in on_tables
    if props.keys() - {"id"} and (now[1] != shown[1] or described["type"] in ALWAYS_SENT or regrown or reset):
        set_props(props.pop("id"), props)
    if same_held:
        for child, after, before in zip(held, now[2], shown[2], strict=True):
            _apply(child, after, before, on_tables)


def _held(node: Component) -> list[Component] | None:
    """The components ``node`` holds, or None when its children are not all components (text, say: then
    they are one of its own props)."""
    children = getattr(node, "children", None)
    if isinstance(children, Component):
        return [children]
    if isinstance(children, list | tuple) and children and all(isinstance(c, Component) for c in children):
        return list(children)
    return None


def _own_props(props: dict[str, Any], holds_components: bool) -> dict[str, Any]:
    return {name: value for name, value in props.items() if name != "children" or not holds_components}


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:12]

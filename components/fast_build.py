"""Dash components built without Dash's checks repeated for every instance.

Dash's constructor checks each prop of each instance and formats an error message for each before it
knows whether there is an error (for a component of another package, it imports that package to read
its version, every time): 5-13 µs a component, and a page draws 90-190 of them, most in the cards and
the filter bar. ``build(kind, ...)`` gives the component that ``kind(...)`` gives (the same attributes,
so the same JSON): the first of each kind is built by Dash, and later ones copy its bookkeeping and
check only what can be wrong in a call (an undeclared prop, a component where no component goes, an id
of the wrong type).
"""

from __future__ import annotations

from typing import Any, TypeVar

from dash.development.base_component import Component

C = TypeVar("C", bound=Component)


def build(kind: type[C], /, children: Any = None, **props: Any) -> C:
    """``kind(children, **props)``, for a kind with no required prop (``kind()`` must work)."""
    known = _kinds.get(kind)
    if known is None:
        known = _kinds.setdefault(kind, _Kind(kind))
    for name, value in props.items():
        if name not in known.names and not name.startswith(known.wildcards):
            raise TypeError(f"{kind.__name__} received an unexpected keyword argument: `{name}`")
        if isinstance(value, Component) and name not in known.nodes:
            raise TypeError(f"{kind.__name__}: a component was given for `{name}`, which takes none")
    if "id" in props and not isinstance(props["id"], (str, dict)):
        raise TypeError(f"`id` prop must be a string or dict, not {props['id']!r}")
    component = kind.__new__(kind)
    attributes = component.__dict__
    attributes.update(known.bookkeeping)
    if known.takes_children:
        attributes["children"] = children
    elif children is not None:
        raise TypeError(f"{kind.__name__} takes no children")
    attributes.update(props)
    return component


class _Kind:
    """What ``build`` copies and checks for one component class, read off an instance Dash built."""

    def __init__(self, kind: type[Component]) -> None:
        empty = vars(kind())
        self.takes_children = "children" in empty
        self.bookkeeping = {name: value for name, value in empty.items() if name != "children"}
        self.names = frozenset(empty["_prop_names"])
        self.wildcards = tuple(empty["_valid_wildcard_attributes"])
        self.nodes = frozenset(getattr(kind, "_base_nodes", ("children",)))


#: Per component class, filled on first use (the same for every process and request).
_kinds: dict[type[Component], _Kind] = {}

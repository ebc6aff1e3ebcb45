"""Dash components built and serialised without Dash's per-instance work.

Dash's constructor checks each prop of each instance and formats an error message for each before it
knows whether there is an error (for a component of another package, it imports that package to read
its version, every time): 5-13 µs a component, and a page draws 90-190 of them, most in the cards and
the filter bar. ``build(kind, ...)`` gives the component that ``kind(...)`` gives (the same attributes,
so the same JSON): the first of each kind is built by Dash, and later ones copy its bookkeeping and
check only what can be wrong in a call (an undeclared prop, a component where no component goes, an id
of the wrong type). ``component_json`` gives what ``to_plotly_json`` gives, from the props a component
set rather than by asking for each of the 20-40 its class declares.
"""

from __future__ import annotations

from typing import Any, TypeVar

from dash.development.base_component import Component

C = TypeVar("C", bound=Component)


def build(kind: type[C], /, children: Any = None, **props: Any) -> C:
    """``kind(children, **props)``, for a kind with no required prop (``kind()`` must work)."""
    known = _kinds.get(kind) or _kind_of(kind())
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


def component_json(component: Component) -> dict[str, Any]:
    """``component.to_plotly_json()``: the same dict, its props in the order they were set."""
    known = _kinds.get(type(component)) or _kind_of(component)
    props = {name: value for name, value in vars(component).items() if known.is_prop(name)}
    return {"props": props, "type": component._type, "namespace": component._namespace}


class _Kind:
    """What ``build`` copies and checks, and ``component_json`` keeps, for one component class, read off
    an instance Dash built (every instance of a class holds the same bookkeeping)."""

    def __init__(self, instance: Component) -> None:
        attributes = vars(instance)
        self.names = frozenset(attributes["_prop_names"])
        self.wildcards = tuple(attributes["_valid_wildcard_attributes"])
        self.nodes = frozenset(getattr(type(instance), "_base_nodes", ("children",)))
        # Dash sets children on every instance of a class that takes them, None when none were given.
        self.takes_children = "children" in attributes
        self.bookkeeping = {name: value for name, value in attributes.items() if not self.is_prop(name)}

    def is_prop(self, name: str) -> bool:
        return name in self.names or name.startswith(self.wildcards)


def _kind_of(instance: Component) -> _Kind:
    return _kinds.setdefault(type(instance), _Kind(instance))


#: Per component class, filled on first use (the same for every process and request).
_kinds: dict[type[Component], _Kind] = {}

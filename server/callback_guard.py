"""Type checks on every Dash callback request before Dash runs it.

A callback request is a JSON POST anyone can forge. Each input and state value must have the
type its property can really hold; anything else is answered 400 here, so no callback ever
sees (or raises a traceback on) a value of the wrong shape.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

NONE = type(None)
#: component property -> the types a browser can send for it.
PROPERTY_TYPES: dict[str, tuple[type, ...]] = {
    "search": (str, NONE),
    "pathname": (str,),  # Dash's page router reads it as text
    "href": (str, NONE),
    "hash": (str, NONE),
    "value": (str, list, NONE),
    "clickData": (dict, NONE),
    "n_clicks": (int, NONE),
    "is_open": (bool, NONE),
    "id": (dict, str),
    "data": (dict, list, str, int, NONE),
    "submit_n_clicks": (int, NONE),
    "contents": (str, list, NONE),
    "filename": (str, list, NONE),
    "active_tab": (str, NONE),
    "n_intervals": (int, NONE),
}
MAX_ITEMS = 500


def payload_error(body: Any, callbacks: Mapping[str, Any]) -> str | None:
    """Why a callback request body is malformed (or names no callback of ``callbacks``), or None.

    Besides the types, each input and state must be the one the callback declares, in its place:
    the same id (for a pattern-matching id, the same keys, its fixed values, and a list of entries
    for an ALL wildcard) and the same property.
    """
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    if not isinstance(body.get("output"), str) or body["output"] not in callbacks:
        return "no such callback"
    declared = callbacks[body["output"]]
    for section in ("inputs", "state"):
        items = body.get(section, [])
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            return f"{section} is not a list"
        expected = declared.get(section, [])
        if len(items) != len(expected):
            return f"{section}: expected {len(expected)}, got {len(items)}"
        for item, spec in zip(items, expected, strict=True):
            problem = _shape_error(item, spec)
            for entry in item if isinstance(item, list) else [item]:
                problem = problem or _entry_error(entry)
            if problem:
                return f"{section}: {problem}"
    return None


def _shape_error(item: Any, spec: Mapping[str, Any]) -> str | None:
    """Why ``item`` (an entry, or a list of entries for an ALL wildcard) is not the declared dependency."""
    pattern = json.loads(spec["id"]) if spec["id"].startswith("{") else None
    every = pattern is not None and any(value in (["ALL"], ["ALLSMALLER"]) for value in pattern.values())
    if every != isinstance(item, list):
        return f"{spec['id']}: a list of entries is expected" if every else f"{spec['id']}: one entry is expected"
    for entry in item if every else [item]:
        if not isinstance(entry, dict) or entry.get("property") != spec["property"]:
            return f"{spec['id']}: not the declared property"
        found = entry.get("id")
        if pattern is None:
            if found != spec["id"]:
                return f"{spec['id']}: not the declared id"
        elif not isinstance(found, dict) or set(found) != set(pattern):
            return f"{spec['id']}: not the declared pattern"
        else:
            for key, wanted in pattern.items():
                value = found[key]
                if isinstance(wanted, list):  # a wildcard: any plain value
                    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                        return f"{spec['id']}: {key} has the wrong type"
                elif value != wanted:
                    return f"{spec['id']}: not the declared pattern"
    return None


def _entry_error(entry: Any) -> str | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("property"), str):
        return "an entry without a property"
    prop = entry["property"]
    allowed = PROPERTY_TYPES.get(prop)
    if allowed is None:
        return f"property {prop!r} is not an input of this app"
    value = entry.get("value")
    if isinstance(value, bool) and bool not in allowed:
        return f"{prop} has the wrong type"
    if not isinstance(value, allowed):
        return f"{prop} has the wrong type"
    if prop == "pathname" and not value.startswith("/"):
        return "pathname is not a path of this site"
    return None

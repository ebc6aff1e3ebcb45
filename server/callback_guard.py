"""Type checks on every Dash callback request before Dash runs it.

A callback request is a JSON POST anyone can forge. Each input and state value must have the
type its property can really hold; anything else is answered 400 here, so no callback ever
sees (or raises a traceback on) a value of the wrong shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NONE = type(None)
#: component property -> the types a browser can send for it.
PROPERTY_TYPES: dict[str, tuple[type, ...]] = {
    "search": (str, NONE),
    "pathname": (str, NONE),
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
    """Why a callback request body is malformed (or names no callback of ``callbacks``), or None."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    if not isinstance(body.get("output"), str) or body["output"] not in callbacks:
        return "no such callback"
    for section in ("inputs", "state"):
        items = body.get(section, [])
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            return f"{section} is not a list"
        for item in items:
            for entry in item if isinstance(item, list) else [item]:
                problem = _entry_error(entry)
                if problem:
                    return f"{section}: {problem}"
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
    return None

"""Text cells made safe on the way out: no formula a spreadsheet would run (CSV injection), no character
an Excel file cannot hold."""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: What XML refuses (uploads with these are rejected; anything stored earlier is cleaned here).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(value: object) -> object:
    """A text cell without control characters, prefixed with ' when it starts like a formula."""
    if not isinstance(value, str):
        return value
    value = CONTROL_CHARACTERS.sub("", value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value

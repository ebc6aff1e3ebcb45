"""The slice of data a page, an export or the CLI looks at, and its URL query form.

The URL query string is the one source of filter state: ``Filters.from_query`` reads it
(dropping any value that is not well formed) and ``Filters.to_query`` writes it back.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Select, and_

from data_access.contract import GENDERS, STAFF_CATEGORIES

_CODE = re.compile(r"^[A-Za-z0-9-]{1,20}$")
_TEXT_LIMIT = 200

#: Filters that narrow the set of people counted; each can be differenced against its parent slice.
PEOPLE_DIMENSIONS = ("entity", "duty_station", "staff_category", "gender", "platform")
#: The people filters and the column each matches in the tables that hold people.
PEOPLE_COLUMNS = {"entity": "entity_code", "duty_station": "duty_station_code", "staff_category": "staff_category",
                  "gender": "gender"}  # fmt: skip


@dataclass(frozen=True)
class Filters:
    """A slice of the data. Dates bound the period (inclusive); None means unbounded."""

    entity: str | None = None
    duty_station: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    staff_category: str | None = None
    gender: str | None = None
    platform: str | None = None
    report_type: str | None = None
    learning_need: str | None = None
    cycle: str | None = None
    programme: str | None = None

    @classmethod
    def from_query(cls, query: dict[str, Any]) -> Filters:
        """Filters from a URL query (``from``/``to`` are ISO dates); malformed values are ignored.

        >>> Filters.from_query({"entity": "OCHA", "from": "2024-01-01", "gender": "nonsense"})
        Filters(entity='OCHA', duty_station=None, date_from=datetime.date(2024, 1, 1), ...)
        """
        return cls(
            entity=_code(query.get("entity")),
            duty_station=_code(query.get("duty_station")),
            date_from=_date(query.get("from")),
            date_to=_date(query.get("to")),
            staff_category=_choice(query.get("staff_category"), STAFF_CATEGORIES),
            gender=_choice(query.get("gender"), GENDERS),
            platform=_text(query.get("platform")),
            report_type=_text(query.get("report_type")),
            learning_need=_text(query.get("learning_need")),
            cycle=_code(query.get("cycle")),
            programme=_text(query.get("programme")),
        )

    def to_query(self) -> dict[str, str]:
        """The URL query for these filters, without empty values (the inverse of ``from_query``)."""
        query = {}
        for name in _FIELD_NAMES:  # not ``asdict``, which deep-copies: this runs for every figure looked up
            value = getattr(self, name)
            if value is not None:
                query[_QUERY_KEYS.get(name, name)] = value.isoformat() if isinstance(value, dt.date) else str(value)
        return query

    def query_string(self, **changes: Any) -> str:
        """``?a=b...`` for these filters with ``changes`` applied (None removes a filter)."""
        query = replace(self, **changes).to_query() if changes else self.to_query()
        return f"?{urlencode(query)}" if query else ""

    def without(self, name: str) -> Filters:
        return replace(self, **{name: None})

    def active(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]


_FIELD_NAMES = tuple(f.name for f in fields(Filters))
_QUERY_KEYS = {"date_from": "from", "date_to": "to"}


def _one(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[-1] if value else None
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _code(value: Any) -> str | None:
    value = _one(value)
    return value if value and _CODE.match(value) else None


def _text(value: Any) -> str | None:
    value = _one(value)
    return value if value and len(value) <= _TEXT_LIMIT and value.isprintable() else None


def _choice(value: Any, allowed: tuple[str, ...]) -> str | None:
    value = _one(value)
    return value if value in allowed else None


def _date(value: Any) -> dt.date | None:
    value = _one(value)
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def in_period(column: Any, filters: Filters) -> Any:
    """``column`` is a date inside the period (and not null)."""
    conditions = [column.is_not(None)]
    if filters.date_from:
        conditions.append(column >= filters.date_from)
    if filters.date_to:
        conditions.append(column <= filters.date_to)
    return and_(*conditions)


def apply_people_filters(query: Select[Any], model: Any, filters: Filters) -> Select[Any]:
    """Narrow ``query`` by the entity, duty station, staff category and gender filters ``model`` has."""
    for name, column in PEOPLE_COLUMNS.items():
        value = getattr(filters, name)
        if value is not None and hasattr(model, column):
            query = query.where(getattr(model, column) == value)
    return query

"""Filters in the URL: parsing what the address holds (the browser writes it: tests/browser/test_url_state.py)."""

from __future__ import annotations

import datetime as dt

from data_access.reads.filters import Filters


def test_query_round_trips():
    filters = Filters(entity="OCHA", date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 9, 30), gender="female")
    assert Filters.from_query(filters.to_query()) == filters
    assert filters.query_string() == "?entity=OCHA&from=2024-01-01&to=2024-09-30&gender=female"


def test_malformed_values_are_dropped_not_trusted():
    filters = Filters.from_query(
        {
            "entity": "OCHA'; DROP TABLE x;--",
            "from": "31/12/2024",
            "gender": "nonsense",
            "staff_category": ["P", "GS"],
            "platform": "x" * 500,
        }
    )
    assert filters == Filters(staff_category="GS")

"""Filters in the URL: parsing, writing back, the filter-bar and click callbacks as plain functions."""

from __future__ import annotations

import datetime as dt

from components.filters import FILTER, href_after_click, month_bounds, search_for
from data_access.filters import Filters


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


def test_filter_controls_write_the_query_string():
    ids = [{"type": FILTER, "name": n} for n in ("from_month", "to_month", "entity", "gender")]
    assert search_for(["2024-01", "2024-02", "OCHA", None], ids, "") == "?from=2024-01-01&to=2024-02-29&entity=OCHA"
    assert search_for([None, None, None, None], ids, "?entity=OCHA&cycle=2022") == "?cycle=2022"


def test_month_bounds():
    assert month_bounds("2023-02", end=True) == "2023-02-28"
    assert month_bounds("2023-02", end=False) == "2023-02-01"
    assert month_bounds("garbage", end=True) is None


def test_a_click_on_an_entity_opens_its_profile_keeping_other_filters():
    click = {"points": [{"customdata": "OCHA", "x": 12}]}
    assert href_after_click("entity", click, "/uptake", "?entity=DPO&gender=male") == "/entity/OCHA?gender=male"


def test_a_click_on_anything_else_filters_the_page():
    click = {"points": [{"customdata": ["CH-GENEVA"]}]}
    assert (
        href_after_click("duty_station", click, "/uptake", "?gender=male")
        == "/uptake?gender=male&duty_station=CH-GENEVA"
    )
    assert href_after_click("duty_station", {"points": []}, "/uptake", "") is None
    assert href_after_click("not-an-action", click, "/uptake", "") is None


def test_the_registered_callbacks_are_plain_functions():
    from components.filters import filters_to_url

    ids = [{"type": FILTER, "name": "gender"}]
    assert filters_to_url(["female"], ids, "?entity=OCHA") == "?entity=OCHA&gender=female"


def test_a_filter_bar_appearing_leaves_the_address_alone():
    # Dash calls the filter callback when a page's controls appear; the address must not be set again,
    # or the menu's links and anything else reading it would run a second time.
    from dash import no_update

    from components.filters import filters_to_url

    ids = [{"type": FILTER, "name": "gender"}, {"type": FILTER, "name": "entity"}]
    assert filters_to_url(["female", None], ids, "?gender=female") is no_update
    assert filters_to_url([None, None], ids, "") is no_update
    assert filters_to_url([None, None], ids, None) is no_update
    assert filters_to_url(["male", None], ids, "?gender=female") == "?gender=male"

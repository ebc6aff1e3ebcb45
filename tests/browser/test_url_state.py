"""The address a filter change or a chart click writes, worked out in the browser (assets/url_state.js)."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from components.filters import CLICK_ACTIONS, FILTER
from data_access.reads.filters import Filters

IDS = [{"type": FILTER, "name": name} for name in ("from_month", "to_month", "entity", "gender")]


@pytest.fixture
def js(dashboard):  # type: ignore[no-untyped-def]
    """Calls a function of the browser's ``url_state`` module (no_update comes back as "no_update")."""
    dashboard.wait_for_element(".js-plotly-plot", timeout=20)

    def call(function: str, *args: object) -> object:
        script = (
            f"const found = window.dash_clientside.url_state.{function}(...arguments);"
            "return found === window.dash_clientside.no_update ? 'no_update' : found;"
        )
        return dashboard.driver.execute_script(script, *args)

    return call


def test_filter_controls_write_the_query_string(js):
    assert (
        js("searchFor", ["2024-01", "2024-02", "OCHA", None], IDS, "") == "?from=2024-01-01&to=2024-02-29&entity=OCHA"
    )
    assert js("searchFor", [None, None, None, None], IDS, "?entity=OCHA&cycle=2022") == "?cycle=2022"
    # Text is encoded as a form encodes it, and read back by the server as it was picked.
    written = js("searchFor", ["LinkedIn Learning"], [{"type": FILTER, "name": "platform"}], "?gender=female")
    assert written == "?gender=female&platform=LinkedIn+Learning"
    assert Filters.from_query(dict(parse_qsl(written[1:]))) == Filters(gender="female", platform="LinkedIn Learning")


def test_the_query_string_is_read_as_the_server_reads_it(js):
    # dict(parse_qsl(...)): blank values dropped, a repeated key at its first place with its last value.
    gender = [{"type": FILTER, "name": "gender"}]
    assert (
        js("searchFor", ["male"], gender, "?gender=female&cycle=&entity=OCHA&gender=other")
        == "?gender=male&entity=OCHA"
    )


def test_month_bounds(js):
    assert js("monthBound", "2023-02", True) == "2023-02-28"
    assert js("monthBound", "2024-02", True) == "2024-02-29"
    assert js("monthBound", "2023-02", False) == "2023-02-01"
    assert js("monthBound", "garbage", True) is None
    assert js("monthBound", "2024-13", True) is None


def test_a_filter_bar_appearing_leaves_the_address_alone(js):
    # Dash calls the filter callback when a page's controls appear; the address must not be set again,
    # or the menu's links and anything else reading it would run a second time.
    ids = [{"type": FILTER, "name": "gender"}, {"type": FILTER, "name": "entity"}]
    assert js("filtersToUrl", ["female", None], ids, "?gender=female") == "no_update"
    assert (
        js(
            "filtersToUrl",
            ["LinkedIn Learning"],
            [{"type": FILTER, "name": "platform"}],
            "?platform=LinkedIn%20Learning",
        )
        == "no_update"
    )
    assert js("filtersToUrl", [None, None], ids, "") == "no_update"
    assert js("filtersToUrl", [None, None], ids, None) == "no_update"
    assert js("filtersToUrl", ["male", None], ids, "?gender=female") == "?gender=male"


def test_a_click_on_an_entity_opens_its_profile_keeping_other_filters(js):
    click = {"points": [{"customdata": "OCHA", "x": 12}]}
    assert js("hrefAfterClick", "entity", click, "/uptake", "?entity=DPO&gender=male") == "/entity/OCHA?gender=male"


def test_a_click_on_anything_else_filters_the_page(js):
    click = {"points": [{"customdata": ["CH-GENEVA"]}]}
    assert (
        js("hrefAfterClick", "duty_station", click, "/uptake", "?gender=male")
        == "/uptake?gender=male&duty_station=CH-GENEVA"
    )
    assert js("hrefAfterClick", "duty_station", {"points": []}, "/uptake", "") is None
    assert js("hrefAfterClick", "not-an-action", click, "/uptake", "") is None
    for action in CLICK_ACTIONS:
        assert js("hrefAfterClick", action, {"points": [{"customdata": "X1"}]}, "/needs", "") is not None, action

"""Each page in real Chromium: demo figures, filters through the URL, click-to-filter, offline assets."""

from __future__ import annotations

import time

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from data_access.reads.filters import Filters
from data_access.reads.kpis import headline_kpis
from data_access.store import default_engine
from tests.browser.conftest import foreign_requests, requested_urls, sign_in, start_signed_out

PAGES = {
    "/": "Staff learning at a glance",
    "/needs": "Learning needs analysis",
    "/uptake": "Uptake of learning platforms",
    "/leadership": "Leadership programmes",
    "/entity/OCHA": "Office for the Coordination of Humanitarian Affairs",
}


def settled_element(duo, selector: str, timeout: float = 10):  # type: ignore[no-untyped-def]
    """The last element matching ``selector`` once it stays in place for 0.2 s: the page around a chart
    can still be laying out when the chart first draws, and a click aimed before that lands elsewhere."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        element = duo.find_elements(selector)[-1]
        here = (element.rect["x"], element.rect["y"], element.rect["height"])
        if here == last:
            return element
        last = here
        time.sleep(0.2)
    raise AssertionError(f"{selector} kept moving for {timeout} s")


def card_value(duo, label: str) -> str:  # type: ignore[no-untyped-def]
    for card in duo.find_elements("#overview-cards .card-body"):
        if card.text.startswith(label):
            return card.find_element(By.CSS_SELECTOR, ".kpi-value").text
    raise AssertionError(f"no card {label!r}")


def choose(duo, name: str, text: str) -> None:  # type: ignore[no-untyped-def]
    """Pick ``text`` in the filter dropdown ``name`` the way a person does: open, type, Enter."""
    dropdown = duo.find_element(f'[id=\'{{"name":"{name}","type":"filter"}}\']')
    dropdown.click()
    search = duo.wait_for_element(".dash-dropdown-search, .dash-dropdown-options input, input[type='search']")
    search.send_keys(text)
    duo.wait_for_contains_text(".dash-dropdown-options", text)
    search.send_keys(Keys.ENTER)


@pytest.mark.parametrize("path", list(PAGES))
def test_each_page_loads_with_no_errors_and_no_request_leaves_the_app(dashboard, path):
    dashboard.wait_for_page(f"{dashboard.server_url}{path}")
    dashboard.wait_for_contains_text("h1", PAGES[path], timeout=20)
    dashboard.wait_for_element(".js-plotly-plot .main-svg", timeout=20)
    assert foreign_requests(dashboard) == []
    assert dashboard.get_logs() == []


def test_the_world_map_comes_from_the_app_itself(dashboard):
    dashboard.wait_for_page(f"{dashboard.server_url}/uptake")
    dashboard.wait_for_element(".geo .countries, .geo path", timeout=20)
    assert any(url.endswith("/assets/topojson/world_110m.json") for url in requested_urls(dashboard))
    assert foreign_requests(dashboard) == []
    assert dashboard.get_logs() == []


def test_overview_shows_the_seed_figures_as_kpis_computes_them(dashboard):
    dashboard.wait_for_page(dashboard.server_url)
    dashboard.wait_for_element("#overview-cards", timeout=20)
    figures = headline_kpis(default_engine())
    assert card_value(dashboard, "Staff (headcount)") == f"{figures['headcount']:,}" == "37,000"
    assert card_value(dashboard, "Entities") == "45"
    assert card_value(dashboard, "Duty stations") == "461"
    dashboard.find_element("#overview-targets")
    assert dashboard.get_logs() == []


def test_a_filter_goes_into_the_url_and_back_restores_the_view(dashboard):
    dashboard.wait_for_page(dashboard.server_url)
    dashboard.wait_for_element("#overview-cards", timeout=20)
    choose(dashboard, "entity", "OCHA")
    dashboard.wait_for_contains_text("p.text-muted", "OCHA - Office for the Coordination", timeout=20)
    assert "entity=OCHA" in dashboard.driver.current_url
    expected = headline_kpis(default_engine(), Filters(entity="OCHA"))
    assert card_value(dashboard, "Staff (headcount)") == f"{expected['headcount']:,}" == "2,600"
    dashboard.driver.back()
    dashboard.wait_for_contains_text("p.text-muted", "All staff, all platforms, all dates", timeout=20)
    assert card_value(dashboard, "Staff (headcount)") == "37,000"
    assert dashboard.get_logs() == []


def test_a_shared_link_restores_the_filters_exactly(dashboard):
    dashboard.wait_for_page(f"{dashboard.server_url}/?entity=OCHA&gender=female&from=2024-01-01&to=2024-09-30")
    dashboard.wait_for_element("#overview-cards", timeout=20)
    heading = "OCHA - Office for the Coordination of Humanitarian Affairs · Female · 2024-01-01 to 2024-09-30"
    dashboard.wait_for_contains_text("p.text-muted", heading, timeout=20)
    expected = headline_kpis(
        default_engine(),
        Filters(entity="OCHA", gender="female", date_from=Filters.from_query({"from": "2024-01-01"}).date_from,
                date_to=Filters.from_query({"to": "2024-09-30"}).date_to),
    )  # fmt: skip
    assert card_value(dashboard, "Staff (headcount)") == f"{expected['headcount']:,}"
    entity = dashboard.find_element('[id=\'{"name":"entity","type":"filter"}\']')
    assert "OCHA" in entity.text
    # The page links carry the filters to the other pages.
    needs = dashboard.find_element('[id=\'{"path":"/needs","type":"nav-link"}\']')
    assert needs.get_attribute("href").endswith("/needs?entity=OCHA&gender=female&from=2024-01-01&to=2024-09-30")
    assert dashboard.get_logs() == []


def test_clicking_an_entity_bar_opens_its_profile(dashboard):
    dashboard.wait_for_page(f"{dashboard.server_url}/uptake")
    graph = '[id=\'{"action":"entity","type":"click-graph","view":"uptake_by_entity"}\']'
    dashboard.wait_for_element(f"{graph} .bars path", timeout=20)
    top_bar = settled_element(dashboard, f"{graph} .bars path")  # bars are drawn bottom-up: the last is the top one
    dashboard.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", top_bar)
    top_bar = settled_element(dashboard, f"{graph} .bars path")
    # Which bar plotly hit (pages further down may still be laying out as the mouse moves): its entity code.
    remember = (
        "document.querySelector(arguments[0]).on('plotly_click', e => { window.clicked = e.points[0].customdata })"
    )
    dashboard.driver.execute_script(remember, f"{graph} .js-plotly-plot")
    # The entity codes the bars carry, read before the click: the click rewrites the address in the
    # browser, so the profile can replace this chart before another WebDriver round trip.
    drawn = dashboard.driver.execute_script(
        "return document.querySelector(arguments[0]).data.flatMap(t => t.customdata || [])", f"{graph} .js-plotly-plot"
    )
    # Plotly hit-tests clicks on its drag layer, which lies over the bars: click where the bar is, as a mouse does.
    # A click that met no bar (the page moved under the mouse) is made again, as a person would.
    for _ in range(3):
        ActionChains(dashboard.driver).move_to_element(top_bar).click().perform()
        clicked = dashboard.driver.execute_script("return window.clicked")
        if clicked is not None:
            break
        time.sleep(0.5)
        top_bar = settled_element(dashboard, f"{graph} .bars path")
    # Aimed at the top bar; in CI the page can still shift as the mouse moves and the click has landed
    # on the second or fourth bar. What is tested is that the bar plotly hit opens its own profile.
    assert clicked in drawn, (clicked, drawn)
    dashboard.wait_for_contains_text("h1", f"({clicked})", timeout=20)
    assert f"/entity/{clicked}" in dashboard.driver.current_url
    assert dashboard.get_logs() == []


def test_signed_out_visitors_see_the_sign_in_page_and_come_back_after(dash_duo, demo_app):
    start_signed_out(dash_duo, demo_app)
    dash_duo.driver.get(f"{dash_duo.server.url}/uptake?gender=female")
    dash_duo.wait_for_element("#sign-in")
    assert (
        "/login?next=/uptake?gender%3Dfemale" in dash_duo.driver.current_url or "/login" in dash_duo.driver.current_url
    )
    dash_duo.find_element("#username").send_keys("viewer")
    dash_duo.find_element("#password").send_keys("wrong password, surely")
    dash_duo.find_element("#sign-in").click()
    dash_duo.wait_for_contains_text(".alert-danger", "Wrong username or password")
    sign_in(dash_duo, "viewer", next_path="/uptake?gender=female")
    dash_duo.wait_for_contains_text("h1", "Uptake of learning platforms", timeout=20)
    dash_duo.find_element("#sign-out").click()
    dash_duo.wait_for_element("#sign-in")
    # The only console entry is the refused sign-in's status (401), which Chromium reports as a network error.
    refused = "Failed to load resource: the server responded with a status of 401 (UNAUTHORIZED)"
    assert [log["message"] for log in dash_duo.get_logs()] == [f"{dash_duo.server.url}/login - {refused}"]


def test_a_user_limited_to_one_entity_sees_only_it(dash_duo, demo_app):
    start_signed_out(dash_duo, demo_app)
    sign_in(dash_duo, "ocha-viewer", next_path="/?entity=DPO")
    dash_duo.wait_for_element("#overview-cards", timeout=20)
    dash_duo.wait_for_contains_text("p.text-muted", "OCHA - Office for the Coordination", timeout=20)
    assert card_value(dash_duo, "Staff (headcount)") == "2,600"
    assert dash_duo.get_logs() == []


def test_view_as_table_shows_the_chart_s_figures(dashboard):
    dashboard.wait_for_page(dashboard.server_url)
    tabs = '[id=\'{"card":"click-graph-platform-uptake_by_platform","type":"table-tabs","view":"uptake_by_platform"}\']'
    dashboard.wait_for_element(tabs, timeout=20)
    tab = next(a for a in dashboard.find_elements(f"{tabs} .nav-link") if a.text == "View as table")
    dashboard.driver.execute_script("arguments[0].click()", tab)
    dashboard.wait_for_contains_text(f"{tabs} ~ .tab-content table, .tab-content table", "Coursera", timeout=20)
    rows = {
        r.find_elements(By.TAG_NAME, "td")[0].text: r.text
        for r in dashboard.find_elements(".tab-content table tbody tr")
    }
    assert "1,300" in rows["Coursera"] and "35,800" in rows["LinkedIn Learning"] and "17,561" in rows["Blue Line"]
    assert dashboard.get_logs() == []


def test_a_page_draws_its_charts_and_the_menu_carries_the_filters(dashboard):
    dashboard.wait_for_page(f"{dashboard.server_url}/uptake?gender=female")
    dashboard.wait_for_contains_text("p.text-muted", "Female", timeout=20)
    dashboard.wait_for_element(".js-plotly-plot .main-svg", timeout=20)
    # The menu marks the page it is on and carries the filters (in the browser, no request).
    assert [link.text for link in dashboard.find_elements(".navbar .nav-link.active")] == ["Uptake"]
    needs = '[id=\'{"path":"/needs","type":"nav-link"}\']'
    until(lambda: dashboard.find_element(needs).get_attribute("href").endswith("/needs?gender=female"), timeout=10)
    choose(dashboard, "platform", "Coursera")
    dashboard.wait_for_contains_text("p.text-muted", "Female · Coursera", timeout=20)
    assert "gender=female&platform=Coursera" in dashboard.driver.current_url
    until(lambda: dashboard.find_element(needs).get_attribute("href").endswith("platform=Coursera"), timeout=10)
    assert dashboard.get_logs() == []


def test_a_filter_change_redraws_the_page_in_place(dashboard):
    """The charts are the same elements after a filter change (Plotly.react, nothing mounted again);
    a card left on its table goes back to its chart; back redraws in place too."""
    dashboard.wait_for_page(f"{dashboard.server_url}/uptake")
    dashboard.wait_for_element(".js-plotly-plot .main-svg", timeout=20)
    mark = "document.querySelectorAll('.js-plotly-plot').forEach(g => g.dataset.since = 'first draw')"
    dashboard.driver.execute_script(mark)
    tabs = '[id=\'{"card":"click-graph-platform-uptake_by_platform","type":"table-tabs","view":"uptake_by_platform"}\']'
    tab = next(a for a in dashboard.find_elements(f"{tabs} .nav-link") if a.text == "View as table")
    dashboard.driver.execute_script("arguments[0].click()", tab)
    dashboard.wait_for_contains_text(".tab-content table", "Coursera", timeout=20)
    learners = "return JSON.stringify(document.querySelector('.js-plotly-plot').data.map(t => [t.x, t.y]))"
    before = dashboard.driver.execute_script(learners)

    choose(dashboard, "gender", "Female")
    dashboard.wait_for_contains_text("p.text-muted", "Female", timeout=20)
    until(lambda: dashboard.driver.execute_script(learners) != before, timeout=20)
    kept = "return [...document.querySelectorAll('.js-plotly-plot')].map(g => g.dataset.since || 'new')"
    assert set(dashboard.driver.execute_script(kept)) == {"first draw"}
    assert not dashboard.find_elements(".tab-content table")  # back on the chart

    dashboard.driver.back()
    dashboard.wait_for_contains_text("p.text-muted", "All staff, all platforms, all dates", timeout=20)
    until(lambda: dashboard.driver.execute_script(learners) == before, timeout=20)
    assert set(dashboard.driver.execute_script(kept)) == {"first draw"}
    gender = dashboard.find_element('[id=\'{"name":"gender","type":"filter"}\']')
    assert "Female" not in gender.text  # the filter bar follows the address
    assert dashboard.get_logs() == []

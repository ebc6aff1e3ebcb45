"""HR's data page in real Chromium: upload, preview, commit, see the figures move, errors, duplicates, rollback."""

from __future__ import annotations

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import foreign_requests, signed_in_as
from tests.helpers import activity, to_csv


def learners_card(duo) -> str:  # type: ignore[no-untyped-def]
    duo.driver.get(f"{duo.server.url}/?entity=OCHA")
    duo.wait_for_element("#overview-cards", timeout=20)
    for card in duo.find_elements("#overview-cards .card-body"):
        if card.text.startswith("Learners"):
            return card.find_element(By.CSS_SELECTOR, ".kpi-value").text
    raise AssertionError("no Learners card")


def wait_status(duo, *statuses: str) -> str:  # type: ignore[no-untyped-def]
    def reached(driver):  # type: ignore[no-untyped-def]
        found = driver.find_elements(By.ID, "data-job-status")
        status = found[0].get_attribute("data-status") if found else None
        return status if status in statuses else False

    return WebDriverWait(
        duo.driver, 60, poll_frequency=0.2, ignored_exceptions=(StaleElementReferenceException,)
    ).until(reached)


def press(duo, selector: str) -> None:  # type: ignore[no-untyped-def]
    """Click a button once it is enabled, scrolled to the middle of the window."""
    button = WebDriverWait(duo.driver, 20).until(
        lambda d: next((b for b in d.find_elements(By.CSS_SELECTOR, selector) if b.is_enabled()), False)
    )
    # A plain DOM click: a screen-position click can land on the sticky "Updating..." title overlay here.
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click()", button)


def send(duo, path) -> None:  # type: ignore[no-untyped-def]
    duo.driver.get(f"{duo.server.url}/data")
    duo.wait_for_element("#data-file", timeout=20).send_keys(str(path))


def test_upload_preview_commit_duplicate_and_roll_back(dash_duo, demo_app, tmp_path):
    duo = signed_in_as(dash_duo, demo_app, "hr")
    before = learners_card(duo)
    rows = [
        activity(n, learner_id=f"BROWSER{n:04d}", entity_code="OCHA", duty_station_code="CH-GENEVA") for n in range(25)
    ]
    path = tmp_path / "ocha-september.csv"
    path.write_bytes(to_csv(rows))

    send(duo, path)
    assert wait_status(duo, "valid", "rejected") == "valid"
    duo.wait_for_contains_text("#data-counts", "25 rows read: 25 would be added and 0 would be replaced")
    assert learners_card(duo) == before  # a preview writes nothing

    send(duo, path)
    wait_status(duo, "valid")
    press(duo, "#data-commit")
    assert wait_status(duo, "loaded", "failed") == "loaded"
    assert int(learners_card(duo).replace(",", "")) == int(before.replace(",", "")) + 25

    send(duo, path)
    assert wait_status(duo, "duplicate", "valid") == "duplicate"
    duo.wait_for_contains_text("#data-job-status", "already loaded")

    duo.driver.get(f"{duo.server.url}/data")
    duo.wait_for_element("#data-history-table", timeout=20)
    history = [r for r in duo.find_elements("#data-history-table tbody tr") if "ocha-september.csv" in r.text]
    assert [r.text.split()[3] for r in history] == ["duplicate", "loaded"]  # newest first, the duplicate recorded too
    press(duo, f"#data-history-table tr[data-batch='{history[1].get_attribute('data-batch')}'] button")
    WebDriverWait(duo.driver, 20).until(expected_conditions.alert_is_present()).accept()
    duo.wait_for_contains_text("#data-rolled-back", "rolled back", timeout=20)
    assert learners_card(duo) == before
    assert foreign_requests(duo) == []
    assert duo.get_logs() == []


def test_a_file_with_errors_lists_them_and_writes_nothing(dash_duo, demo_app, tmp_path):
    duo = signed_in_as(dash_duo, demo_app, "hr")
    rows = [activity(n, learner_id=f"ERR{n:04d}", entity_code="OCHA", duty_station_code="CH-GENEVA") for n in range(3)]
    rows[1]["entity_code"] = "NOPE"
    path = tmp_path / "with-errors.csv"
    path.write_bytes(to_csv(rows))
    before = learners_card(duo)
    send(duo, path)
    assert wait_status(duo, "valid", "rejected") == "rejected"
    table = duo.wait_for_element("#data-errors")
    assert "entity_code" in table.text and "NOPE" in table.text and "unknown entity code" in table.text
    assert duo.find_element("#data-commit").get_attribute("disabled") is not None
    assert learners_card(duo) == before
    assert duo.get_logs() == []


def test_viewers_have_no_data_page(dashboard):
    assert not dashboard.find_elements('[id=\'{"path":"/data","type":"nav-link"}\']')
    dashboard.driver.get(f"{dashboard.server.url}/data")
    dashboard.wait_for_contains_text("#_pages_content", "This page is for HR uploaders", timeout=20)
    assert dashboard.get_logs() == []

"""The administration page in real Chromium: an admin adds a user who can then sign in."""

from __future__ import annotations

from tests.browser.conftest import sign_in, signed_in_as


def test_an_admin_adds_a_user_who_can_sign_in(dash_duo, demo_app):
    duo = signed_in_as(dash_duo, demo_app, "boss")
    duo.driver.get(f"{duo.server.url}/admin")
    duo.wait_for_element("#admin-username", timeout=20).send_keys("field.officer")
    duo.driver.execute_script("document.getElementById('admin-create').click()")
    password = duo.wait_for_element("#admin-new-password", timeout=20).text
    duo.wait_for_contains_text("#admin-users-table", "field.officer")
    assert len(password) >= 12
    duo.driver.execute_script("document.getElementById('sign-out').click()")
    duo.wait_for_element("#sign-in")
    sign_in(duo, "field.officer", password)
    duo.wait_for_contains_text("#signed-in-user", "field.officer (viewer)", timeout=20)
    assert not duo.find_elements('[id=\'{"path":"/admin","type":"nav-link"}\']')
    assert duo.get_logs() == []

"""Browser tests: the real app over the demo data, in Debian's headless Chromium (dash_duo)."""

from __future__ import annotations

import os
import shutil
from urllib.parse import urlparse

import pytest
from dash.testing.wait import until

from tests.conftest import database_url
from tests.helpers import create_user

PASSWORD = "browser-test-password"

os.environ.setdefault("DASH_TEST_CHROMEPATH", shutil.which("chromium") or "/usr/bin/chromium")


def pytest_collection_modifyitems(items):  # type: ignore[no-untyped-def]
    # Outside CI a machine without the driver skips these; in CI (.ci/run installs it) they must run.
    if shutil.which("chromedriver") is None and not os.environ.get("CI"):
        skip = pytest.mark.skip(reason="chromedriver not installed (apt-get install chromium chromium-driver)")
        for item in items:
            if "tests/browser" in str(item.fspath):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def demo_app(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The dashboard's Dash app over a SQLite file loaded with the demo data."""
    folder = tmp_path_factory.mktemp("browser")
    with database_url("sqlite", folder) as url, pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        patch.setenv("INSTANCE_DIR", str(folder))
        patch.setenv("LOGIN_RATE_LIMIT", "1000 per minute")  # these tests sign in many times a minute
        from app import app, server
        from server.warmup import set_up_now

        set_up_now(app)  # as gunicorn's workers do before their first request
        runner = server.test_cli_runner()
        assert runner.invoke(args=["load-demo"]).exit_code == 0
        create_user(runner, "viewer", password=PASSWORD)
        create_user(runner, "ocha-viewer", entities="OCHA", password=PASSWORD)
        create_user(runner, "hr", role="uploader", password=PASSWORD)
        create_user(runner, "boss", role="admin", password=PASSWORD)
        yield app


def sign_in(duo, username: str, password: str = PASSWORD, next_path: str = "/") -> None:  # type: ignore[no-untyped-def]
    """Sign in through the form, as a person does."""
    duo.driver.get(f"{duo.server.url}/login?next={next_path}")
    duo.wait_for_element("#username").send_keys(username)
    duo.find_element("#password").send_keys(password)
    duo.find_element("#sign-in").click()


@pytest.fixture
def dashboard(dash_duo, demo_app):  # type: ignore[no-untyped-def]
    """The running dashboard, signed in as a viewer of every entity."""
    return signed_in_as(dash_duo, demo_app, "viewer")


def signed_in_as(dash_duo, demo_app, username: str):  # type: ignore[no-untyped-def]
    start_signed_out(dash_duo, demo_app)
    sign_in(dash_duo, username)
    # Going on before the sign-in's answer arrives would cancel it, and land on the sign-in form again.
    until(lambda: "/login" not in dash_duo.driver.current_url, timeout=30)
    dash_duo.server_url = dash_duo.server.url  # dash_duo's own wait for the app to render
    dash_duo.wait_for_element("#signed-in-user", timeout=20)
    return dash_duo


def start_signed_out(duo, app) -> None:  # type: ignore[no-untyped-def]
    """Start the server without dash_duo's first visit, which would wait for a Dash page on the sign-in form."""
    duo.start_server(app, navigate=False)


def requested_urls(duo) -> list[str]:  # type: ignore[no-untyped-def]
    """Every URL the page has fetched so far (document, scripts, styles, fonts, XHR, map data)."""
    return duo.driver.execute_script(
        "return [location.href].concat(performance.getEntriesByType('resource').map(e => e.name))"
    )


def foreign_requests(duo) -> list[str]:  # type: ignore[no-untyped-def]
    own = urlparse(duo.server_url).netloc
    return [u for u in requested_urls(duo) if urlparse(u).scheme in ("http", "https") and urlparse(u).netloc != own]

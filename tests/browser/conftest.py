"""Browser tests: the real app over the demo data, in Debian's headless Chromium (dash_duo)."""

from __future__ import annotations

import os
import shutil
from urllib.parse import urlparse

import pytest

from tests.conftest import database_url

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
        from app import app, server

        assert server.test_cli_runner().invoke(args=["load-demo"]).exit_code == 0
        yield app


@pytest.fixture
def dashboard(dash_duo, demo_app):  # type: ignore[no-untyped-def]
    dash_duo.start_server(demo_app)
    return dash_duo


def requested_urls(duo) -> list[str]:  # type: ignore[no-untyped-def]
    """Every URL the page has fetched so far (document, scripts, styles, fonts, XHR, map data)."""
    return duo.driver.execute_script(
        "return [location.href].concat(performance.getEntriesByType('resource').map(e => e.name))"
    )


def foreign_requests(duo) -> list[str]:  # type: ignore[no-untyped-def]
    own = urlparse(duo.server_url).netloc
    return [u for u in requested_urls(duo) if urlparse(u).scheme in ("http", "https") and urlparse(u).netloc != own]

"""What the benchmarks time: the page router's ``/_dash-update-component``, as a filter change calls it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def router_body(router: str, path: str, search: str) -> dict[str, Any]:
    """The request body Dash's page router sends when the location (path, query string) changes."""
    return {
        "output": router,
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": path},
            {"id": "_pages_location", "property": "search", "value": search},
        ],
        "state": [],
        "changedPropIds": ["_pages_location.search"],
    }


def page_router(server: Any, username: str) -> Callable[[str, str], float]:
    """A function that renders the page at (path, query string) for ``username`` and returns the milliseconds."""
    client = server.test_client()
    with client.session_transaction() as session:
        from data_access.store import default_engine
        from data_access.users import find_user

        user = find_user(default_engine(), username)
        session["user"] = username
        session["epoch"] = user.session_epoch if user else 0
    dependencies = client.get("/_dash-dependencies").get_json()
    router = next(d["output"] for d in dependencies if "_pages_content" in d["output"])

    def call(path: str, search: str) -> float:
        body = router_body(router, path, search)
        start = time.perf_counter()
        response = client.post("/_dash-update-component", json=body, headers={"Origin": "http://localhost"})
        assert response.status_code == 200, response.status_code
        return (time.perf_counter() - start) * 1000

    return call

"""What the benchmarks time: ``/_dash-update-component`` as the browser calls it to open a page (the page
router) and to change a filter on it (``components.in_place.update_page``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

PAGE_URL, PAGE_SHAPE = "page-url", {"type": "page-shape", "of": "page"}


def router_body(router: str, path: str, search: str) -> dict[str, Any]:
    """The request body Dash's page router sends when a page is opened at (path, query string)."""
    return {
        "output": router,
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": path},
            {"id": "_pages_location", "property": "search", "value": search},
        ],
        "state": [],
        "changedPropIds": ["_pages_location.pathname", "_pages_location.search"],
    }


def update_body(update: str, path: str, search: str, shape: Any) -> dict[str, Any]:
    """The request body of the in-place update when the query string of the page at ``path`` (drawn with
    ``shape``) becomes ``search``."""
    return {
        "output": update,
        "outputs": [],
        "inputs": [
            {"id": PAGE_URL, "property": "pathname", "value": path},
            {"id": PAGE_URL, "property": "search", "value": search},
        ],
        "state": [[{"id": PAGE_SHAPE, "property": "data", "value": shape}], []],  # no table open
        "changedPropIds": [f"{PAGE_URL}.search"],
    }


def callback_ids(client: Any) -> tuple[str, str]:
    """The page router's and the in-place update's callback ids."""
    dependencies = client.get("/_dash-dependencies").get_json()
    router = next(d["output"] for d in dependencies if "_pages_content" in d["output"])
    update = next(
        d["output"]
        for d in dependencies
        if any(i["id"] == PAGE_URL for i in d["inputs"]) and any("page-shape" in str(s["id"]) for s in d["state"])
    )
    return router, update


def shape_of_page(opened: dict[str, Any]) -> Any:
    """The page's shape store in the page router's answer."""
    found = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict) and props.get("id") == PAGE_SHAPE:
                found.append(node["props"]["data"])
            for value in node.values():
                walk(value)

    walk(opened)
    return found[0] if found else None


def page_router(server: Any, username: str) -> Callable[[str, str], float]:
    """A function that changes the filters of the page at ``path`` to ``search`` for ``username``, as the
    filter bar does (the page was opened unfiltered first, not timed), and returns the milliseconds."""
    client = server.test_client()
    with client.session_transaction() as session:
        from data_access.store import default_engine
        from data_access.users import find_user

        user = find_user(default_engine(), username)
        session["user"] = username
        session["epoch"] = user.session_epoch if user else 0
    router, update = callback_ids(client)
    headers = {"Origin": "http://localhost"}
    shapes: dict[str, Any] = {}

    def call(path: str, search: str) -> float:
        if path not in shapes:
            opened = client.post("/_dash-update-component", json=router_body(router, path, ""), headers=headers)
            shapes[path] = shape_of_page(opened.get_json())
        start = time.perf_counter()
        response = client.post(
            "/_dash-update-component", json=update_body(update, path, search, shapes[path]), headers=headers
        )
        assert response.status_code == 200, response.status_code
        return (time.perf_counter() - start) * 1000

    return call

"""An entity profile's one-click refinements, rendered in the background once someone opens it.

A profile is a slice no commit's warm-up can cover in full (every entity times every other filter),
and most of its first-visit time is rendering seven suppressed figures. Whoever opens a profile reads
it for a few seconds before narrowing it, so meanwhile one background thread per process renders the
choices one click away, as that viewer would see them: each platform, gender and staff category,
each calendar year and quarter, and the duty stations the profile's chart lists. They land in the
same rendered-page cache (and the shared cache, with several workers), keyed by the data version.

(A leading underscore keeps Dash's page registry from treating this helper as a page.)
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

import flask

import settings
from auth import SignedInUser, current_user
from data_access.cache import MemoryStore, data_versions
from data_access.views import calendar_quarters, calendar_years
from pages._context import PageContext

log = logging.getLogger(__name__)

#: Duty stations of the profile's chart that are rendered ahead (its bars filter the page when clicked).
STATIONS = 15
#: A pause between two pages, so a worker's own requests are not held back behind a run of renders.
PAUSE_SECONDS = 0.005
_IN_PREFETCH = "prefetching"


def prefetch_refinements(page: PageContext, render: Callable[..., Any]) -> bool:
    """Start rendering ``render(**query)`` for each refinement of ``page``'s slice, in the background,
    once per process, viewer scope and data version. Only for a visit of the profile itself (the
    entity alone), by someone signed in, and when ``PREFETCH_PROFILES`` is on; whether it started."""
    user = current_user()
    if (
        user is None
        or flask.g.get(_IN_PREFETCH)
        or page.filters.active() != ["entity"]
        or settings.get("PREFETCH_PROFILES").strip().lower() not in ("1", "true", "yes", "on")
    ):
        return False
    scope = None if user.entities is None else sorted(user.entities)
    key = repr((page.filters.entity, scope, page.versions, page.min_cell))
    started = _started()
    with started.lock:
        if key in started.entries:
            return False
        started.entries[key] = True
        while len(started.entries) > started.capacity:
            started.entries.popitem(last=False)
    app = flask.current_app._get_current_object()  # type: ignore[attr-defined]
    pending = _pending()
    pending[:] = [future for future in pending if not future.done()]
    pending.append(_runner().submit(_render_all, app, user, page.filters.entity, render))
    return True


def refinements(page: PageContext) -> list[dict[str, str]]:
    """The query strings one click away from ``page``'s slice, in the order they are rendered."""
    queries: list[dict[str, str]] = []
    for name in ("platform", "gender", "staff_category"):
        queries += [{name: value} for value, _ in page.options.get(name, [])]
    for period in calendar_years(page.options) + calendar_quarters(page.options):
        queries.append({k: v for k, v in period.to_query().items() if k in ("from", "to")})
    stations = page.view("uptake_by_duty_station").head(STATIONS)
    queries += [{"duty_station": code} for code in stations["duty_station"].dropna().tolist()]
    return queries


def _render_all(app: flask.Flask, user: SignedInUser, entity: str, render: Callable[..., Any]) -> int:
    """Render every refinement as ``user``; stops when the data changes meanwhile. The pages rendered."""
    done = 0
    try:
        with app.test_request_context("/"):
            flask.g.user = user
            flask.g.setdefault(_IN_PREFETCH, True)
            page = PageContext.from_query({}, entity=entity)
            for query in refinements(page):
                if data_versions(page.engine) != page.versions:
                    break
                render(**query)
                done += 1
                time.sleep(PAUSE_SECONDS)
    except Exception:  # only a slower next click, never a failed page
        log.exception("rendering an entity profile's refinements failed")
    return done


def wait_for_prefetch(timeout: float | None = None) -> None:
    """Wait for the background renders started so far (tests do, before dropping a database)."""
    pending = _pending()
    wait(list(pending), timeout=timeout)
    pending[:] = [future for future in pending if not future.done()]


@functools.cache
def _runner() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch")


@functools.cache
def _pending() -> list[Future[int]]:
    return []


@functools.cache
def _started() -> MemoryStore[bool]:
    return MemoryStore(capacity=256)

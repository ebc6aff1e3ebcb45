"""An entity profile's one-click refinements, rendered in the background once someone opens it.

A profile is a slice no commit's warm-up can cover in full (every entity times every other filter),
and most of its first-visit time is rendering seven suppressed figures. Whoever opens a profile reads
it for a few seconds before narrowing it. Meanwhile one background thread per process, in that
worker's idle time, renders the choices one click away, as that viewer would see them: each
platform, gender and staff category, each calendar year and quarter, the duty stations the
profile's chart lists and the five with the most staff. They are kept apart from the other rendered
pages, so they never push out what a commit's warm-up rendered, and go to the shared cache too (with
several workers), keyed by the data version. With a shared cache one worker claims each profile's
renders; the others read the pages it wrote.

(A leading underscore keeps Dash's page registry from treating this helper as a page.)
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from queue import SimpleQueue
from typing import Any

import flask

import settings
from auth import SignedInUser, current_user
from data_access.cache import cache_key, data_versions
from data_access.store import default_cache
from data_access.views import calendar_quarters, calendar_years, largest_duty_stations
from pages._context import RENDERING_AHEAD, PageContext

log = logging.getLogger(__name__)

#: Duty stations of the profile's chart that are rendered ahead (its bars filter the page when clicked).
STATIONS = 15
#: And the duty stations with the most staff (the headquarters hubs), which people pick from the
#: filter bar for most entities, as the commit's warm-up does for the whole organisation.
HUBS = 5
#: Renders ahead use only a worker's idle time: before each page, the thread waits until none of the
#: worker's requests is in flight, looking every POLL_SECONDS, and leaves the rest to the clicks
#: once it has waited GIVE_UP_SECONDS in all (a worker that is never idle renders nothing ahead).
POLL_SECONDS = 0.01
GIVE_UP_SECONDS = 30.0
#: Profiles waiting for their renders ahead at most; more are left to render on the click.
MAX_QUEUED = 8
#: Profiles (per viewer scope and data version) remembered as started, so each is rendered ahead once.
STARTED_KEPT = 256


def prefetch_refinements(page: PageContext, render: Callable[..., Any]) -> bool:
    """Start rendering ``render(**query)`` for each refinement of ``page``'s slice, in the background,
    once per process, viewer scope and data version. Only for a visit of the profile itself (the
    entity alone), by someone signed in, and when ``PREFETCH_PROFILES`` is on; whether it started."""
    user = current_user()
    if (
        user is None
        or flask.g.get(RENDERING_AHEAD)
        or page.filters.active() != ["entity"]
        or settings.get("PREFETCH_PROFILES").strip().lower() not in ("1", "true", "yes", "on")
    ):
        return False
    scope = None if user.entities is None else sorted(user.entities)
    key = repr((page.filters.entity, scope, page.versions, page.min_cell))
    app = flask.current_app._get_current_object()  # type: ignore[attr-defined]
    queue = _queue()
    queue.revive()
    with queue.lock:
        if key in queue.started or queue.outstanding >= MAX_QUEUED:
            return False
        queue.started[key] = None
        while len(queue.started) > STARTED_KEPT:
            queue.started.popitem(last=False)
    if not _claimed(key):
        return False
    queue.submit(functools.partial(_render_all, app, user, page.filters.entity, render))
    return True


def _claimed(key: str) -> bool:
    """Whether this worker renders ``key``'s refinements: the first to ask, among workers sharing a cache
    (the pages they render reach the others through it); always, with a cache of its own."""
    store = default_cache(settings.get("CACHE_URL"))
    if not getattr(store, "shared", False):
        return True
    try:
        return store.add(cache_key("prefetch", key), b"1")
    except Exception:  # a cache that is down: leave the refinements to the clicks
        return False


def refinements(page: PageContext) -> list[dict[str, str]]:
    """The query strings one click away from ``page``'s slice, in the order they are rendered."""
    queries: list[dict[str, str]] = []
    for name in ("platform", "gender", "staff_category"):
        queries += [{name: value} for value, _ in page.options.get(name, [])]
    queries += [period.to_query() for period in calendar_years(page.options) + calendar_quarters(page.options)]
    listed = page.view("uptake_by_duty_station").head(STATIONS)["duty_station"].dropna().tolist()
    hubs = largest_duty_stations(page.engine, HUBS)
    queries += [{"duty_station": code} for code in dict.fromkeys(listed + hubs)]
    return queries


def _render_all(app: flask.Flask, user: SignedInUser, entity: str, render: Callable[..., Any]) -> int:
    """Render every refinement as ``user``; stops when the data changes meanwhile. The pages rendered."""
    done = 0
    try:
        with app.test_request_context("/"):
            flask.g.user = user
            flask.g.setdefault(RENDERING_AHEAD, True)
            page = PageContext.from_query({}, entity=entity)
            waited = 0.0
            for query in refinements(page):
                waited += _until_idle(GIVE_UP_SECONDS - waited)
                if waited >= GIVE_UP_SECONDS or data_versions(page.engine) != page.versions:
                    break
                render(**query)
                done += 1
    except Exception:  # only a slower next click, never a failed page
        log.exception("rendering an entity profile's refinements failed")
    return done


def register_prefetch(server: flask.Flask) -> None:
    """Count the worker's requests in flight, so renders ahead wait for its idle time."""
    queue = _queue()

    def arrived() -> None:
        with queue.lock:
            queue.in_flight[threading.get_ident()] = threading.current_thread()

    def left(*_: object) -> None:
        with queue.lock:
            queue.in_flight.pop(threading.get_ident(), None)

    server.before_request_funcs.setdefault(None, []).insert(0, arrived)
    server.teardown_request(left)


def _until_idle(limit: float) -> float:
    """Wait until no request of this worker is in flight, or ``limit`` seconds; the seconds waited."""
    queue, waited = _queue(), 0.0
    while queue.busy() and waited < limit:
        time.sleep(POLL_SECONDS)
        waited += POLL_SECONDS
    return waited


def wait_for_prefetch(timeout: float | None = None) -> None:
    """Wait for the background renders started so far (tests do, before dropping a database)."""
    queue = _queue()
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        # The thread can die during the wait (see ``revive``): look again now and then.
        queue.revive()
        left = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
        with queue.finished:
            if queue.finished.wait_for(lambda: queue.outstanding == 0, max(left, 0)) or left <= 0:
                return


def reset_prefetch() -> None:
    """Drop the queued runs, the keys started and the thread (tests do once a test server has stopped:
    its stop kills the threads it started, and a render thread killed while it waited for a run dies
    only when the next run reaches it, taking that run with it)."""
    _queue().reset()


@dataclass
class _Queue:
    """This process's renders ahead: one daemon thread (a worker that stops does not wait for it), the
    runs it has yet to finish, the keys started, and the worker's requests in flight."""

    jobs: SimpleQueue[Callable[[], Any]] = field(default_factory=SimpleQueue)
    outstanding: int = 0
    started: OrderedDict[str, None] = field(default_factory=OrderedDict)
    #: The threads answering a request of this worker now. A thread that died mid-request (killed,
    #: as a test server's threads are when it stops) never runs its teardown, so it is left out by
    #: being dead rather than by being removed.
    in_flight: dict[int, threading.Thread] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self.finished = threading.Condition(self.lock)

    def busy(self) -> bool:
        """Whether a request of this worker is being answered (by a thread still alive)."""
        with self.lock:
            for ident, thread in list(self.in_flight.items()):
                if not thread.is_alive():
                    del self.in_flight[ident]
            return bool(self.in_flight)

    def submit(self, job: Callable[[], Any]) -> None:
        with self.lock:
            self.outstanding += 1
            self.jobs.put(job)
            self._keep_running()

    def revive(self) -> None:
        """Start the thread again if it died with runs still queued (killed, as a test server's
        threads are when it stops): they would otherwise wait, and count as queued, for good."""
        with self.lock:
            if self.outstanding:
                self._keep_running()

    def reset(self) -> None:
        with self.lock:
            # A new queue: a thread still waiting on the old one never wakes to take a run.
            self.jobs, self.thread, self.outstanding = SimpleQueue(), None, 0
            self.started.clear()
            self.in_flight.clear()
            self.finished.notify_all()

    def _keep_running(self) -> None:
        if self.thread is None or not self.thread.is_alive():
            # A thread killed mid-run may not have counted its run done: what is left is what is queued.
            self.outstanding = self.jobs.qsize()
            self.thread = threading.Thread(target=self._run, name="prefetch", daemon=True)
            self.thread.start()

    def _run(self) -> None:
        jobs = self.jobs
        while jobs is self.jobs:
            job = jobs.get()
            try:
                job()
            finally:
                with self.finished:
                    if jobs is self.jobs:  # runs of a queue since reset are no longer counted
                        self.outstanding -= 1
                    self.finished.notify_all()


@functools.cache
def _queue() -> _Queue:
    return _Queue()

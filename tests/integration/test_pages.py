"""Each page's layout and the export route over the demo data: the figures match `kpis`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import threading

import pandas as pd
import plotly.io
import pytest

from tests.conftest import BACKENDS, database_url
from tests.helpers import create_user, signed_in


@pytest.fixture(scope="module", params=BACKENDS)
def demo(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("pages")
    with database_url(request.param, folder) as url, pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        patch.setenv("INSTANCE_DIR", str(folder))
        from app import app, server

        runner = server.test_cli_runner()
        assert runner.invoke(args=["load-demo"]).exit_code == 0
        create_user(runner, "viewer")
        yield app, server, runner


def kpis(runner, *args: str) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(runner.invoke(args=["kpis", "--json", *args]).output)


def rendered(component) -> str:  # type: ignore[no-untyped-def]
    return plotly.io.json.to_json_plotly(component)


def export_rows(server, view: str, query: str = "") -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    response = signed_in(server, "viewer").get(f"/export/{view}.csv{query}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="{view}.csv"'
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_platform_export_matches_kpis(demo):
    _, server, runner = demo
    expected = kpis(runner)["platforms"]
    for row in export_rows(server, "uptake_by_platform"):
        figures = expected[row["platform"]]
        for column in ("learners", "completers", "activities", "completions"):
            assert int(row[column]) == figures[column], (row["platform"], column)
    seeds = {r["platform"]: r for r in export_rows(server, "uptake_by_platform")}
    assert seeds["Coursera"]["completers"] == "1300"
    assert (seeds["LinkedIn Learning"]["completers"], seeds["LinkedIn Learning"]["completions"]) == ("28000", "35800")
    assert (seeds["Blue Line"]["learners"], seeds["Blue Line"]["activities"]) == ("7000", "17561")


def test_filtered_export_matches_filtered_kpis(demo):
    _, server, runner = demo
    expected = kpis(runner, "--entity", "OCHA", "--from", "2024-01-01", "--to", "2024-09-30")["platforms"]
    rows = export_rows(server, "uptake_by_platform", "?entity=OCHA&from=2024-01-01&to=2024-09-30")
    assert {r["platform"]: int(r["learners"]) for r in rows} == {k: v["learners"] for k, v in expected.items()}


def test_programme_export_matches_the_seed(demo):
    _, server, _ = demo
    rows = {r["programme"]: r for r in export_rows(server, "programme_summary")}
    aplc = rows["Aspiring People Leaders Certification"]
    assert (aplc["cohorts"], aplc["graduates"], aplc["completion_rate"]) == ("3", "615", "0.82")
    assert (aplc["female_share_graduates"], aplc["field_share_participants"]) == ("0.6569", "0.828")


def test_excel_export_has_the_data_and_an_about_sheet(demo):
    _, server, _ = demo
    import openpyxl

    response = signed_in(server, "viewer").get("/export/uptake_by_entity.xlsx?gender=female")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["data", "about"]
    assert [c.value for c in book["data"][1]][:3] == ["entity", "name", "learners"]
    assert ("filters", "?gender=female") in [tuple(r) for r in book["about"].iter_rows(values_only=True)]


def test_unknown_export_is_404(demo):
    _, server, _ = demo
    assert signed_in(server, "viewer").get("/export/upload_batch.csv").status_code == 404
    assert signed_in(server, "viewer").get("/export/uptake_by_entity.exe").status_code == 404


@pytest.mark.parametrize(
    ("module", "query", "expected"),
    [
        ("overview", {}, ["37,000", "Key performance indicators against targets, 2024", "off track"]),
        ("overview", {"entity": "OCHA"}, ["2,600", "Office for the Coordination"]),
        ("needs", {"cycle": "2022"}, ["LNA cycle 2022", "Learning needs by area, LNA 2022"]),
        ("uptake", {"duty_station": "CH-GENEVA"}, ["Geneva", "Duty stations: learners (size)"]),
        ("leadership", {"programme": "E-Management Certificate"}, ["E-Management Certificate"]),
        ("entity", {"code": "OCHA"}, ["Office for the Coordination of Humanitarian Affairs (OCHA)"]),
        ("entity", {"code": "NOPE"}, ["There is no entity with the code"]),
        ("uptake", {"entity": "NOPE"}, ["No data for this selection"]),
    ],
)
def test_each_page_renders_its_figures(demo, module, query, expected):
    import importlib

    page = importlib.import_module(f"pages.{module}")
    text = rendered(page.layout(**query))
    for fragment in expected:
        assert fragment in text, fragment


@pytest.mark.parametrize(
    ("module", "query"),
    [("overview", {}), ("uptake", {"gender": "female"}), ("needs", {}), ("leadership", {}), ("entity", {})],
)
def test_a_page_is_serialised_as_dashs_own_encoder_would(demo, module, query):
    import importlib

    import orjson

    from pages._context import PageContext, as_json

    page = importlib.import_module(f"pages.{module}")
    context = PageContext.from_query(query, **({"entity": "OCHA"} if module == "entity" else {}))
    tree = page.content(context, "OCHA") if module == "entity" else page.content(context)
    assert orjson.loads(as_json(tree)) == json.loads(rendered(tree))


def test_the_index_page_stays_small(demo):
    _, server, _ = demo
    client = signed_in(server, "viewer")
    client.get("/")  # Dash builds its validation layout on the first request
    page = client.get("/")
    assert page.status_code == 200
    assert len(page.data) < 50_000, "every page's figures were shipped inside the index page"
    # @babel/polyfill is left out; the one part of it Dash's code calls comes from the assets.
    assert b"polyfill@" not in page.data
    assert b"/assets/regenerator-runtime.js" in page.data and b"/deps/react@" in page.data


#: A value for every filter, each one that narrows the demo data.
EVERY_FILTER = {
    "entity": "OCHA",
    "duty_station": "CH-GENEVA",
    "date_from": dt.date(2023, 1, 1),
    "date_to": dt.date(2023, 6, 30),
    "staff_category": "P",
    "gender": "female",
    "platform": "Coursera",
    "report_type": "Staff survey",
    "learning_need": "Data and analytics",
    "cycle": "2020",
    "programme": "E-Management Certificate",
}


def test_a_filter_a_view_does_not_declare_does_not_change_it(demo):
    """Views drop the filters they do not declare from their slice and cache key; a query that read one
    anyway would serve a wrong table from the cache."""
    from data_access.filters import Filters
    from data_access.store import default_engine
    from data_access.views import VIEWS, _raw_view

    engine = default_engine()
    for name, view in VIEWS.items():
        everything = _raw_view(engine, name, Filters())
        for filter_name, value in EVERY_FILTER.items():
            if filter_name not in view.filters:
                narrowed = _raw_view(engine, name, Filters(**{filter_name: value}))
                pd.testing.assert_frame_equal(narrowed, everything, obj=f"{name} with {filter_name}")
    assert {name for name in EVERY_FILTER} == set(Filters.__dataclass_fields__)


@pytest.mark.parametrize(
    ("module", "query"),
    [("overview", {}), ("needs", {}), ("uptake", {}), ("leadership", {}), ("entity", {"code": "OCHA"})],
)
def test_every_chart_is_of_a_type_the_plotly_bundle_holds(demo, module, query):
    import importlib
    import json

    from delivery import BUNDLED_TRACES

    def trace_types(node):  # type: ignore[no-untyped-def]
        if isinstance(node, dict):
            figure = node.get("figure")
            if isinstance(figure, dict):
                yield from (trace.get("type", "scatter") for trace in figure.get("data", []))
            for value in node.values():
                yield from trace_types(value)
        elif isinstance(node, list):
            for value in node:
                yield from trace_types(value)

    page = importlib.import_module(f"pages.{module}")
    found = set(trace_types(json.loads(rendered(page.layout(**query)))))
    assert found and found <= BUNDLED_TRACES, found - BUNDLED_TRACES


def _open(client, path: str, search: str = "") -> bytes:  # type: ignore[no-untyped-def]
    """What the page router answers when the browser's location becomes ``path`` + ``search``."""
    from bench.router import router_body

    dependencies = client.get("/_dash-dependencies").get_json()
    router = next(d["output"] for d in dependencies if "_pages_content" in d["output"])
    response = client.post("/_dash-update-component", json=router_body(router, path, search))
    assert response.status_code == 200, response.status_code
    return response.data


def _forget_rendered_pages() -> None:
    """Start from no rendered page and no render ahead (both backends' demo stores have the same versions)."""
    from pages._context import _pages_ahead, _rendered_pages
    from pages._prefetch import reset_prefetch

    _rendered_pages().entries.clear()
    _pages_ahead().entries.clear()
    # Runs queued by earlier tests' servers would fill the queue, and this test's visit find no room;
    # and a render thread a browser test's server killed would take this test's run down with it.
    reset_prefetch()


def _rendered_slices(entity: str) -> list[tuple[dict, object]]:
    """(filters, viewer scope) of each rendered profile of ``entity`` this process holds."""
    from pages._context import _pages_ahead, _rendered_pages

    keys = [json.loads(key) for key in {*_rendered_pages().entries, *_pages_ahead().entries}]
    return [(query, scope) for name, query, scope, *_ in keys if name == f"pages.entity:{entity}"]


def test_opening_a_profile_renders_its_one_click_refinements_ahead(demo):
    from pages._prefetch import refinements, wait_for_prefetch

    app, server, runner = demo
    _forget_rendered_pages()
    create_user(runner, "monusco-viewer", entities="MONUSCO")
    client = signed_in(server, "viewer")
    _open(client, "/entity/DPPA")
    wait_for_prefetch(timeout=120)
    held = [query for query, scope in _rendered_slices("DPPA") if scope is None]
    with server.test_request_context("/"):
        from pages._context import PageContext

        expected = refinements(PageContext.from_query({}, entity="DPPA"))
    assert {"entity": "DPPA", "gender": "female"} in held and {"entity": "DPPA", "platform": "Coursera"} in held
    assert len(expected) > 20 and all({"entity": "DPPA", **query} in held for query in expected)

    # A daemon thread: a worker that stops (gunicorn's restart, shutdown) does not wait for its renders.
    from pages._prefetch import _queue

    assert _queue().thread is not None and _queue().thread.daemon

    # Kept apart from the pages rendered on a visit or by the commit's warm-up, so they push none out.
    from pages._context import _pages_ahead, _rendered_pages

    def queries(store):  # type: ignore[no-untyped-def]
        return [json.loads(key)[1] for key in list(store.entries)]

    assert {"entity": "DPPA", "gender": "female"} in queries(_pages_ahead())
    assert queries(_rendered_pages()) == [{"entity": "DPPA"}]

    # The click is served as rendered ahead, the same bytes as a page rendered on the click.
    count = len(_rendered_slices("DPPA"))
    ahead = _open(client, "/entity/DPPA", "?gender=female")
    assert len(_rendered_slices("DPPA")) == count
    _forget_rendered_pages()
    assert _open(client, "/entity/DPPA", "?gender=female") == ahead

    # A viewer limited to some entities gets the refinements of what they may see, in their own scope.
    _open(signed_in(server, "monusco-viewer"), "/entity/MONUSCO")
    wait_for_prefetch(timeout=120)
    assert {"entity": "MONUSCO", "staff_category": "P"} in [
        query for query, scope in _rendered_slices("MONUSCO") if scope == ["MONUSCO"]
    ]


def test_a_refinement_or_a_switched_off_prefetch_renders_nothing_ahead(demo, monkeypatch):
    from pages._prefetch import wait_for_prefetch

    app, server, runner = demo
    _forget_rendered_pages()
    client = signed_in(server, "viewer")
    _open(client, "/entity/DOS", "?gender=male")  # already narrowed: nothing one click further
    wait_for_prefetch(timeout=120)
    assert [query for query, _ in _rendered_slices("DOS")] == [{"entity": "DOS", "gender": "male"}]
    monkeypatch.setenv("PREFETCH_PROFILES", "off")
    _forget_rendered_pages()
    _open(client, "/entity/DOS")
    wait_for_prefetch(timeout=120)
    assert [query for query, _ in _rendered_slices("DOS")] == [{"entity": "DOS"}]


def test_renders_ahead_wait_for_the_worker_to_be_idle(demo):
    import time

    from pages._prefetch import _queue, wait_for_prefetch

    app, server, runner = demo
    _forget_rendered_pages()
    queue = _queue()
    answered = threading.Event()
    other = threading.Thread(target=answered.wait)  # someone else's request, still being answered
    other.start()
    with queue.lock:
        queue.in_flight[other.ident] = other
    try:
        _open(signed_in(server, "viewer"), "/entity/DMSPC")
        time.sleep(0.5)
        assert [query for query, _ in _rendered_slices("DMSPC")] == [{"entity": "DMSPC"}]
    finally:
        answered.set()
        other.join()
    wait_for_prefetch(timeout=120)
    assert {"entity": "DMSPC", "gender": "female"} in [query for query, _ in _rendered_slices("DMSPC")]


def _dead_thread() -> threading.Thread:
    """A thread that has run and ended, as one killed by a test server's stop."""
    thread = threading.Thread(target=lambda: None)
    thread.start()
    thread.join()
    return thread


def test_a_request_thread_that_died_mid_request_does_not_hold_renders_back(demo):
    """A test server's threads are killed when it stops, mid-request at times: their teardown never runs."""
    from pages._prefetch import _queue, wait_for_prefetch

    app, server, runner = demo
    _forget_rendered_pages()
    queue = _queue()
    gone = _dead_thread()
    with queue.lock:
        queue.in_flight[gone.ident] = gone  # arrived, never left
    _open(signed_in(server, "viewer"), "/entity/DOS")
    wait_for_prefetch(timeout=20)
    assert {"entity": "DOS", "gender": "female"} in [query for query, _ in _rendered_slices("DOS")]


def test_renders_ahead_resume_when_their_thread_died_with_runs_queued(demo):
    """A test server's stop kills every thread it started, the renders' own among them."""
    from pages._prefetch import MAX_QUEUED, _queue, wait_for_prefetch

    app, server, runner = demo
    _forget_rendered_pages()
    queue = _queue()
    wait_for_prefetch(timeout=120)
    dead = _dead_thread()
    ran = []
    with queue.lock:
        queue.thread = dead
        queue.outstanding += 1  # the run it was killed in, never counted done
        for _ in range(MAX_QUEUED):  # as many runs as may wait, queued before it died
            queue.outstanding += 1
            queue.jobs.put(lambda: ran.append(1))
    viewer = signed_in(server, "viewer")
    _open(viewer, "/entity/DMSPC")  # the queue may be full for this visit: its refinements wait for clicks
    wait_for_prefetch(timeout=20)
    assert len(ran) == MAX_QUEUED and queue.outstanding == 0
    _forget_rendered_pages()
    _open(viewer, "/entity/DMSPC")
    wait_for_prefetch(timeout=120)
    assert {"entity": "DMSPC", "gender": "female"} in [query for query, _ in _rendered_slices("DMSPC")]


def test_a_render_thread_killed_while_it_waited_takes_no_later_run_down(demo):
    """A test server's stop kills the render thread too; one waiting for a run dies only when the next
    run reaches it. Reset, the queue leaves that thread waiting on a queue no run reaches."""
    import ctypes

    from pages._prefetch import _queue, reset_prefetch, wait_for_prefetch

    app, server, runner = demo
    _forget_rendered_pages()
    queue = _queue()
    queue.submit(lambda: None)
    wait_for_prefetch(timeout=20)
    waiting = queue.thread
    assert waiting is not None and waiting.is_alive()
    killed = ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(waiting.ident), ctypes.py_object(SystemExit))
    assert killed == 1 and waiting.is_alive()  # still blocked in its wait for a run

    reset_prefetch()
    _open(signed_in(server, "viewer"), "/entity/DOS")
    wait_for_prefetch(timeout=60)
    assert {"entity": "DOS", "gender": "female"} in [query for query, _ in _rendered_slices("DOS")]
    assert queue.thread is not waiting and waiting.is_alive()


def _find(node, wanted: str):  # type: ignore[no-untyped-def]
    """The component with id ``wanted`` in a layout's JSON."""
    if isinstance(node, list):
        return next((found for child in node if (found := _find(child, wanted)) is not None), None)
    if isinstance(node, dict):
        props = node.get("props", {})
        if props.get("id") == wanted:
            return node
        return _find(props.get("children"), wanted)
    return None


def _layout_for(client, referrer: str | None) -> dict:  # type: ignore[no-untyped-def]
    headers = {"Referer": referrer} if referrer else {}
    response = client.get("/_dash-layout", headers=headers)
    assert response.status_code == 200
    return json.loads(response.data)


@pytest.mark.parametrize(
    ("path", "search"), [("/uptake", "?platform=Coursera&gender=female"), ("/entity/OCHA", ""), ("/", "")]
)
def test_the_layout_holds_the_page_the_browser_opened_as_the_router_renders_it(demo, path, search):
    _, server, _ = demo
    client = signed_in(server, "viewer")
    layout = _layout_for(client, f"http://localhost{path}{search}")
    location = _find(layout, "_pages_location")["props"]
    assert (location["pathname"], location["search"], location["href"]) == (
        path,
        search,
        f"http://localhost{path}{search}",
    )
    content = _find(layout, "_pages_content")["props"]["children"]
    routed = json.loads(_open(client, path, search))["response"]["_pages_content"]["children"]
    assert content == routed
    title = json.loads(_open(client, path, search))["response"]["_pages_store"]["data"]["title"]
    assert _find(layout, "_pages_store")["props"]["data"] == {"title": title}


@pytest.mark.parametrize("referrer", [None, "http://elsewhere.example/uptake?platform=Coursera", "not a url"])
def test_without_a_referrer_of_this_site_the_layout_leaves_the_page_to_the_router(demo, referrer):
    _, server, _ = demo
    layout = _layout_for(signed_in(server, "viewer"), referrer)
    assert "pathname" not in _find(layout, "_pages_location")["props"]
    assert _find(layout, "_pages_content")["props"].get("children") is None


def test_a_page_that_fails_to_render_is_left_to_the_router(demo, monkeypatch):
    import importlib

    _, server, _ = demo
    overview = importlib.import_module("pages.overview")
    monkeypatch.setattr(overview, "content", lambda page: 1 / 0)
    monkeypatch.setattr("pages._context._rendered_pages", lambda: _Empty())
    layout = _layout_for(signed_in(server, "viewer"), "http://localhost/?gender=male&platform=iLearn")
    assert _find(layout, "_pages_content")["props"].get("children") is None


class _Empty:
    def get(self, key: str) -> None:
        return None

    def set(self, key: str, value: object) -> None:
        pass

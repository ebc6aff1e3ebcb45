"""Each page's layout and the export route over the demo data: the figures match `kpis`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import urllib.parse

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
    published = {r["platform"]: r for r in export_rows(server, "uptake_by_platform")}
    assert published["Coursera"]["completers"] == "1300"
    assert (published["LinkedIn Learning"]["completers"], published["LinkedIn Learning"]["completions"]) == (
        "28000",
        "35800",
    )
    assert (published["Blue Line"]["learners"], published["Blue Line"]["activities"]) == ("7000", "17561")


def test_filtered_export_matches_filtered_kpis(demo):
    _, server, runner = demo
    expected = kpis(runner, "--entity", "OCHA", "--from", "2024-01-01", "--to", "2024-09-30")["platforms"]
    rows = export_rows(server, "uptake_by_platform", "?entity=OCHA&from=2024-01-01&to=2024-09-30")
    assert {r["platform"]: int(r["learners"]) for r in rows} == {k: v["learners"] for k, v in expected.items()}


def test_programme_export_matches_the_published_figures(demo):
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
    _, server, _ = demo
    text = _open(signed_in(server, "viewer"), *_location(module, query)).decode()
    for fragment in expected:
        assert fragment in text, fragment


def test_the_index_page_stays_small(demo):
    _, server, _ = demo
    client = signed_in(server, "viewer")
    client.get("/")  # Dash builds its validation layout on the first request
    page = client.get("/")
    assert page.status_code == 200
    assert len(page.data) < 50_000, "every page's figures were shipped inside the index page"


def test_dashs_setup_calls_the_pages_with_nobody_signed_in_and_gets_no_data(demo):
    import dash

    app, server, _ = demo
    with server.test_request_context("/"):
        for page in dash.page_registry.values():
            text = rendered(page["layout"]())
            for secret in ("37,000", "Office for the Coordination", "Coursera"):
                assert secret not in text, (page["path"], secret)


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
    from data_access.reads.filters import Filters
    from data_access.reads.views import VIEWS, raw_view
    from data_access.store import default_engine

    engine = default_engine()
    for name, view in VIEWS.items():
        everything = raw_view(engine, name, Filters())
        for filter_name, value in EVERY_FILTER.items():
            if filter_name not in view.filters:
                narrowed = raw_view(engine, name, Filters(**{filter_name: value}))
                pd.testing.assert_frame_equal(narrowed, everything, obj=f"{name} with {filter_name}")
    assert {name for name in EVERY_FILTER} == set(Filters.__dataclass_fields__)


@pytest.mark.parametrize(
    ("module", "query"),
    [("overview", {}), ("needs", {}), ("uptake", {}), ("leadership", {}), ("entity", {"code": "OCHA"})],
)
def test_every_chart_is_of_a_type_the_plotly_bundle_holds(demo, module, query):
    from server.delivery import BUNDLED_TRACES

    _, server, _ = demo

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

    found = set(trace_types(json.loads(_open(signed_in(server, "viewer"), *_location(module, query)))))
    assert found and found <= BUNDLED_TRACES, found - BUNDLED_TRACES


def _location(module: str, query: dict[str, str]) -> tuple[str, str]:
    """The address of page ``module`` with ``query`` (an entity profile's code goes in its path)."""
    query = dict(query)
    path = {"overview": "/", "entity": f"/entity/{query.pop('code', 'OCHA')}"}.get(module, f"/{module}")
    return path, ("?" + urllib.parse.urlencode(query)) if query else ""


def _open(client, path: str, search: str = "") -> bytes:  # type: ignore[no-untyped-def]
    """What the page router answers when the browser's location becomes ``path`` + ``search``."""
    from bench.router import router_body

    dependencies = client.get("/_dash-dependencies").get_json()
    router = next(d["output"] for d in dependencies if "_pages_content" in d["output"])
    response = client.post("/_dash-update-component", json=router_body(router, path, search))
    assert response.status_code == 200, response.status_code
    return response.data


def _change(client, path: str, search: str, shape) -> dict:  # type: ignore[no-untyped-def]
    """What the in-place update answers when the query string of the page at ``path`` becomes ``search``."""
    from bench.router import callback_ids, update_body

    _, update = callback_ids(client)
    response = client.post("/_dash-update-component", json=update_body(update, path, search, shape))
    assert response.status_code == 200, response.status_code
    return response.get_json()


@pytest.mark.parametrize("path", ["/", "/uptake", "/entity/OCHA"])
def test_a_filter_change_sets_only_what_changed_and_redraws_no_chart_from_scratch(demo, path):
    from bench.router import shape_of_page

    _, server, _ = demo
    client = signed_in(server, "viewer")
    opened = json.loads(_open(client, path))
    assert shape_of_page(opened) is not None
    from bench.router import callback_ids, router_body

    router, _ = callback_ids(client)
    asked = dict(router_body(router, path, "?gender=female"), changedPropIds=["_pages_location.search"])
    left = client.post("/_dash-update-component", json=asked).get_json()
    assert "_pages_content" not in left["response"]  # the router leaves the page to the in-place update

    changed = _change(client, path, "?gender=female", shape_of_page(opened))["sideUpdate"]
    assert "page-body" not in changed  # same shape: nothing mounted again
    figures = [props["figure"] for props in changed.values() if "figure" in props]
    assert figures and all(figure["data"] for figure in figures)
    assert "Female" in changed.values().__repr__()  # the heading's line names the slice
    whole = json.loads(_open(client, path, "?gender=female"))
    expected = {json.dumps(f, sort_keys=True) for f in _figures(whole)}
    assert {json.dumps(plotly.io.json.from_json_plotly(rendered(f)), sort_keys=True) for f in figures} == expected
    untouched = json.dumps({"name": "duty_station", "type": "filter"}, separators=(",", ":"), sort_keys=True)
    assert untouched not in changed and len(rendered(changed)) < len(rendered(whole))  # only what changed


def test_a_filter_change_that_changes_what_a_part_holds_sends_that_part_whole(demo):
    from bench.router import shape_of_page

    _, server, _ = demo
    client = signed_in(server, "viewer")
    shape = shape_of_page(json.loads(_open(client, "/")))
    changed = _change(client, "/", "?from=2021-01-01&to=2021-12-31", shape)["sideUpdate"]  # no targets that year
    assert "page-body" not in changed
    assert "No KPI targets" in json.dumps(changed["overview-targets"]["children"])  # the row, not the page
    assert json.dumps(changed).count('"figure"') >= 4  # the charts are updated in place beside it


def _figures(node):  # type: ignore[no-untyped-def]
    if isinstance(node, dict):
        if isinstance(node.get("figure"), dict):
            yield node["figure"]
        for value in node.values():
            yield from _figures(value)
    elif isinstance(node, list):
        for value in node:
            yield from _figures(value)

"""The command line on the app's server: import-csv, batches, rollback, status."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import database_url
from tests.helpers import DUTY_STATIONS, ENTITIES, activity, to_csv


@pytest.fixture
def cli(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    with database_url("sqlite", tmp_path) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
        monkeypatch.setenv("PSEUDONYM_KEY", "cli-test-key")
        from app import server

        runner = server.test_cli_runner()
        assert runner.invoke(args=["init-db"]).exit_code == 0
        for kind, rows in (("entities", ENTITIES), ("duty_stations", DUTY_STATIONS)):
            path = tmp_path / f"{kind}.csv"
            path.write_bytes(to_csv(rows))
            assert runner.invoke(args=["import-csv", kind, str(path)]).exit_code == 0
        yield runner, tmp_path


def test_import_csv_reports_as_json_and_exits_zero(cli):
    runner, folder = cli
    path = folder / "activity.csv"
    path.write_bytes(to_csv([activity(1), activity(2)]))
    result = runner.invoke(args=["import-csv", "learning_activity", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {k: report[k] for k in ("status", "rows_inserted", "rows_replaced", "errors")} == {
        "status": "loaded",
        "rows_inserted": 2,
        "rows_replaced": 0,
        "errors": [],
    }
    again = json.loads(runner.invoke(args=["import-csv", "learning_activity", str(path), "--json"]).output)
    assert (again["status"], again["batch_id"]) == ("duplicate", report["batch_id"])


def test_rejected_import_exits_non_zero_with_a_readable_report(cli):
    runner, folder = cli
    path = folder / "bad.csv"
    path.write_bytes(to_csv([activity(1), activity(2, hours="-2", entity_code="ZZZ")]))
    result = runner.invoke(args=["import-csv", "learning_activity", str(path)])
    assert result.exit_code == 1
    assert "rejected bad.csv: 2 error(s); nothing written" in result.output
    assert "row 3, column entity_code: 'ZZZ' unknown entity code" in result.output
    as_json = runner.invoke(args=["import-csv", "learning_activity", str(path), "--json"])
    assert as_json.exit_code == 1
    assert {(e["row"], e["column"]) for e in json.loads(as_json.output)["errors"]} == {(3, "entity_code"), (3, "hours")}


def test_batches_and_rollback(cli):
    runner, folder = cli
    path = folder / "activity.csv"
    path.write_bytes(to_csv([activity(1)]))
    batch_id = json.loads(runner.invoke(args=["import-csv", "learning_activity", str(path), "--json"]).output)[
        "batch_id"
    ]
    listed = json.loads(runner.invoke(args=["batches", "--json"]).output)
    assert listed[0]["id"] == batch_id and listed[0]["status"] == "loaded"
    assert "uploaded_by" in listed[0]
    rolled = runner.invoke(args=["rollback", str(batch_id)])
    assert rolled.exit_code == 0 and "1 rows removed" in rolled.output
    refused = runner.invoke(args=["rollback", str(batch_id)])
    assert refused.exit_code != 0 and "rolled_back, not loaded" in refused.output
    human = runner.invoke(args=["batches"])
    assert "rolled_back" in human.output


def test_status_says_whether_the_activity_snapshot_is_current_and_imports_keep_it_so(cli):
    runner, folder = cli
    before = json.loads(runner.invoke(args=["status", "--json"]).output)
    assert before["snapshot"]["current"] is True  # importing the duty stations built it
    shutil.rmtree(before["snapshot"]["folder"])
    before = json.loads(runner.invoke(args=["status", "--json"]).output)
    assert before["snapshot"]["current"] is False and before["snapshot"]["building"] is False
    assert "not built yet" in runner.invoke(args=["status"]).output
    path = folder / "activity.csv"
    path.write_bytes(to_csv([activity(1), activity(2)]))
    batch_id = json.loads(runner.invoke(args=["import-csv", "learning_activity", str(path), "--json"]).output)[
        "batch_id"
    ]
    loaded = json.loads(runner.invoke(args=["status", "--json"]).output)["snapshot"]
    assert loaded["current"] is True and loaded["bytes"] > 0 and loaded["built_at"]
    assert loaded["data_version"] != before["snapshot"]["data_version"]
    assert runner.invoke(args=["rollback", str(batch_id)]).exit_code == 0
    rolled = json.loads(runner.invoke(args=["status", "--json"]).output)["snapshot"]
    assert rolled["current"] is True and rolled["file"] != loaded["file"]
    human = runner.invoke(args=["status"]).output
    assert "activity snapshot: current" in human and "CACHE_URL is not set" in human


def test_status_reports_a_cache_that_cannot_be_reached(cli, monkeypatch):
    runner, _ = cli
    monkeypatch.setenv("CACHE_URL", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    result = runner.invoke(args=["status"])
    assert result.exit_code == 0 and "cache: Redis NOT REACHABLE" in result.output

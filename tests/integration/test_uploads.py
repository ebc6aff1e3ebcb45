"""The upload route and its background steps, over HTTP against the real store."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest

from data_access.reads.filters import Filters
from data_access.reads.kpis import headline_kpis
from data_access.store import default_engine
from tests.conftest import BACKENDS, database_url
from tests.helpers import activity, create_user, signed_in, to_csv

ORIGIN = "http://localhost"


@pytest.fixture(scope="module", params=BACKENDS)
def site(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("uploads")
    with database_url(request.param, folder) as url, pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        patch.setenv("INSTANCE_DIR", str(folder))
        from app import server

        runner = server.test_cli_runner()
        assert runner.invoke(args=["load-demo"]).exit_code == 0
        create_user(runner, "hr", role="uploader")
        create_user(runner, "other-hr", role="uploader")
        create_user(runner, "viewer")
        yield server, runner, folder


def new_rows(prefix: str, count: int = 30, **overrides: str) -> list[dict[str, str]]:
    return [
        activity(n, learner_id=f"{prefix}{n:05d}", entity_code="OCHA", duty_station_code="CH-GENEVA", **overrides)
        for n in range(count)
    ]


def upload(client, payload: bytes, name: str, kind: str = "auto") -> dict:  # type: ignore[no-untyped-def, type-arg]
    response = client.post(f"/upload?kind={kind}&name={name}", data=payload, headers={"Origin": ORIGIN})
    assert response.status_code == 200, response.data
    return wait(response.get_json()["job"])


def wait(job_id: str, until: tuple[str, ...] = ("valid", "rejected", "duplicate", "loaded", "failed")) -> dict:  # type: ignore[type-arg]
    from data_access.ingest.jobs import get_job

    for _ in range(600):
        job = get_job(default_engine(), job_id)
        if job and job["status"] in until:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def test_preview_then_commit_changes_the_figures(site):
    server, _, _ = site
    hr = signed_in(server, "hr")
    before = headline_kpis(default_engine(), Filters(entity="OCHA"))["platforms"]["LinkedIn Learning"]["learners"]
    job = upload(hr, to_csv(new_rows("WEB")), "september.csv")
    assert job["kind"] == "learning_activity"  # told from the columns
    assert (job["status"], job["report"]["rows_inserted"], job["report"]["rows_replaced"]) == ("valid", 30, 0)
    assert (
        headline_kpis(default_engine(), Filters(entity="OCHA"))["platforms"]["LinkedIn Learning"]["learners"] == before
    )
    from data_access.users import find_user
    from server.uploads import start_commit

    start_commit(job["id"], find_user(default_engine(), "hr"))
    done = wait(job["id"], ("loaded", "failed"))
    assert done["status"] == "loaded"
    after = headline_kpis(default_engine(), Filters(entity="OCHA"))["platforms"]["LinkedIn Learning"]["learners"]
    assert after == before + 30
    again = upload(hr, to_csv(new_rows("WEB")), "september-again.csv")
    assert again["status"] == "duplicate"


def test_errors_are_listed_nothing_is_written_and_the_bad_rows_download(site):
    server, _, _ = site
    hr = signed_in(server, "hr")
    rows = new_rows("BAD", 4)
    rows[1]["entity_code"] = "ZZZ"
    rows[2]["course_title"] = "=HYPERLINK(1)"
    rows[2]["hours"] = "-3"
    before = headline_kpis(default_engine())
    job = upload(hr, to_csv(rows), "bad.csv", kind="learning_activity")
    assert job["status"] == "rejected"
    assert {(e["row"], e["column"]) for e in job["report"]["errors"]} == {(3, "entity_code"), (4, "hours")}
    assert headline_kpis(default_engine()) == before
    download = hr.get(f"/upload/{job['id']}/errors.csv")
    lines = list(csv.DictReader(io.StringIO(download.data.decode("utf-8-sig"))))
    assert [line["row"] for line in lines] == ["3", "4"]
    assert lines[0]["error"] == "entity_code: unknown entity code: not in the entities reference data"
    assert lines[1]["course_title"] == "'=HYPERLINK(1)"
    assert signed_in(server, "other-hr").get(f"/upload/{job['id']}/errors.csv").status_code == 404


def test_cancel_leaves_nothing_behind(site):
    server, _, folder = site
    from data_access.users import find_user
    from server.uploads import UploadRefused, cancel, job_path

    job = upload(signed_in(server, "hr"), to_csv(new_rows("CAN", 3)), "cancel-me.csv")
    assert job["status"] == "valid" and job_path(job["id"]).exists()
    with pytest.raises(UploadRefused):
        cancel(job["id"], find_user(default_engine(), "other-hr"))
    cancel(job["id"], find_user(default_engine(), "hr"))
    assert not job_path(job["id"]).exists()
    assert wait(job["id"], ("cancelled",))["status"] == "cancelled"


def test_the_browser_route_and_import_csv_give_the_same_result(site):
    server, runner, folder = site
    rows = new_rows("SAME", 5)
    rows[4]["status"] = "teleported"
    payload = to_csv(rows)
    path = folder / "same.csv"
    path.write_bytes(payload)
    cli = json.loads(runner.invoke(args=["import-csv", "learning_activity", str(path), "--json"]).output)
    web = upload(signed_in(server, "hr"), payload, "same.csv", kind="learning_activity")["report"]
    keys = ("status", "rows_read", "error_count", "errors", "warnings")
    assert {k: web[k] for k in keys} == {k: cli[k] for k in keys}


def test_viewers_and_strangers_cannot_upload_or_fetch_templates(site):
    server, _, _ = site
    viewer = signed_in(server, "viewer")
    assert viewer.post("/upload?kind=lna&name=x.csv", data=b"a,b\n", headers={"Origin": ORIGIN}).status_code == 403
    assert viewer.get("/templates/lna.csv").status_code == 403
    from data_access.users import audit_events

    refused = [e for e in audit_events(default_engine(), 10) if e["actor"] == "viewer"]
    assert {e["target"] for e in refused} >= {"POST /upload", "GET /templates/lna.csv"}
    assert {e["outcome"] for e in refused} == {"refused"}
    assert server.test_client().post("/upload", data=b"x", headers={"Origin": ORIGIN}).status_code == 401
    hr = signed_in(server, "hr")
    assert hr.get("/templates/lna.xlsx").status_code == 200
    assert hr.get("/templates/upload_batch.csv").status_code == 404


def test_too_large_is_refused_before_reading(site, monkeypatch):
    server, _, _ = site
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "100")
    hr = signed_in(server, "hr")
    assert hr.post("/upload?name=big.csv", data=b"x" * 1000, headers={"Origin": ORIGIN}).status_code == 413


def test_a_file_of_no_known_kind_is_rejected_with_a_reason(site):
    server, _, _ = site
    job = upload(signed_in(server, "hr"), b"colour,size\nred,3\n", "mystery.csv")
    assert job["status"] == "rejected"
    assert "choose the kind" in job["report"]["errors"][0]["reason"]


def test_the_tracker_names_who_has_not_sent_data(site):
    from data_access.reads.tracker import submission_status
    from tests.helpers import load

    entity = "entity_code,entity_name,pillar,entity_type\nNEWOFF,A new office,Development,Other\n"
    assert load(default_engine(), "entities", entity.encode(), "new-entity.csv").status == "loaded"
    frame, periods = submission_status(default_engine())
    assert periods == {"cycle": "2024", "headcount": "2024-06-30", "activity_since": "2024-06-30"}
    assert len(frame) == 46
    assert frame.iloc[0].to_dict() == {"entity": "NEWOFF", "name": "A new office", "lna": False, "headcount": False,
                                       "platform_data": False, "complete": False}  # fmt: skip
    assert frame.iloc[1:]["complete"].all()


def test_a_step_whose_worker_died_is_reported_as_failed(site, monkeypatch):
    import datetime as dt

    from data_access.ingest.jobs import new_job, set_job
    from data_access.users import find_user
    from server import uploads

    job_id = new_job(default_engine(), "hr", "learning_activity", "lost.csv", 10)
    set_job(default_engine(), job_id, status="validating")
    waiting = new_job(default_engine(), "hr", "learning_activity", "unclaimed.csv", 10)  # queued, no worker running
    assert uploads.owned_job(job_id, find_user(default_engine(), "hr"))["status"] == "validating"
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=uploads.STALL_SECONDS + 60)
    monkeypatch.setattr(
        uploads.dt, "datetime", type("Later", (dt.datetime,), {"now": staticmethod(lambda tz=None: later)})
    )
    assert uploads.owned_job(job_id, find_user(default_engine(), "hr"))["status"] == "failed"
    failed = uploads.owned_job(waiting, find_user(default_engine(), "hr"))
    assert (failed["status"], failed["report"]["failure"]) == ("failed", "no upload worker took it")


def test_queued_steps_wait_for_a_background_worker(site, monkeypatch):
    from data_access.ingest.jobs import get_job
    from data_access.users import find_user
    from server.uploads import start_commit

    server, runner, _ = site
    monkeypatch.setenv("UPLOAD_WORKERS", "queue")
    hr = signed_in(server, "hr")
    response = hr.post("/upload?kind=auto&name=queued.csv", data=to_csv(new_rows("QUE")), headers={"Origin": ORIGIN})
    job_id = response.get_json()["job"]
    time.sleep(0.3)
    assert get_job(default_engine(), job_id)["status"] == "received"  # nobody ran it
    ran = runner.invoke(args=["run-jobs", "--once"])
    assert ran.exit_code == 0 and "ran 1 upload step" in ran.output
    assert get_job(default_engine(), job_id)["status"] == "valid"
    start_commit(job_id, find_user(default_engine(), "hr"))
    assert get_job(default_engine(), job_id)["status"] == "committing"
    assert "ran 1 upload step" in runner.invoke(args=["run-jobs", "--once"]).output
    done = get_job(default_engine(), job_id)
    assert (done["status"], done["report"]["rows_inserted"], done["claimed_by"]) == ("loaded", 30, None)
    assert "ran 0 upload step" in runner.invoke(args=["run-jobs", "--once"]).output


def test_two_workers_never_claim_the_same_step(site):
    from concurrent.futures import ThreadPoolExecutor

    from data_access.ingest.jobs import claim_job, new_job

    job_id = new_job(default_engine(), "hr", "learning_activity", "race.csv", 10)
    with ThreadPoolExecutor(max_workers=8) as pool:
        claims = list(pool.map(lambda n: claim_job(default_engine(), f"w{n}", job_id), range(8)))
    winners = [claim for claim in claims if claim is not None]
    assert len(winners) == 1 and winners[0]["claimed_by"].startswith("w")


def test_a_rejected_upload_keeps_no_raw_id_and_numbers_rows_as_the_file_does(site):
    server, _, folder = site
    from server.uploads import errors_path, job_path

    hr = signed_in(server, "hr")
    rows = new_rows("RAWID", 6)
    rows[4]["hours"] = "-1"  # a plain error on the file's row 6, after the malformed row below
    text = to_csv(rows).decode().splitlines()
    text[2] = text[2] + ",an extra field"  # the file's row 3: one field too many, with a learner id in it
    job = upload(hr, ("\n".join(text) + "\n").encode(), "malformed.csv", kind="learning_activity")
    assert job["status"] == "rejected"
    errors = {(e["row"], e["column"]): e["value"] for e in job["report"]["errors"]}
    assert set(errors) == {(3, ""), (6, "hours")}  # row 6 stays row 6 after the skipped row
    assert errors[(3, "")] == "(hidden)"
    assert "RAWID" not in json.dumps(job["report"])
    for _ in range(100):  # the step's end writes the rows' report, then deletes the upload
        if errors_path(job["id"]).exists() and not job_path(job["id"]).exists():
            break
        time.sleep(0.05)
    assert not job_path(job["id"]).exists()
    assert errors_path(job["id"]).stat().st_mode & 0o777 == 0o600
    download = hr.get(f"/upload/{job['id']}/errors.csv").data.decode("utf-8-sig")
    assert "RAWID" not in download
    lines = list(csv.DictReader(io.StringIO(download)))
    assert {line["row"]: line["learner_id"] for line in lines} == {"3": "(hidden)", "6": "(hidden)"}


def test_uploads_and_the_store_are_readable_by_this_account_only(site):
    server, _, folder = site
    from server.uploads import job_path

    job = upload(signed_in(server, "hr"), to_csv(new_rows("MODE", 3)), "mode.csv")
    assert job["status"] == "valid"
    assert job_path(job["id"]).stat().st_mode & 0o777 == 0o600
    assert job_path(job["id"]).parent.stat().st_mode & 0o777 == 0o700
    for name in ("secret.key", "pseudonym.key", "test.db"):
        if (folder / name).exists():
            assert (folder / name).stat().st_mode & 0o777 == 0o600, name


def _commit(job: dict, username: str) -> dict:  # type: ignore[type-arg]
    from data_access.users import find_user
    from server.uploads import start_commit

    start_commit(job["id"], find_user(default_engine(), username))
    return wait(job["id"], ("loaded", "rejected", "failed"))


def _lna(entity: str, need: str = "Innovation") -> dict[str, str]:
    return {"cycle": "2026", "entity_code": entity, "duty_station_code": "", "report_type": "Staff survey",
            "learning_need": need, "priority": "high", "staff_category": "", "gender": "",
            "respondents": "7"}  # fmt: skip


def test_an_uploader_limited_to_some_entities_writes_only_theirs(site):
    server, runner, _ = site
    create_user(runner, "ocha-hr", role="uploader", entities="OCHA")
    ocha = signed_in(server, "ocha-hr")
    # Rows of another entity: each one named.
    mixed = upload(ocha, to_csv([_lna("OCHA"), _lna("DSS"), _lna("DPO", "Data and analytics")]), "mixed.csv", "lna")
    assert mixed["status"] == "rejected"
    assert {(e["row"], e["column"], e["value"]) for e in mixed["report"]["errors"]} == {
        (3, "entity_code", "DSS"),
        (4, "entity_code", "DPO"),
    }
    # Reference data every entity shares.
    stations = "duty_station_code,duty_station_name,country_iso3,is_headquarters\nXX-NEW,New,KEN,false\n"
    shared = upload(ocha, stations.encode(), "stations.csv", "duty_stations")
    assert shared["status"] == "rejected" and "shared by every entity" in shared["report"]["errors"][0]["reason"]
    # A row of theirs whose key is another entity's row (an activity's key holds no entity).
    hr = signed_in(server, "hr")
    theirs = new_rows("KEYED", 2)
    for row in theirs:
        row["entity_code"] = "DPO"
    assert _commit(upload(hr, to_csv(theirs), "dpo.csv"), "hr")["status"] == "loaded"
    for row in theirs:
        row["entity_code"] = "OCHA"
    taken = upload(ocha, to_csv(theirs), "taken.csv")
    assert taken["status"] == "rejected"
    assert "would replace rows of entities other than yours" in taken["report"]["errors"][0]["reason"]
    # Their own rows load.
    own = upload(ocha, to_csv([_lna("OCHA"), _lna("OCHA", "Data and analytics")]), "own.csv", "lna")
    assert own["status"] == "valid" and _commit(own, "ocha-hr")["status"] == "loaded"


def test_a_limited_uploader_sees_and_rolls_back_only_their_entities_batches(site):
    from data_access.batches import RollbackError, list_batches, rollback_batch
    from data_access.reads.tracker import submission_status

    server, runner, _ = site
    create_user(runner, "osaa-hr", role="uploader", entities="OSAA")
    others = _commit(upload(signed_in(server, "hr"), to_csv([_lna("DMSPC", "Innovation")]), "dmspc.csv", "lna"), "hr")
    mine = _commit(upload(signed_in(server, "osaa-hr"), to_csv([_lna("OSAA")]), "osaa.csv", "lna"), "osaa-hr")
    assert others["status"] == mine["status"] == "loaded"
    engine, scope = default_engine(), ("OSAA",)
    seen = set(list_batches(engine, entities=scope, uploader="osaa-hr")["id"])
    assert mine["report"]["batch_id"] in seen and others["report"]["batch_id"] not in seen
    assert others["report"]["batch_id"] in set(list_batches(engine)["id"])
    with pytest.raises(RollbackError, match="other than yours"):
        rollback_batch(engine, others["report"]["batch_id"], rolled_back_by="osaa-hr", entities=scope)
    assert (
        rollback_batch(engine, mine["report"]["batch_id"], rolled_back_by="osaa-hr", entities=scope).rows_removed == 1
    )
    tracker, _ = submission_status(engine, scope)
    assert tracker["entity"].tolist() == ["OSAA"]

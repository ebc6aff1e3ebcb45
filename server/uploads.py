"""Uploads from the browser: a streaming route (no base64 through a callback), background steps, templates.

``POST /upload?kind=K&name=F`` streams the body to the instance folder in blocks and starts a
preview (a dry run of the shared ``ingest``); the page polls the job; commit and cancel are
explicit steps. Only uploaders and admins get here, checked on every route.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, jsonify, request

import settings
from data_access.contract import KINDS
from data_access.ingest.jobs import (
    bad_rows_csv,
    claim_job,
    get_job,
    new_job,
    release_job,
    run_step,
    set_job,
    suggest_kind,
)
from data_access.reads.views import warm_views
from data_access.store import default_cache, default_engine
from data_access.templates import template_csv, template_xlsx
from data_access.users import SignedInUser, audit, audit_upload
from server.auth import require

BLOCK = 1 << 20
#: An upload waiting for its commit longer than this is deleted (it holds raw ids); the rejected rows'
#: report (ids hidden) is kept a day.
ABANDONED_SECONDS = 3600
STALE_SECONDS = 24 * 3600
#: A running step that has shown no progress for this long has lost its worker.
STALL_SECONDS = 600
log = logging.getLogger(__name__)


class UploadRefused(Exception):
    """A commit or cancel that the job's state or owner does not allow."""


def upload_folder() -> Path:
    folder = settings.instance_dir() / "uploads"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def job_path(job_id: str) -> Path:
    return upload_folder() / f"{job_id}.upload"


def errors_path(job_id: str) -> Path:
    """The rejected rows of an upload, with ids hidden: kept for the report's download once the upload is gone."""
    return upload_folder() / f"{job_id}.errors.csv"


def private_file(path: Path) -> Any:
    """``path`` opened for writing, readable by this account only (0600)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")


def progress_path(job_id: str) -> Path:
    return upload_folder() / f"{job_id}.progress"


def record_progress(job_id: str) -> Callable[[int], None]:
    """Rows read so far go to a small file next to the upload (never to the store, whose write lock the step holds)."""
    target = progress_path(job_id)

    def write(rows: int) -> None:
        temporary = target.with_suffix(".tmp")
        temporary.write_text(str(rows))
        temporary.replace(target)

    return write


def owned_job(job_id: str, user: SignedInUser) -> dict[str, Any]:
    """The job, when it exists and the user may act on it (its uploader, or an admin), with its progress."""
    job = get_job(default_engine(), job_id) if job_id.isalnum() and len(job_id) == 32 else None
    if job is None or (job["username"] != user.username and not user.can("admin")):
        raise UploadRefused("no such upload")
    if job["status"] in ("received", "validating", "committing"):
        with contextlib.suppress(OSError, ValueError):
            job["rows_done"] = int(progress_path(job_id).read_text() or 0)
        if _interrupted(job):
            failure = "interrupted" if job["claimed_at"] else "no upload worker took it"
            job.update(status="failed", report={"errors": [], "failure": failure})
            set_job(default_engine(), job_id, status=job["status"], report=job["report"])
    return job


def _interrupted(job: dict[str, Any]) -> bool:
    """A step with no sign of life for STALL_SECONDS: its worker stopped (a restart, a crash); nothing was kept."""
    last = job["updated_at"] if job["updated_at"].tzinfo else job["updated_at"].replace(tzinfo=dt.UTC)
    with contextlib.suppress(OSError):
        last = max(last, dt.datetime.fromtimestamp(progress_path(job["id"]).stat().st_mtime, dt.UTC))
    return (dt.datetime.now(dt.UTC) - last).total_seconds() > STALL_SECONDS


def _in_background(job_id: str) -> None:
    """Hand the job's waiting step to a worker: a thread here, or (UPLOAD_WORKERS=queue) ``flask run-jobs``."""
    if settings.get("UPLOAD_WORKERS") == "queue":
        return
    job = claim_job(default_engine(), f"thread:{socket.gethostname()}:{os.getpid()}", job_id)
    if job is not None:
        threading.Thread(target=run_claimed, args=(job,), name=f"upload-{job_id[:8]}", daemon=True).start()


def run_claimed(job: dict[str, Any]) -> None:
    """Run a claimed job's step (preview, or commit when it is committing), then let it go."""
    try:
        run_step(
            default_engine(),
            job["id"],
            job_path(job["id"]),
            commit=job["status"] == "committing",
            pseudonym_key=settings.pseudonym_key(),
            max_errors=settings.get_int("MAX_REPORTED_ERRORS"),
            progress=record_progress(job["id"]),
        )
    except Exception:
        log.exception("upload job %s failed", job["id"])
    release_job(default_engine(), job["id"], job["claimed_by"])
    finish(job["id"])


def run_jobs(*, once: bool = False, poll_seconds: float = 1.0) -> int:
    """A background worker: claim and run waiting upload steps, oldest first; with ``once``, stop when none waits.

    Returns how many steps it ran. Any number of these may run, on any machine that shares the
    store and the instance folder.
    """
    worker = f"worker:{socket.gethostname()}:{os.getpid()}"
    ran = 0
    while True:
        job = claim_job(default_engine(), worker)
        if job is None:
            if once:
                return ran
            time.sleep(poll_seconds)
            continue
        run_claimed(job)
        ran += 1


def finish(job_id: str) -> None:
    """Audit a finished step and drop the stored file once nothing more can be done with it."""
    job = get_job(default_engine(), job_id)
    if job is None:
        return
    if job["status"] in ("loaded", "rejected", "duplicate", "failed"):
        audit_upload(
            default_engine(), job["username"], job["kind"], job["file_name"], job["status"], job["report"] or {}
        )
    progress_path(job_id).unlink(missing_ok=True)
    if job["status"] == "rejected" and job_path(job_id).exists():
        errors = (job["report"] or {}).get("errors", [])
        written = errors_path(job_id).with_suffix(".tmp")
        with private_file(written) as handle:
            handle.write(bad_rows_csv(job_path(job_id), job["kind"], job["file_name"], errors))
        written.replace(errors_path(job_id))
    if job["status"] in ("loaded", "duplicate", "rejected", "failed"):
        job_path(job_id).unlink(missing_ok=True)  # the upload is kept only while it can still be committed
    if job["status"] == "loaded":
        warm_cache()


def warm_cache() -> None:
    """After a commit or rollback: bring the activity snapshot and the unfiltered figures current now,
    not when the next person opens a page."""
    try:
        warm_views(default_engine(), default_cache(settings.get("CACHE_URL")), settings.get_int("MIN_CELL_SIZE"))
    except Exception:  # only a slower first page, never a failed upload
        log.exception("warming the cache failed")


def warm_cache_in_background() -> None:
    threading.Thread(target=warm_cache, name="warm-cache", daemon=True).start()


def start_commit(job_id: str, user: SignedInUser) -> None:
    job = owned_job(job_id, user)
    if job["status"] != "valid":
        raise UploadRefused(f"this upload is {job['status']}, not ready to commit")
    if not job_path(job_id).exists():
        raise UploadRefused("this upload waited more than an hour and was deleted: upload the file again")
    set_job(default_engine(), job_id, status="committing", rows_done=0)
    _in_background(job_id)


def cancel(job_id: str, user: SignedInUser) -> None:
    job = owned_job(job_id, user)
    if job["status"] in ("committing", "loaded"):
        raise UploadRefused(f"this upload is {job['status']}; roll it back from the history instead")
    set_job(default_engine(), job_id, status="cancelled")
    job_path(job_id).unlink(missing_ok=True)
    audit(default_engine(), user.username, "upload", f"{job['kind']}: {job['file_name']}", "cancelled")


def _sweep_stale_files() -> None:
    now = time.time()
    for pattern, seconds in (("*.upload", ABANDONED_SECONDS), ("*.errors.csv", STALE_SECONDS)):
        for path in upload_folder().glob(pattern):
            if path.stat().st_mtime < now - seconds:
                path.unlink(missing_ok=True)


def receive(user: SignedInUser, kind: str, file_name: str, stream: Any, length: int) -> str:
    """Store the body in blocks, then start the preview; the job id."""
    _sweep_stale_files()
    engine = default_engine()
    job_id = new_job(engine, user.username, kind if kind in KINDS else "", file_name, length)
    path = job_path(job_id)
    written = 0
    with private_file(path) as handle:
        while block := stream.read(BLOCK):
            written += len(block)
            if written > settings.get_int("MAX_UPLOAD_BYTES"):
                handle.close()
                path.unlink(missing_ok=True)
                set_job(engine, job_id, status="failed", report={"errors": [], "failure": "too large"})
                abort(413)
            handle.write(block)
    if kind not in KINDS:
        kind = suggest_kind(path, file_name) or ""
        if not kind:
            reason = "the columns do not match any kind: choose the kind and upload again"
            report = {"status": "rejected", "errors": [{"row": 1, "column": "", "value": "", "reason": reason}]}
            set_job(engine, job_id, status="rejected", report=report)
            audit(engine, user.username, "upload", f"?: {file_name}", "rejected", reason)
            return job_id
        set_job(engine, job_id, kind=kind)
    set_job(engine, job_id, size_bytes=written)
    _in_background(job_id)
    return job_id


def register_uploads(server: Flask) -> None:
    @server.post("/upload")
    def upload() -> Any:
        user = require("uploader")
        length = request.content_length
        if length is not None and length > settings.get_int("MAX_UPLOAD_BYTES"):
            audit(default_engine(), user.username, "upload", request.args.get("name", "")[:200], "refused", "too large")
            abort(413)
        name = (request.args.get("name") or "upload").replace("\\", "/").rsplit("/", 1)[-1][:255] or "upload"
        job_id = receive(user, request.args.get("kind", ""), name, request.stream, length or 0)
        return jsonify(job=job_id)

    @server.get("/upload/<job_id>/errors.csv")
    def upload_errors(job_id: str) -> Response:
        user = require("uploader")
        try:
            job = owned_job(job_id, user)
        except UploadRefused:
            abort(404)
        kept = errors_path(job_id)
        if kept.exists():
            body = kept.read_bytes()
        elif job_path(job_id).exists():
            errors = (job["report"] or {}).get("errors", [])
            body = bad_rows_csv(job_path(job_id), job["kind"], job["file_name"], errors)
        else:
            abort(410)
        return Response(
            body,
            mimetype="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="rows-with-errors.csv"'},
        )

    @server.get("/templates/<kind>.<fmt>")
    def template(kind: str, fmt: str) -> Response:
        require("uploader")
        if kind not in KINDS or fmt not in ("csv", "xlsx"):
            abort(404)
        if fmt == "csv":
            body, mimetype = template_csv(kind), "text/csv; charset=utf-8"
        else:
            body, mimetype = template_xlsx(kind), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(
            body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{kind}.{fmt}"'}
        )

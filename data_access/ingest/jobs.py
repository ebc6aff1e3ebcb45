"""Uploads from the browser: a stored file goes through a preview (dry run), then a commit.

Each step runs in the background and writes its progress and report to ``upload_job``, so
the page can poll it from any worker. The file itself lives in the instance folder until the
job is committed or cancelled. A step waiting to run (``WAITING``) is claimed by exactly one
worker: a thread of the web process, or a ``flask run-jobs`` process.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, update

from data_access.contract import KINDS
from data_access.engine import write_transaction
from data_access.ingest.load import IngestResult, ingest
from data_access.ingest.read import ROW, UploadFormatError, open_table, opener_for
from data_access.ingest.spreadsheet import neutralise
from data_access.ingest.validate import HIDDEN, header_name
from data_access.schema import UploadJob
from data_access.users import find_user


def new_job(engine: Engine, username: str, kind: str, file_name: str, size_bytes: int) -> str:
    job_id = secrets.token_hex(16)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(UploadJob).values(
                id=job_id,
                username=username,
                kind=kind,
                file_name=file_name[:255],
                size_bytes=size_bytes,
                status="received",
                rows_done=0,
                report=None,
                created_at=now,
                updated_at=now,
            )
        )
    return job_id


def get_job(engine: Engine, job_id: str) -> dict[str, Any] | None:
    """The job as a dict (``report`` parsed), or None."""
    columns = [c for c in UploadJob.__table__.columns]  # type: ignore[attr-defined]
    with engine.connect() as conn:
        row = conn.execute(select(*columns).where(UploadJob.id == job_id)).mappings().first()
    if row is None:
        return None
    job = dict(row)
    job["report"] = json.loads(job["report"]) if job["report"] else None
    return job


def set_job(engine: Engine, job_id: str, **values: Any) -> None:
    if "report" in values and values["report"] is not None:
        values["report"] = json.dumps(values["report"])
    with engine.begin() as conn:
        conn.execute(
            update(UploadJob).where(UploadJob.id == job_id).values(updated_at=dt.datetime.now(dt.UTC), **values)
        )


#: Statuses of a job whose next step waits for a worker: the preview, or the commit.
WAITING = ("received", "committing")


def claim_job(engine: Engine, worker: str, job_id: str | None = None) -> dict[str, Any] | None:
    """Take the oldest job waiting for a step (or only ``job_id``) so that no other worker runs it.

    Claims go through the store's write lock, so two workers never take the same job.
    Returns the claimed job, or None when nothing waits.
    """
    with write_transaction(engine) as conn:
        waiting = select(UploadJob.id).where(UploadJob.status.in_(WAITING), UploadJob.claimed_at.is_(None))
        if job_id is not None:
            waiting = waiting.where(UploadJob.id == job_id)
        found = conn.execute(waiting.order_by(UploadJob.created_at).limit(1)).scalar()
        if found is None:
            return None
        now = dt.datetime.now(dt.UTC)
        conn.execute(
            update(UploadJob)
            .where(UploadJob.id == found)
            .values(claimed_by=worker[:120], claimed_at=now, updated_at=now)
        )
    return get_job(engine, found)


def release_job(engine: Engine, job_id: str, worker: str) -> None:
    """``worker``'s step is over: the job may wait for its next step (a claim another worker holds since stays)."""
    with write_transaction(engine) as conn:
        conn.execute(
            update(UploadJob)
            .where(UploadJob.id == job_id, UploadJob.claimed_by == worker[:120])
            .values(claimed_by=None, claimed_at=None)
        )


def suggest_kind(path: Path, file_name: str) -> str | None:
    """The kind whose required columns the file's header holds, with the most columns in common."""
    try:
        header = {header_name(h) for h in open_table(opener_for(path), file_name, "").header}
    except UploadFormatError:
        return None
    best, best_overlap = None, 0
    for name, kind in KINDS.items():
        required = {c.name for c in kind.columns if c.required}
        overlap = len(header & set(kind.column_names))
        if required <= header and overlap > best_overlap:
            best, best_overlap = name, overlap
    return best


def run_step(
    engine: Engine,
    job_id: str,
    path: Path,
    *,
    commit: bool,
    pseudonym_key: bytes,
    max_errors: int,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Preview (``commit`` False) or load the job's file; the job's status and report are kept current.

    ``progress`` receives the rows read so far. It must not write to the store: on SQLite the
    step holds the database's write lock until it ends.
    """
    job = get_job(engine, job_id)
    if job is None:
        return
    owner = find_user(engine, job["username"])  # as the account is now: it may have changed since the upload
    if owner is None or not owner.can("uploader"):
        failure = {"errors": [], "failure": "the uploader may no longer upload"}
        set_job(engine, job_id, status="failed", report=failure, claimed_by=None, claimed_at=None)
        return
    set_job(engine, job_id, status="committing" if commit else "validating", rows_done=0)
    try:
        result: IngestResult = ingest(
            engine,
            job["kind"],
            path,
            job["file_name"],
            pseudonym_key=pseudonym_key,
            uploaded_by=job["username"],
            max_errors=max_errors,
            dry_run=not commit,
            progress=progress,
            entities=owner.entities,
        )
    except Exception as exc:  # the job must end in a state the page can show, whatever happened
        failure = {"errors": [], "failure": type(exc).__name__}
        set_job(engine, job_id, status="failed", report=failure, claimed_by=None, claimed_at=None)
        raise
    # Released with the new status, in one write: a commit asked for the moment the preview shows must
    # find the job free.
    report = result.as_dict()
    set_job(
        engine,
        job_id,
        status=result.status,
        rows_done=result.rows_read,
        report=report,
        claimed_by=None,
        claimed_at=None,
    )


def bad_rows_csv(path: Path, kind: str, file_name: str, errors: list[dict[str, Any]]) -> bytes:
    """The rows the report names, as they were uploaded, with an ``error`` column (formulas neutralised;
    learner and participant ids shown as ``(hidden)``: they are never kept)."""
    reasons: dict[int | None, list[str]] = {}
    for error in errors:
        where = f"{error['column']}: " if error.get("column") else ""
        reasons.setdefault(error.get("row"), []).append(f"{where}{error['reason']}")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    try:
        table = open_table(opener_for(path), file_name, kind)
    except UploadFormatError as exc:
        writer.writerows([["error"], [str(exc)]])
        return buffer.getvalue().encode("utf-8-sig")
    ids = {column.name for column in KINDS[kind].columns if column.pseudonymise} if kind in KINDS else set()
    hidden = [header_name(name) in ids for name in table.header]
    writer.writerow(["row", *table.header, "error"])
    for reason in reasons.get(None, []):
        writer.writerow(["", *[""] * len(table.header), reason])
    wanted = {row for row in reasons if row is not None}
    for chunk in table.chunks():
        for record in chunk[chunk[ROW].isin(wanted)].itertuples(index=False):
            values = list(record)
            row = int(values[chunk.columns.get_loc(ROW)])
            cells = [values[chunk.columns.get_loc(h)] if h in chunk.columns else "" for h in table.header]
            cells = [HIDDEN if secret else cell for cell, secret in zip(cells, hidden, strict=True)]
            writer.writerow([row, *(neutralise(c) for c in cells), neutralise("; ".join(reasons[row]))])
    return buffer.getvalue().encode("utf-8-sig")

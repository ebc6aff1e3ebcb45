"""A columnar copy of the activity table, one file per data version, that the activity queries read.

Distinct learners over millions of activity rows is the one question where a row store makes people
wait. DuckDB answers it by scanning the columns it needs, so its speed does not depend on how often a
learner's entity, duty station, category or gender change between rows. Each data version of the
activity and duty-station tables gets its own file, written once under a new name and never changed:
a commit or rollback writes a new file and every process moves to it when it sees the new version,
while a request already reading the old one finishes undisturbed. Files are built by one process at a
time (a lock file) and read by every worker in read-only mode; the operating system's page cache
holds one copy for all of them. Until a version's file exists, the queries run on the store by SQL,
giving the same answers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
from sqlalchemy import Connection, Engine, Select, and_, create_engine, false, func, or_, select

from data_access.engine import arrow_batches
from data_access.reads.cache import data_versions
from data_access.schema import DutyStation, LearningActivity, UploadBatch, UploadBatchMonth

log = logging.getLogger(__name__)

#: The upload kinds a snapshot copies.
SNAPSHOT_READS = ("learning_activity", "duty_stations")
BUILD_THREAD = "activity-snapshot"
FORMAT = 1  # in every file's name: a release that changes what a snapshot holds never opens an older file
KEEP_FILES = 2  # the current version and the one before, which a request may still be reading
MEMORY_LIMIT = "1GB"  # per process: DuckDB's buffers and working memory (the file is in the page cache)
#: A build sorts millions of rows: past this much memory DuckDB spills to a temporary folder beside the file.
BUILD_CONFIG = {"memory_limit": "256MB"}

A = LearningActivity
#: What the activity queries read, as the snapshot's columns.
TEXT, DATE = pa.string(), pa.date32()
ACTIVITY_COLUMNS = pa.schema(
    {"entity_code": TEXT, "duty_station_code": TEXT, "enrolled_on": DATE, "platform": TEXT, "learner_id": TEXT,
     "staff_category": TEXT, "gender": TEXT, "status": TEXT, "completed_on": DATE, "learning_need": TEXT}
)  # fmt: skip
STATION_COLUMNS = pa.schema({"duty_station_code": TEXT, "is_headquarters": pa.bool_()})


def snapshot_folder(engine: Engine, instance_dir: Path) -> Path:
    """Where ``engine``'s snapshots live: beside an SQLite file, else in ``instance_dir``, a folder per store."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(f"{url.database}.snapshots")
    store = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    return instance_dir / "snapshots" / store


def wait_for_builds(timeout: float = 60.0) -> None:
    """Wait for this process's background builds to end (before dropping a database, say)."""
    for thread in threading.enumerate():
        if thread.name == BUILD_THREAD:
            thread.join(timeout)


class Snapshots:
    """One process's view of the snapshot files in ``folder`` for the store behind ``engine``."""

    def __init__(self, engine: Engine, folder: Path) -> None:
        self.engine = engine
        self.folder = folder
        self.opened: dict[str, Engine] = {}  # version -> read-only engine, the latest KEEP_FILES
        self.names: dict[str, str] = {}
        self.lock = threading.Lock()

    def path(self, version: str) -> Path:
        """``version``'s file. Its name also holds when the newest batch was uploaded, so a store that
        was dropped and created again, whose batch ids start over, never meets an old file; and the
        snapshot format."""
        name = self.names.get(version)
        if name is None:
            newest = select(func.max(UploadBatch.uploaded_at)).where(UploadBatch.kind.in_(SNAPSHOT_READS))
            with self.engine.connect() as conn:
                stamp = conn.execute(newest).scalar()
            key = f"{FORMAT}|{version}|{stamp}"
            name = f"activity-{hashlib.sha256(key.encode()).hexdigest()[:24]}.duckdb"
            self.names = {**dict(list(self.names.items())[-KEEP_FILES:]), version: name}
        return self.folder / name

    def get(self, version: str) -> Engine | None:
        """A read-only engine on ``version``'s snapshot, or None (use SQL) while it is being built.

        Never waits: a missing file is built by a background thread of this process, unless another
        process is already building it.
        """
        with self.lock:
            found = self.opened.get(version)
            if found is not None:
                return found
            if not self.path(version).exists():
                if not any(t.name == BUILD_THREAD for t in threading.enumerate()):
                    threading.Thread(target=self.build, args=(version,), name=BUILD_THREAD, daemon=True).start()
                return None
            return self._open(version)

    def build(self, version: str) -> Path | None:
        """Write ``version``'s snapshot unless it exists; None when the data changed while it was read
        (the file would not be that version's) or the build failed (pages use SQL meanwhile)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path(version)
        try:
            with _exclusive(self.folder / "build.lock"):
                if target.exists():
                    return target
                partial = target.with_suffix(f".{os.getpid()}.partial")
                if not self._updated(partial, version):
                    partial.unlink(missing_ok=True)
                    write_snapshot(self.engine, partial, version)
                if data_versions(self.engine).of(SNAPSHOT_READS) != version:
                    partial.unlink()
                    return None
                partial.chmod(0o600)
                os.replace(partial, target)
                _remove_old(self.folder, keep=target)
                return target
        except Exception:
            log.exception("building the activity snapshot failed; pages read the store by SQL meanwhile")
            return None

    def status(self, version: str) -> dict[str, Any]:
        """What an operator asks: is the snapshot of ``version`` there, how big, when built, is one building."""
        target = self.path(version)
        files = sorted(self.folder.glob("activity-*.duckdb"))
        building = False
        if self.folder.exists():
            with (self.folder / "build.lock").open("a") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    fcntl.flock(handle, fcntl.LOCK_UN)
                except BlockingIOError:
                    building = True
        found = target.exists()
        built = dt.datetime.fromtimestamp(target.stat().st_mtime, dt.UTC) if found else None
        return {
            "folder": str(self.folder),
            "data_version": version,
            "current": found,
            "file": target.name if found else None,
            "bytes": target.stat().st_size if found else None,
            "built_at": built.isoformat(timespec="seconds") if built else None,
            "building": building,
            "files": len(files),
        }

    def _updated(self, partial: Path, version: str) -> bool:
        """Whether a copy of the newest snapshot could be brought to ``version`` at ``partial``."""
        files = sorted(self.folder.glob("activity-*.duckdb"), key=lambda p: p.stat().st_mtime)
        if not files:
            return False
        shutil.copyfile(files[-1], partial)
        return update_snapshot(self.engine, partial, version)

    def _open(self, version: str) -> Engine:
        engine = create_engine(
            f"duckdb:///{self.path(version)}",
            connect_args={"read_only": True, "config": {"memory_limit": MEMORY_LIMIT}},
        )
        self.opened[version] = engine
        for old in list(self.opened)[:-KEEP_FILES]:
            self.opened.pop(old).dispose()
        return engine

    def close(self) -> None:
        with self.lock:
            for engine in self.opened.values():
                engine.dispose()
            self.opened.clear()


def write_snapshot(engine: Engine, path: Path, version: str) -> None:
    """Copy what the activity queries read into a new DuckDB file at ``path``: activity rows (each
    learner's pseudonym numbered), the duty stations, and the data version it holds."""
    with contextlib.closing(duckdb.connect(str(path), config=BUILD_CONFIG)) as db, engine.connect() as conn:
        _stage(db, conn, "staged", select(*(getattr(A, name) for name in ACTIVITY_COLUMNS.names)))
        db.execute(
            "CREATE TABLE learners AS SELECT learner_id, (row_number() OVER (ORDER BY learner_id))::INTEGER "
            "AS number FROM (SELECT DISTINCT learner_id FROM staged)"
        )
        # Sorted so that a filter on entity or duty station skips the blocks it does not need.
        db.sql(NUMBERED).order("entity_code, duty_station_code, enrolled_on").create("learning_activity")
        _finish(db, conn, version)


def update_snapshot(engine: Engine, path: Path, version: str) -> bool:
    """Bring the snapshot copied to ``path`` to ``version`` by reading again only the months that the
    activity batches loaded since touched. False when that cannot be done (a rollback since, or a batch
    loaded before its months were recorded): a full build is needed."""
    with contextlib.closing(duckdb.connect(str(path), config=BUILD_CONFIG)) as db, engine.connect() as conn:
        (before,) = db.execute("SELECT version FROM meta").fetchall()[0]
        old, new = _activity_version(before), _activity_version(version)
        if old[1] != new[1] or new[0] < old[0]:
            return False
        added = select(UploadBatch.id).where(
            UploadBatch.kind == "learning_activity",
            UploadBatch.status == "loaded",
            UploadBatch.id > old[0],
            UploadBatch.id <= new[0],
        )
        batches = set(conn.execute(added).scalars())
        recorded = conn.execute(
            select(UploadBatchMonth.batch_id, UploadBatchMonth.month).where(UploadBatchMonth.batch_id.in_(batches))
        ).all()
        if {batch for batch, _ in recorded} != batches:
            return False
        # A batch writes rows of its own months only, and a replaced row keeps its date (part of the key):
        # everything it changed lies in those months of enrolment.
        months = sorted({month for _, month in recorded})
        spans = [(month, (pd.Timestamp(month) + pd.offsets.MonthBegin(1)).date()) for month in months]
        for first, after in spans:
            db.execute("DELETE FROM learning_activity WHERE enrolled_on >= ? AND enrolled_on < ?", [first, after])
        within = or_(false(), *(and_(A.enrolled_on >= first, A.enrolled_on < after) for first, after in spans))
        _stage(db, conn, "staged", select(*(getattr(A, name) for name in ACTIVITY_COLUMNS.names)).where(within))
        db.execute(
            "INSERT INTO learners SELECT learner_id, (SELECT coalesce(max(number), 0) FROM learners) "
            "+ (row_number() OVER (ORDER BY learner_id))::INTEGER FROM "
            "(SELECT DISTINCT learner_id FROM staged EXCEPT SELECT learner_id FROM learners)"
        )
        db.sql(NUMBERED).insert_into("learning_activity")
        db.execute("DROP TABLE duty_stations")
        db.execute("DROP TABLE meta")
        _finish(db, conn, version)
        return True


#: The staged activity rows with each pseudonym replaced by its number: learners are only ever
#: counted, and distinct counts of integers take about a third less time than of text.
NUMBERED = "SELECT s.* REPLACE (l.number AS learner_id) FROM staged s JOIN learners l ON l.learner_id = s.learner_id"


def _stage(db: duckdb.DuckDBPyConnection, conn: Connection, table: str, query: Select[Any]) -> None:
    """The rows of ``query`` in a new ``table``, its columns those of ``ACTIVITY_COLUMNS`` or, for the
    duty stations, ``STATION_COLUMNS``."""
    schema = STATION_COLUMNS if table == "duty_stations" else ACTIVITY_COLUMNS
    db.from_arrow(schema.empty_table()).create(table)
    for batch in arrow_batches(conn, query, 250_000):
        rows = pa.Table.from_batches([batch]).rename_columns(schema.names).cast(schema)
        db.from_arrow(rows).insert_into(table)


def _finish(db: duckdb.DuckDBPyConnection, conn: Connection, version: str) -> None:
    """Copy the duty stations, record ``version`` and drop what was staged."""
    _stage(db, conn, "duty_stations", select(*(getattr(DutyStation, n) for n in STATION_COLUMNS.names)))
    db.execute("CREATE TABLE meta AS SELECT ? AS version", [version])
    db.execute("DROP TABLE staged")
    db.execute("CHECKPOINT")


def _activity_version(version: str) -> tuple[int, str]:
    """(newest batch id, latest rollback) of the activity in a version string from ``DataVersions.of``."""
    parts = dict(part.split("=", 1) for part in version.split("|") if "=" in part)
    newest, _, rolled = parts.get("learning_activity", "0:-").partition(":")
    return (int(newest) if newest.isdigit() else 0), rolled


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (one builder across processes); waits for another builder."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_old(folder: Path, keep: Path) -> None:
    """Remove all but the newest KEEP_FILES snapshots (a process still reading one keeps its open file)."""
    files = sorted(folder.glob("activity-*.duckdb"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [f for f in files if f != keep][KEEP_FILES - 1 :]:
        old.unlink(missing_ok=True)

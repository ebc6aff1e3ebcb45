"""Engines and transactions: the one place that knows SQLite from PostgreSQL."""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.json as pa_json
from sqlalchemy import Connection, Engine, Select, create_engine, event, func, select
from sqlalchemy.engine import make_url

# Any constant works: every writer of this application takes the same one.
_WRITE_LOCK_KEY = 4_122_024
_IMMEDIATE = "learning_begin_immediate"
#: SQLite's default: a commit that leaves the write-ahead log longer than 1000 pages copies it into the
#: database file. A bulk load turns that off for its own commit, and a background thread does it.
_NO_AUTOCHECKPOINT = "PRAGMA wal_autocheckpoint=0"
_DEFAULT_AUTOCHECKPOINT = "PRAGMA wal_autocheckpoint=1000"

#: Background checkpoints started by bulk loads (non-daemon threads: a command that loads a file and
#: exits waits for its checkpoint).
_checkpoints: list[threading.Thread] = []
_checkpoints_lock = threading.Lock()

log = logging.getLogger(__name__)


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for a plain ``postgresql://`` URL."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


@functools.cache
def get_engine(url: str, busy_timeout: float = 300.0) -> Engine:
    """A process-wide engine for ``url`` (created on first use, never at import)."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    _private_file(make_url(url).database)
    engine = create_engine(url, connect_args={"timeout": busy_timeout})
    _configure_sqlite(engine)
    return engine


def _private_file(database: str | None) -> None:
    """The SQLite file readable by this account only (0600); SQLite gives its -wal and -shm files the
    same mode."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    found = path.stat()
    if found.st_mode & 0o077 and found.st_uid == os.getuid():
        path.chmod(0o600)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's "begin" event below emit BEGIN, so writers can ask for IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # Set before WAL, which fixes it; only a new file takes it. Loads build fewer, fuller B-tree
        # pages: 5M rows into an empty store 24.3-26.5 s -> 22.2-23.1 s, a month into 5M 0.8 -> 0.6 s.
        cursor.execute("PRAGMA page_size=16384")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA cache_size=-131072")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_transaction(
    engine: Engine, attach: dict[str, str] | None = None, *, checkpoint_after: bool = False
) -> Iterator[Connection]:
    """A transaction that holds the application's single write lock until it ends.

    SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock up front, so two
    writers queue (up to the busy timeout) instead of failing half-way.
    PostgreSQL: a transaction-scoped advisory lock serialises writers; readers are never blocked.
    Commits when the block ends, rolls back on any exception.
    ``attach`` (SQLite only): schema name -> database file, attached for this transaction
    (SQLite cannot attach inside a transaction, so it happens before BEGIN).
    ``checkpoint_after`` (SQLite, for bulk loads): the commit does not copy the write-ahead log into
    the database file (about 0.3 s per million rows); a background thread does, once it is committed.
    """
    committed = False
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.execution_options(**{_IMMEDIATE: True})
        driver = conn.connection.driver_connection
        for schema, path in (attach or {}).items():
            driver.execute("ATTACH DATABASE ? AS " + _schema_name(schema), (path,))
        checkpoint_later = sqlite and checkpoint_after
        if checkpoint_later:
            driver.execute(_NO_AUTOCHECKPOINT)
        try:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(select(func.pg_advisory_xact_lock(_WRITE_LOCK_KEY)))
                yield conn
            committed = True
        finally:
            for schema in attach or {}:
                driver.execute("DETACH DATABASE " + _schema_name(schema))
            if checkpoint_later:
                driver.execute(_DEFAULT_AUTOCHECKPOINT)
    if checkpoint_later and committed:
        thread = threading.Thread(target=_checkpoint_in_background, args=(engine,), name="wal-checkpoint")
        with _checkpoints_lock:
            _checkpoints.append(thread)
            thread.start()


def wait_for_checkpoints(timeout: float | None = None) -> None:
    """Wait for the background checkpoints started so far (tests and benchmarks)."""
    with _checkpoints_lock:
        running = list(_checkpoints)
    for thread in running:
        thread.join(timeout)


def _checkpoint(engine: Engine) -> None:
    """Copy what the write-ahead log holds into the database file, as far as readers allow."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
    except Exception:  # the next commit's automatic checkpoint does it instead
        log.warning("background WAL checkpoint failed", exc_info=True)


def _checkpoint_in_background(engine: Engine) -> None:
    try:
        _checkpoint(engine)
    finally:
        with _checkpoints_lock:
            _checkpoints.remove(threading.current_thread())


def arrow_batches(conn: Connection, query: Select[Any], rows: int) -> Iterator[pa.RecordBatch]:
    """The rows of ``query`` as Arrow batches of up to ``rows`` rows, columns named "0", "1"...

    SQLite: each row comes out as one JSON object (``json_object``, in C), fetched on the sqlite3
    cursor, and Arrow's JSON reader makes the columns: one Python object per row instead of one per
    value and no SQLAlchemy row objects, which at millions of rows cost more than the read itself
    (docs/benchmarks.md). Not ADBC: it links a second copy of SQLite, and two
    copies in one process break each other's file locks. A column must not be NULL throughout a
    batch (its type would be unknown): ``coalesce`` it. Others: SQLAlchemy's rows, column by column.
    """
    names = [str(n) for n in range(len(query.selected_columns))]
    if conn.dialect.name == "sqlite":
        pairs = [part for name, column in zip(names, query.selected_columns, strict=True) for part in (name, column)]
        as_json = query.with_only_columns(func.json_object(*pairs), maintain_column_froms=True)
        compiled = as_json.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
        params = compiled.construct_params()
        values = tuple(_sqlite_value(params[name]) for name in compiled.positiontup or [])
        cursor = conn.connection.driver_connection.cursor()  # in the connection's transaction, if begun
        try:
            cursor.execute(str(compiled), values)
            while chunk := cursor.fetchmany(rows):
                lines = "\n".join([row[0] for row in chunk]).encode()
                whole = pa_json.ReadOptions(block_size=len(lines) + 1)  # one block: types from every row
                table = pa_json.read_json(io.BytesIO(lines), read_options=whole).select(names)
                yield from table.combine_chunks().to_batches(max_chunksize=len(chunk))
        finally:
            cursor.close()
        return
    for chunk in conn.execution_options(yield_per=rows).execute(query).partitions():
        columns = [pa.array(list(column)) for column in zip(*chunk, strict=True)]
        yield pa.record_batch(columns, names=names)


def _sqlite_value(value: object) -> object:
    """A bound value as SQLAlchemy's SQLite types store it: a date as ISO text."""
    if isinstance(value, dt.datetime):  # stored as "YYYY-MM-DD HH:MM:SS.ffffff": not needed, not converted
        raise TypeError("arrow_batches binds dates, not datetimes")
    return value.isoformat() if isinstance(value, dt.date) else value


def _schema_name(name: str) -> str:
    if not name.isidentifier():
        raise ValueError(f"not a schema name: {name!r}")
    return name

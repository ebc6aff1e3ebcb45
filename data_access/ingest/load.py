"""The ingest pipeline: every upload path (browser, command line, demo loader) goes through ``ingest``.

read -> validate every row -> pseudonymise ids -> upsert in one transaction, all or nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, Engine, func, insert, select, update

from data_access.contract import KINDS, REFERENCE_KINDS, Kind
from data_access.engine import write_transaction
from data_access.ingest.bulk import BulkWriter, ScratchStage
from data_access.ingest.read import ROW, Opener, TableFile, UploadFormatError, open_table, opener_for
from data_access.ingest.validate import (
    HIDDEN,
    Context,
    Report,
    RowError,
    SlashDatesNeedScan,
    find_repeated_keys,
    header_name,
    key_hashes,
    scan_slash_orders,
    validate_chunk,
)
from data_access.schema import (
    DATA_TABLES,
    HISTORY_TABLES,
    MONTHS_RECORDED,
    UploadBatch,
    UploadBatchEntity,
    UploadBatchMonth,
)

Status = Literal["loaded", "rejected", "duplicate", "valid"]
batches = UploadBatch.__table__


@dataclass
class IngestResult:
    status: Status
    kind: str
    file_name: str
    sha256: str
    batch_id: int | None = None
    rows_read: int = 0
    rows_inserted: int = 0
    rows_replaced: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The report as the command line's ``--json`` prints it."""
        return {
            "status": self.status,
            "kind": self.kind,
            "file_name": self.file_name,
            "sha256": self.sha256,
            "batch_id": self.batch_id,
            "rows_read": self.rows_read,
            "rows_inserted": self.rows_inserted,
            "rows_replaced": self.rows_replaced,
            "error_count": self.error_count,
            "errors": [e.as_dict() for e in self.errors],
            "warnings": self.warnings,
        }


class _Rejected(Exception):
    """Raised inside the write transaction so that nothing of a bad upload is kept."""


class _DryRunDone(Exception):
    """Raised inside the write transaction of a dry run once the counts are known, so nothing is kept."""


def file_sha256(open_file: Opener) -> str:
    digest = hashlib.sha256()
    with open_file() as handle:
        while block := handle.read(8 << 20):
            digest.update(block)
    return digest.hexdigest()


def ingest(
    engine: Engine,
    kind_name: str,
    source: str | os.PathLike[str] | bytes,
    file_name: str | None = None,
    *,
    pseudonym_key: bytes,
    uploaded_by: str,
    max_errors: int = 1000,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    entities: tuple[str, ...] | None = None,
) -> IngestResult:
    """Validate and load one file of ``kind_name`` as one batch, all or nothing.

    >>> result = ingest(engine, "entities", b"entity_code,entity_name,pillar,entity_type\\n"
    ...                 b"OHR,Office of Human Resources,Management and support,Department\\n",
    ...                 "entities.csv", pseudonym_key=b"k", uploaded_by="hr@example.org")
    >>> result.status, result.rows_inserted
    ('loaded', 1)

    ``source`` is a path or the file's bytes. The result says loaded, duplicate (the
    same file is already loaded: nothing written) or rejected (with every error).
    ``dry_run`` does everything inside the transaction, then rolls it back: the result is
    ``valid`` with the rows that would be inserted and replaced (a rejection is still recorded).
    ``progress`` is called with the number of rows read so far, after each chunk.
    ``entities`` limits the upload to rows of those entities (an uploader limited to them): any other
    row is an error, so is replacing another entity's row, and so is reference data all entities share.
    """
    if kind_name not in KINDS:
        raise ValueError(f"unknown kind {kind_name!r}; expected one of {', '.join(KINDS)}")
    kind = KINDS[kind_name]
    if file_name is None:
        file_name = "upload" if isinstance(source, bytes) else os.path.basename(os.fspath(source))
    open_file = opener_for(source)
    with ThreadPoolExecutor(max_workers=1) as pool:  # hashing releases the GIL: it overlaps the sniffing
        sha256 = pool.submit(file_sha256, open_file)
        try:
            table: TableFile | UploadFormatError = open_table(open_file, file_name, kind.name)
        except UploadFormatError as exc:
            table = exc
        result = IngestResult("rejected", kind.name, file_name, sha256.result())
    report = Report(cap=max_errors)
    if isinstance(table, UploadFormatError):
        report.add(None, "", "", str(table))
        return _record_attempt(engine, result, report, uploaded_by)
    if entities is not None and kind.entity_column is None:
        report.add(None, "", "", f"{kind.name} is shared by every entity: only an uploader of every entity loads it")
        return _record_attempt(engine, result, report, uploaded_by)
    mapping = _map_header(kind, table.header, report)
    if not report.ok:
        return _record_attempt(engine, result, report, uploaded_by)
    if _already_loaded(engine, result):
        return _record_attempt(engine, result, report, uploaded_by)
    slash_orders: dict[str, str] = {}
    while True:
        try:
            options = _LoadOptions(pseudonym_key, uploaded_by, slash_orders, dry_run, progress, entities)
            return _load(engine, kind, table, mapping, result, report, options)
        except SlashDatesNeedScan:
            # Rare: d/m/y-style dates. Decide each column's order from all its values, then load again.
            date_columns = [c.name for c in kind.columns if c.type == "date" and c.name in mapping.values()]
            chunks = (_contract_frame(kind, chunk, mapping) for chunk in table.chunks())
            slash_orders = scan_slash_orders(chunks, date_columns)
            report = Report(cap=max_errors)
            _map_header(kind, table.header, report)


def _map_header(kind: Kind, header: list[str], report: Report) -> dict[str, str]:
    """Map file column -> contract column; missing required columns and repeats are errors."""
    mapping: dict[str, str] = {}
    seen: dict[str, str] = {}
    extras = []
    for raw in header:
        name = header_name(raw)
        if name in seen:
            report.add(1, raw, raw, f"column name repeated (also '{seen[name]}')")
            continue
        seen[name] = raw
        if name in kind.column_names:
            mapping[raw] = name
        elif name:
            extras.append(raw)
    for column in kind.columns:
        if column.required and column.name not in mapping.values():
            report.add(1, column.name, "", "required column is missing from the header")
    if extras:
        report.warnings.append(f"ignored columns not in the {kind.name} contract: {', '.join(extras)}")
    return mapping


def _contract_frame(kind: Kind, chunk: pd.DataFrame, mapping: dict[str, str]) -> pd.DataFrame:
    frame = chunk[[*mapping, ROW]].rename(columns=mapping)
    for column in kind.columns:
        if column.name not in frame:
            frame[column.name] = ""
    return frame


def _already_loaded(conn_or_engine: Engine | Connection, result: IngestResult) -> bool:
    """Whether this very file is loaded for this kind; if so ``result`` says duplicate, and which batch."""
    query = select(batches.c.id).where(
        batches.c.kind == result.kind, batches.c.sha256 == result.sha256, batches.c.status == "loaded"
    )
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            existing = conn.execute(query).scalar()
    else:
        existing = conn_or_engine.execute(query).scalar()
    if existing is None:
        return False
    result.status, result.batch_id = "duplicate", existing
    return True


def _codes_in_store(conn: Connection) -> dict[str, frozenset[str]]:
    """Reference kind -> the codes stored now."""
    known = {}
    for reference in REFERENCE_KINDS:
        code_column = DATA_TABLES[reference].c[KINDS[reference].key_columns[0]]
        known[reference] = frozenset(conn.execute(select(code_column)).scalars())
    return known


def _known_codes(conn: Connection, kind: Kind, table: TableFile, mapping: dict[str, str]) -> dict[str, frozenset[str]]:
    """Reference kind -> the codes rows may refer to: those stored, plus those of this upload for its own kind."""
    known = {}
    for reference, stored in _codes_in_store(conn).items():
        codes = set(stored)
        if reference == kind.name:  # codes may refer to others in the same upload (parent entities)
            key = kind.key_columns[0]
            for chunk in table.chunks():
                codes.update(_contract_frame(kind, chunk, mapping)[key].tolist())
        known[reference] = frozenset(codes)
    return known


def _load(
    engine: Engine,
    kind: Kind,
    table: TableFile,
    mapping: dict[str, str],
    result: IngestResult,
    report: Report,
    options: _LoadOptions,
) -> IngestResult:
    """Validate every row and, when all are good, upsert them as one batch (or, dry run, only count)."""
    try:
        if engine.dialect.name == "sqlite":
            _load_sqlite(engine, kind, table, mapping, result, report, options)
        else:
            _load_in_transaction(engine, kind, table, mapping, result, report, options)
    except _Rejected:
        return _record_attempt(engine, result, report, options.uploaded_by)
    except _DryRunDone:
        return result
    return result


def _load_sqlite(
    engine: Engine,
    kind: Kind,
    table: TableFile,
    mapping: dict[str, str],
    result: IngestResult,
    report: Report,
    options: _LoadOptions,
) -> None:
    """Validate and stage outside the write lock; take it only to move the staged rows in.

    Keys repeated within the file are not hashed up front: the upsert itself shows them (a row
    replaced by its own batch), and only then is the file read again to name the rows.
    """
    with engine.connect() as conn:
        known = _known_codes(conn, kind, table, mapping)
    context = _context(known, table, options)
    database = engine.url.database
    beside_database = Path(database).resolve().parent if database and database != ":memory:" else None
    months, owners = _MonthsSeen(kind), _EntitiesSeen(kind)
    with ScratchStage(kind, DATA_TABLES[kind.name], beside_database) as stage:
        try:
            _validate_rows(kind, table, mapping, context, result, report, options, owners.then(months.then(stage.add)),
                           find_repeats=False)  # fmt: skip
        except _Rejected:
            _report_repeated_keys(kind, table, mapping, context, report)
            raise
        stage.finish()
        try:
            with write_transaction(engine, attach=stage.attach, checkpoint_after=True) as conn:
                _check_still_loadable(conn, kind, result, report, known)
                batch_id = _insert_batch(conn, result, "loading", options.uploaded_by)
                stage.move(conn, batch_id)
                months.record(conn, batch_id)
                owners.record(conn, batch_id)
                if _replaced_by_own_batch(conn, kind, batch_id):
                    raise _RepeatedKeys
                _refuse_replacing_others(conn, kind, batch_id, options.entities, report)
                _finish_batch(conn, result, batch_id, report)
                _end_dry_run(result, options)
        except _RepeatedKeys:
            _report_repeated_keys(kind, table, mapping, context, report)
            raise _Rejected from None


class _RepeatedKeys(Exception):
    """The file holds a natural key more than once (found by the upsert; the transaction is undone)."""


def _replaced_by_own_batch(conn: Connection, kind: Kind, batch_id: int) -> bool:
    history = HISTORY_TABLES[kind.name]
    own = select(history.c.batch_id).where(history.c.replaced_by_batch == batch_id, history.c.batch_id == batch_id)
    return conn.execute(own.limit(1)).first() is not None


def _report_repeated_keys(
    kind: Kind, table: TableFile, mapping: dict[str, str], context: Context, report: Report
) -> None:
    """Read the file again to name every row whose natural key an earlier row already has."""
    scratch = Report(cap=0)
    hashes, rows = [], []
    for chunk in table.chunks():
        frame = _contract_frame(kind, chunk, mapping)
        hashes.append(key_hashes(kind, validate_chunk(kind, frame, context, scratch)))
        rows.append(frame[ROW].to_numpy())
    _add_repeated_keys(kind, hashes, rows, report)


def _add_repeated_keys(kind: Kind, hashes: list[np.ndarray], rows: list[np.ndarray], report: Report) -> None:
    if hashes:
        for first, repeat in find_repeated_keys(np.concatenate(hashes), np.concatenate(rows)):
            key = "+".join(kind.key_columns)
            report.add(repeat, key, "", f"same natural key ({key}) as row {first}")


def _load_in_transaction(
    engine: Engine,
    kind: Kind,
    table: TableFile,
    mapping: dict[str, str],
    result: IngestResult,
    report: Report,
    options: _LoadOptions,
) -> None:
    """PostgreSQL: readers are never blocked, so rows are COPY-ed in while they are validated."""
    with write_transaction(engine) as conn:
        if _already_loaded(conn, result):
            raise _Rejected
        context = _context(_known_codes(conn, kind, table, mapping), table, options)
        batch_id = _insert_batch(conn, result, "loading", options.uploaded_by)
        writer = BulkWriter(conn, kind, DATA_TABLES[kind.name])
        months, owners = _MonthsSeen(kind), _EntitiesSeen(kind)
        write = owners.then(months.then(lambda clean: writer.write(clean, batch_id)))
        _validate_rows(kind, table, mapping, context, result, report, options, write)
        writer.finish()
        months.record(conn, batch_id)
        owners.record(conn, batch_id)
        _refuse_replacing_others(conn, kind, batch_id, options.entities, report)
        _finish_batch(conn, result, batch_id, report)
        _end_dry_run(result, options)


class _MonthsSeen:
    """The months (YYYY-MM) of the dates a kind records per batch (``MONTHS_RECORDED``), over an upload's chunks."""

    def __init__(self, kind: Kind) -> None:
        self.columns = MONTHS_RECORDED.get(kind.name, ())
        self.seen: set[str] = set()

    def then(self, sink: Callable[[pd.DataFrame], None]) -> Callable[[pd.DataFrame], None]:
        """``sink``, noting each clean chunk's months first."""

        def noted(clean: pd.DataFrame) -> None:
            for column in self.columns:
                dates = pa.array(clean[column].array, type=pa.string())
                self.seen.update(pc.unique(pc.utf8_slice_codeunits(dates, 0, 7)).to_pylist())
            sink(clean)

        return noted

    def record(self, conn: Connection, batch_id: int) -> None:
        months = sorted(month for month in self.seen if month)
        if months:
            rows = [{"batch_id": batch_id, "month": dt.date(int(m[:4]), int(m[5:7]), 1)} for m in months]
            conn.execute(insert(UploadBatchMonth), rows)


class _EntitiesSeen:
    """The entities of the rows a batch writes (``UploadBatchEntity``), over an upload's chunks."""

    def __init__(self, kind: Kind) -> None:
        self.column = kind.entity_column
        self.seen: set[str] = set()

    def then(self, sink: Callable[[pd.DataFrame], None]) -> Callable[[pd.DataFrame], None]:
        def noted(clean: pd.DataFrame) -> None:
            if self.column is not None:
                self.seen.update(clean[self.column].unique().tolist())
            sink(clean)

        return noted

    def record(self, conn: Connection, batch_id: int) -> None:
        rows = [{"batch_id": batch_id, "entity_code": code} for code in sorted(self.seen) if code]
        if rows:
            conn.execute(insert(UploadBatchEntity), rows)


def _refuse_replacing_others(
    conn: Connection, kind: Kind, batch_id: int, entities: tuple[str, ...] | None, report: Report
) -> None:
    """A limited uploader's rows may not replace rows of another entity (a natural key without the entity,
    as an activity's, can match one): the write is undone and the upload rejected."""
    if entities is None or kind.entity_column is None:
        return
    history = HISTORY_TABLES[kind.name]
    owner = history.c[kind.entity_column]
    query = select(func.count()).where(history.c.replaced_by_batch == batch_id, owner.not_in(entities))
    replaced = conn.execute(query).scalar_one()
    if replaced:
        yours = ", ".join(sorted(entities))
        reason = f"{replaced} rows would replace rows of entities other than yours ({yours}) with the same key"
        report.add(None, kind.entity_column, "", reason)
        raise _Rejected


def _context(known: dict[str, frozenset[str]], table: TableFile, options: _LoadOptions) -> Context:
    return Context(
        known_codes=known,
        pseudonym_key=options.pseudonym_key,
        decimal_comma=table.delimiter == ";",
        slash_orders=options.slash_orders,
        entity_scope=None if options.entities is None else frozenset(options.entities),
    )


def _validate_rows(
    kind: Kind,
    table: TableFile,
    mapping: dict[str, str],
    context: Context,
    result: IngestResult,
    report: Report,
    options: _LoadOptions,
    sink: Callable[[pd.DataFrame], None],
    find_repeats: bool = True,
) -> None:
    """Validate every chunk; hand each clean one to ``sink`` while no error is found. Raises _Rejected."""
    hashes, rows = [], []
    result.rows_read = 0
    for chunk in table.chunks():
        frame = _contract_frame(kind, chunk, mapping)
        clean = validate_chunk(kind, frame, context, report)
        result.rows_read += len(frame)
        if find_repeats:
            hashes.append(key_hashes(kind, clean))
            rows.append(frame[ROW].to_numpy())
        if report.ok:
            sink(clean)
        if options.progress is not None:
            options.progress(result.rows_read)
    _add_repeated_keys(kind, hashes, rows, report)
    # The reader numbered the rows it could read: each malformed row it skipped moves the later ones on.
    report.renumber(sorted(bad.row for bad in table.malformed if bad.row is not None))
    holds_ids = any(column.pseudonymise for column in kind.columns)
    for bad in table.malformed:
        found = f"{bad.fields} fields" if bad.fields else "a broken row"
        report.add(bad.row, "", HIDDEN if holds_ids else bad.text, f"expected {bad.expected} fields, found {found}")
    if result.rows_read == 0 and report.ok:
        report.add(None, "", "", "the file has a header but no data rows")
    if not report.ok:
        raise _Rejected


def _check_still_loadable(
    conn: Connection,
    kind: Kind,
    result: IngestResult,
    report: Report,
    known: dict[str, frozenset[str]],
) -> None:
    """Under the write lock: not loaded meanwhile, and no code it was checked against rolled back since."""
    if _already_loaded(conn, result):
        raise _Rejected
    now = _codes_in_store(conn)
    for reference, codes in known.items():
        if reference != kind.name and not codes <= now[reference]:
            report.add(None, "", "", f"the {reference} reference data changed during this upload; upload it again")
    if not report.ok:
        raise _Rejected


def _end_dry_run(result: IngestResult, options: _LoadOptions) -> None:
    if options.dry_run:
        result.status, result.batch_id = "valid", None
        raise _DryRunDone


@dataclass(frozen=True)
class _LoadOptions:
    pseudonym_key: bytes
    uploaded_by: str
    slash_orders: dict[str, str]
    dry_run: bool = False
    progress: Callable[[int], None] | None = None
    entities: tuple[str, ...] | None = None


def _insert_batch(conn: Connection, result: IngestResult, status: str, uploaded_by: str) -> int:
    """A new upload_batch row for this attempt; its id."""
    values = {
        "kind": result.kind,
        "file_name": result.file_name[:255],
        "sha256": result.sha256,
        "status": status,
        "rows_read": result.rows_read,
        "error_count": result.error_count,
        "uploaded_by": uploaded_by,
        "uploaded_at": dt.datetime.now(dt.UTC),
    }
    return conn.execute(insert(batches).values(values).returning(batches.c.id)).scalar_one()


def _finish_batch(conn: Connection, result: IngestResult, batch_id: int, report: Report) -> None:
    history = HISTORY_TABLES[result.kind]
    replaced = conn.execute(
        select(func.count()).select_from(history).where(history.c.replaced_by_batch == batch_id)
    ).scalar_one()
    result.status = "loaded"
    result.batch_id = batch_id
    result.rows_replaced = replaced
    result.rows_inserted = result.rows_read - replaced
    result.warnings = report.warnings + _unknown_value_warnings(report)
    conn.execute(
        update(batches)
        .where(batches.c.id == batch_id)
        .values(
            status="loaded",
            rows_read=result.rows_read,
            rows_inserted=result.rows_inserted,
            rows_replaced=result.rows_replaced,
        )
    )


def _unknown_value_warnings(report: Report) -> list[str]:
    warnings = []
    for column, counts in report.unknown_values.items():
        listed = ", ".join(f"'{value}' ({count})" for value, count in sorted(counts.items())[:20])
        warnings.append(f"{column}: values outside the taxonomy, shown under 'Other' until mapped: {listed}")
    return warnings


def _record_attempt(engine: Engine, result: IngestResult, report: Report, uploaded_by: str) -> IngestResult:
    """Keep a rejected or duplicate attempt in the upload history (no data is written)."""
    if result.status != "duplicate":
        result.status = "rejected"
        result.rows_inserted = result.rows_replaced = 0
    result.errors = list(report.errors)
    result.error_count = report.error_count
    result.warnings = report.warnings + _unknown_value_warnings(report)
    with engine.begin() as conn:
        attempt_id = _insert_batch(conn, result, result.status, uploaded_by)
    if result.status == "rejected":
        result.batch_id = attempt_id
    return result

"""Upload history and exact rollback of a batch."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Engine, and_, delete, exists, func, insert, or_, select, update

from data_access.contract import KINDS, REFERENCE_KINDS
from data_access.engine import write_transaction
from data_access.schema import DATA_TABLES, HISTORY_TABLES, UploadBatch, UploadBatchEntity

batches = UploadBatch.__table__

#: reference kind -> (fact kind, column) pairs that use its codes
_REFERRERS = {
    reference: [
        (kind.name, column.name)
        for kind in KINDS.values()
        for column in kind.columns
        if column.references == reference and kind.name != reference
    ]
    for reference in REFERENCE_KINDS
}


class RollbackError(ValueError):
    """The batch cannot be rolled back; the message says why and what to do."""


@dataclass(frozen=True)
class RollbackResult:
    batch_id: int
    kind: str
    rows_removed: int
    rows_restored: int


def list_batches(
    engine: Engine, limit: int | None = None, *, entities: tuple[str, ...] | None = None, uploader: str = ""
) -> pd.DataFrame:
    """Every upload attempt, newest first; with ``entities``, only those ``uploader`` made and those whose
    rows are all of these entities (``batch_within``)."""
    query = select(batches).order_by(batches.c.id.desc())
    if entities is not None:
        query = query.where(or_(batches.c.uploaded_by == uploader, batch_within(batches.c.id, entities)))
    if limit:
        query = query.limit(limit)
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).mappings().all(), columns=list(batches.c.keys()))


def batch_within(batch_id: Any, entities: tuple[str, ...]) -> Any:
    """Whether the batch wrote rows and all of them are of ``entities`` (``upload_batch_entity``; a batch
    loaded before entities were recorded, or of reference data all entities share, is not)."""
    recorded = UploadBatchEntity
    return and_(
        exists().where(recorded.batch_id == batch_id),
        ~exists().where(recorded.batch_id == batch_id, recorded.entity_code.not_in(entities)),
    )


def rollback_batch(
    engine: Engine, batch_id: int, *, rolled_back_by: str, entities: tuple[str, ...] | None = None
) -> RollbackResult:
    """Undo a loaded batch: remove its rows and put back exactly the rows it replaced.

    Refused when a later batch still holds rows that replaced this batch's rows
    (roll that one back first), when removing reference codes would orphan data, or, with
    ``entities`` (an uploader limited to them), when the batch holds rows of any other entity.
    """
    with write_transaction(engine) as conn:
        batch = conn.execute(select(batches).where(batches.c.id == batch_id)).mappings().first()
        if batch is None:
            raise RollbackError(f"there is no batch {batch_id}")
        if entities is not None and not conn.execute(select(batch_within(batch_id, entities))).scalar():
            raise RollbackError(f"batch {batch_id} holds rows of entities other than yours; an uploader of every "
                                "entity can roll it back")  # fmt: skip
        if batch["status"] != "loaded":
            raise RollbackError(f"batch {batch_id} is {batch['status']}, not loaded: nothing to roll back")
        table, history = DATA_TABLES[batch["kind"]], HISTORY_TABLES[batch["kind"]]
        later = (
            conn.execute(select(history.c.replaced_by_batch).where(history.c.batch_id == batch_id).distinct())
            .scalars()
            .all()
        )
        if later:
            listed = ", ".join(str(b) for b in sorted(later))
            raise RollbackError(
                f"rows of batch {batch_id} were replaced by later batch {listed}; roll back batch {listed} first"
            )
        if batch["kind"] in REFERENCE_KINDS:
            _refuse_orphans(conn, batch["kind"], batch_id)
        removed = conn.execute(delete(table).where(table.c.batch_id == batch_id)).rowcount
        columns = [c.name for c in table.columns]
        replaced = history.c.replaced_by_batch == batch_id
        restored = conn.execute(select(func.count()).select_from(history).where(replaced)).scalar_one()
        conn.execute(insert(table).from_select(columns, select(*(history.c[c] for c in columns)).where(replaced)))
        conn.execute(delete(history).where(history.c.replaced_by_batch == batch_id))
        conn.execute(
            update(batches)
            .where(batches.c.id == batch_id)
            .values(status="rolled_back", rolled_back_by=rolled_back_by, rolled_back_at=dt.datetime.now(dt.UTC))
        )
    return RollbackResult(batch_id, batch["kind"], removed, restored)


def _refuse_orphans(conn, reference: str, batch_id: int) -> None:  # type: ignore[no-untyped-def]
    """Codes this batch added (not replaced) must not be in use by current data."""
    table, history = DATA_TABLES[reference], HISTORY_TABLES[reference]
    code = KINDS[reference].key_columns[0]
    added = select(table.c[code]).where(
        table.c.batch_id == batch_id,
        ~exists().where(history.c.replaced_by_batch == batch_id, history.c[code] == table.c[code]),
    )
    for kind, column in _REFERRERS[reference]:
        fact = DATA_TABLES[kind]
        used = conn.execute(select(fact.c[column]).where(fact.c[column].in_(added)).limit(1)).scalar()
        if used is not None:
            raise RollbackError(
                f"code {used} from batch {batch_id} is used by current {kind} data; "
                f"roll back or replace that data first"
            )

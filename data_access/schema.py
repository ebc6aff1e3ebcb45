"""The SQL schema, in SQLAlchemy 2.0 typed style.

Each upload kind has a table named after it whose primary key is the kind's
natural key, so "latest upload wins" is an upsert on the primary key. Every
data row carries the ``batch_id`` that wrote it. When an upload replaces a row,
a trigger copies the old row into ``<table>_history`` with the replacing batch,
which is what makes an exact rollback possible.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CODE = String(20)
TEXT = String(200)
VOCAB = String(60)
PSEUDONYM = String(32)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UploadBatch(Base):
    """Every upload attempt: loaded, rejected, duplicate or rolled back."""

    __tablename__ = "upload_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    #: loading (inside its transaction only), loaded, rejected, duplicate, rolled_back
    status: Mapped[str] = mapped_column(String(20))
    rows_read: Mapped[int] = mapped_column(default=0)
    rows_inserted: Mapped[int] = mapped_column(default=0)
    rows_replaced: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)
    uploaded_by: Mapped[str] = mapped_column(String(120))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    rolled_back_by: Mapped[str | None] = mapped_column(String(120))
    rolled_back_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class UploadBatchMonth(Base):
    """The months of the dates in a batch's rows, for the kinds in ``MONTHS_RECORDED`` (migration 0007).

    Keeping the activity summaries current reads again the months a load touched; recorded here as
    the batch is written, they are found without scanning the table for the batch's rows.
    """

    __tablename__ = "upload_batch_month"

    batch_id: Mapped[int] = mapped_column(ForeignKey("upload_batch.id"), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # its first day


#: Kind -> the date columns whose months each batch of it records in ``upload_batch_month``.
MONTHS_RECORDED: dict[str, tuple[str, ...]] = {"learning_activity": ("enrolled_on", "completed_on")}


class UploadBatchEntity(Base):
    """The entities whose rows a batch wrote (migration 0009): what an uploader limited to some entities
    may see in the history and roll back."""

    __tablename__ = "upload_batch_entity"

    batch_id: Mapped[int] = mapped_column(ForeignKey("upload_batch.id"), primary_key=True)
    entity_code: Mapped[str] = mapped_column(String(20), primary_key=True)


def _batch_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("upload_batch.id"), index=True)


class Entity(Base):
    __tablename__ = "entities"

    entity_code: Mapped[str] = mapped_column(CODE, primary_key=True)
    entity_name: Mapped[str] = mapped_column(TEXT)
    pillar: Mapped[str] = mapped_column(VOCAB)
    entity_type: Mapped[str] = mapped_column(VOCAB)
    parent_entity_code: Mapped[str | None] = mapped_column(CODE)
    batch_id: Mapped[int] = _batch_fk()


class DutyStation(Base):
    __tablename__ = "duty_stations"

    duty_station_code: Mapped[str] = mapped_column(CODE, primary_key=True)
    duty_station_name: Mapped[str] = mapped_column(TEXT)
    country_iso3: Mapped[str] = mapped_column(String(3))
    is_headquarters: Mapped[bool] = mapped_column(Boolean)
    region: Mapped[str | None] = mapped_column(TEXT)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    hardship_class: Mapped[str | None] = mapped_column(String(1))
    batch_id: Mapped[int] = _batch_fk()


class Headcount(Base):
    __tablename__ = "headcount"

    as_of_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    entity_code: Mapped[str] = mapped_column(CODE, primary_key=True)
    duty_station_code: Mapped[str] = mapped_column(CODE, primary_key=True)
    staff_category: Mapped[str] = mapped_column(VOCAB, primary_key=True)
    gender: Mapped[str] = mapped_column(VOCAB, primary_key=True)
    headcount: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[int] = _batch_fk()


class LearningNeed(Base):
    __tablename__ = "lna"

    cycle: Mapped[str] = mapped_column(CODE, primary_key=True)
    entity_code: Mapped[str] = mapped_column(CODE, primary_key=True)
    duty_station_code: Mapped[str] = mapped_column(CODE, primary_key=True)
    report_type: Mapped[str] = mapped_column(TEXT, primary_key=True)
    learning_need: Mapped[str] = mapped_column(TEXT, primary_key=True)
    priority: Mapped[str] = mapped_column(VOCAB, primary_key=True)
    staff_category: Mapped[str] = mapped_column(VOCAB, primary_key=True)
    gender: Mapped[str] = mapped_column(VOCAB, primary_key=True)
    respondents: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[int] = _batch_fk()


class LearningActivity(Base):
    """The big table: one B-tree on its natural key, date first, no batch_id index (migrations 0004, 0006)."""

    __tablename__ = "learning_activity"
    __table_args__ = (
        PrimaryKeyConstraint("enrolled_on", "platform", "learner_id", "course_id"),
        {"sqlite_with_rowid": False},
    )

    platform: Mapped[str] = mapped_column(VOCAB)
    learner_id: Mapped[str] = mapped_column(PSEUDONYM)
    course_id: Mapped[str] = mapped_column(String(100))
    enrolled_on: Mapped[dt.date] = mapped_column(Date)
    entity_code: Mapped[str] = mapped_column(CODE)
    duty_station_code: Mapped[str] = mapped_column(CODE)
    staff_category: Mapped[str] = mapped_column(VOCAB)
    gender: Mapped[str] = mapped_column(VOCAB)
    status: Mapped[str] = mapped_column(VOCAB)
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    course_title: Mapped[str | None] = mapped_column(String(300))
    learning_need: Mapped[str | None] = mapped_column(TEXT)
    hours: Mapped[float | None] = mapped_column(Float)
    batch_id: Mapped[int] = mapped_column(ForeignKey("upload_batch.id"))


class ProgrammeParticipation(Base):
    __tablename__ = "programme_participation"

    programme: Mapped[str] = mapped_column(TEXT, primary_key=True)
    cohort: Mapped[str] = mapped_column(VOCAB, primary_key=True)
    participant_id: Mapped[str] = mapped_column(PSEUDONYM, primary_key=True)
    entity_code: Mapped[str] = mapped_column(CODE)
    duty_station_code: Mapped[str] = mapped_column(CODE)
    gender: Mapped[str] = mapped_column(VOCAB)
    staff_category: Mapped[str] = mapped_column(VOCAB)
    contract_scope: Mapped[str] = mapped_column(VOCAB)
    status: Mapped[str] = mapped_column(VOCAB)
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    pre_score: Mapped[float | None] = mapped_column(Float)
    post_score: Mapped[float | None] = mapped_column(Float)
    applied_on_job: Mapped[str | None] = mapped_column(VOCAB)
    batch_id: Mapped[int] = _batch_fk()


class KpiTarget(Base):
    __tablename__ = "kpi_targets"

    kpi: Mapped[str] = mapped_column(VOCAB, primary_key=True)
    scope: Mapped[str] = mapped_column(CODE, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    target: Mapped[float] = mapped_column(Float)
    batch_id: Mapped[int] = _batch_fk()


class User(Base):
    """Someone who may sign in: a role, and optionally the entities they are limited to."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    #: argon2id hash; empty for users who only sign in through single sign-on.
    password_hash: Mapped[str] = mapped_column(String(200))
    #: viewer, uploader or admin
    role: Mapped[str] = mapped_column(String(20))
    #: Comma-separated entity codes the user is limited to; None means every entity.
    entity_scope: Mapped[str | None] = mapped_column(String(1000))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    #: Sessions carry the epoch they began in; raising it (sign-out, deactivation) ends them all.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AuditEvent(Base):
    """Who did what, when (UTC), and how it ended. Never holds a raw staff identifier."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(300))
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(String(1000), default="")


class UploadJob(Base):
    """An upload from the browser on its way in: stored file, preview, commit, each step's progress.

    Kept in the store (not in a worker's memory) so any worker can report on it.
    """

    __tablename__ = "upload_job"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40))
    file_name: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(Integer)
    #: validating, valid, rejected, duplicate, committing, loaded, failed, cancelled
    status: Mapped[str] = mapped_column(String(20))
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    #: The ingest report (JSON) of the last step.
    report: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    #: The worker running the job's current step (None while it waits for one, or between steps).
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


#: Upload kind -> its table.
DATA_TABLES: dict[str, Table] = {
    model.__tablename__: model.__table__  # type: ignore[misc]
    for model in (Entity, DutyStation, Headcount, LearningNeed, LearningActivity, ProgrammeParticipation, KpiTarget)
}


def _history_table(table: Table) -> Table:
    columns = [Column(c.name, c.type, nullable=True) for c in table.columns]
    replaced_by = Column("replaced_by_batch", Integer, ForeignKey("upload_batch.id"), nullable=False)
    return Table(
        f"{table.name}_history",
        Base.metadata,
        *columns,
        replaced_by,
        Index(f"ix_{table.name}_history_replaced_by_batch", "replaced_by_batch"),
        Index(f"ix_{table.name}_history_batch_id", "batch_id"),
    )


#: Upload kind -> the table of rows that later uploads replaced.
HISTORY_TABLES: dict[str, Table] = {kind: _history_table(table) for kind, table in DATA_TABLES.items()}


def history_trigger_ddl(table: Table, dialect_name: str) -> list[str]:
    """DDL for the trigger that copies a row into its history table before an upsert replaces it.

    Built from the schema's own identifiers (never from input). Migrations call this;
    a migration that changes a data table's columns must drop and recreate its trigger.
    """
    history = HISTORY_TABLES[table.name]
    names = [c.name for c in table.columns]
    target_list = ", ".join([*names, "replaced_by_batch"])
    old_values = ", ".join([*(f"OLD.{n}" for n in names), "NEW.batch_id"])
    # Identifiers come from the schema, never from input (bandit B608 / ruff S608 explained).
    insert = f"INSERT INTO {history.name} ({target_list}) VALUES ({old_values});"  # noqa: S608  # nosec B608
    trigger = f"trg_{table.name}_keep_replaced"
    if dialect_name == "sqlite":
        return [f"CREATE TRIGGER {trigger} BEFORE UPDATE ON {table.name} FOR EACH ROW BEGIN {insert} END"]
    if dialect_name == "postgresql":
        function = f"{table.name}_keep_replaced"
        return [
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {insert} RETURN NEW; END $$",
            f"CREATE TRIGGER {trigger} BEFORE UPDATE ON {table.name} FOR EACH ROW EXECUTE FUNCTION {function}()",
        ]
    raise NotImplementedError(f"history triggers are written for sqlite and postgresql, not {dialect_name}")


def drop_history_trigger_ddl(table: Table, dialect_name: str) -> list[str]:
    trigger = f"trg_{table.name}_keep_replaced"
    if dialect_name == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {trigger} ON {table.name}",
            f"DROP FUNCTION IF EXISTS {table.name}_keep_replaced()",
        ]
    return [f"DROP TRIGGER IF EXISTS {trigger}"]

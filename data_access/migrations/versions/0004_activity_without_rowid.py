"""learning_activity: one B-tree (WITHOUT ROWID on SQLite), no batch_id index

The table is the big one (millions of rows). Stored as its natural-key B-tree on SQLite, and
without a separate batch_id index, a bulk load writes about a third fewer bytes. Only a rollback
filters on batch_id, and a scan is fine for that rare step.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from data_access.schema import DATA_TABLES, drop_history_trigger_ddl, history_trigger_ddl

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLE = "learning_activity"


def upgrade() -> None:
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)


def _rebuild(with_rowid: bool) -> None:
    dialect = op.get_bind().dialect.name
    table = DATA_TABLES[TABLE]
    for statement in drop_history_trigger_ddl(table, dialect):
        op.execute(statement)
    if dialect == "sqlite":
        with op.batch_alter_table(TABLE, recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}) as batch:
            _batch_index(batch, with_rowid)
    else:
        with op.batch_alter_table(TABLE) as batch:
            _batch_index(batch, with_rowid)
    for statement in history_trigger_ddl(table, dialect):
        op.execute(statement)


def _batch_index(batch, create: bool) -> None:  # type: ignore[no-untyped-def]
    if create:
        batch.create_index("ix_learning_activity_batch_id", ["batch_id"], unique=False)
    else:
        batch.drop_index("ix_learning_activity_batch_id")

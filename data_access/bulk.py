"""Bulk upserts of validated rows, the fastest way each database offers.

Rows go into a temporary staging table (SQLite: the driver's ``executemany`` of a
compiled INSERT; PostgreSQL: ``COPY``), then one ``INSERT ... SELECT ... ORDER BY key ON
CONFLICT DO UPDATE`` moves them into place. Either way the history trigger keeps every replaced row, and
every statement is a SQLAlchemy construct with bound values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Column, Connection, MetaData, Table, insert, select, true
from sqlalchemy.dialects import postgresql, sqlite

from data_access.contract import Kind


def _upsert(dialect_insert: Any, table: Table, source: Any) -> Any:
    keys = [c.name for c in table.primary_key.columns]
    statement = dialect_insert(table).from_select([c.name for c in table.columns], source)
    updates = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    return statement.on_conflict_do_update(index_elements=keys, set_=updates)


def rows_for_table(kind: Kind, table: Table, clean: pd.DataFrame, batch_id: int) -> list[tuple[Any, ...]]:
    """Python tuples in the table's column order: NULL for absent optional values, '' for key parts."""
    key_names = set(kind.key_columns)
    columns: list[Sequence[Any]] = []
    for column in table.columns:
        if column.name == "batch_id":
            columns.append([batch_id] * len(clean))
            continue
        values = clean[column.name]
        if pd.api.types.is_string_dtype(values.dtype):
            as_objects = values.to_numpy(dtype=object, na_value="")
            if column.name not in key_names and column.nullable:
                as_objects[as_objects == ""] = None
            columns.append(as_objects.tolist())
        else:
            columns.append(values.astype(object).where(values.notna(), None).tolist())
    return list(zip(*columns, strict=True))


class BulkWriter:
    """Upserts chunks into one table inside the caller's transaction."""

    def __init__(self, conn: Connection, kind: Kind, table: Table) -> None:
        self.conn, self.kind, self.table = conn, kind, table
        self.postgres = conn.dialect.name == "postgresql"
        # Rows go to an unindexed temporary table first; one INSERT ... SELECT ... ORDER BY key
        # then upserts them all, which keeps index writes in key order and out of Python.
        self.staging = Table(
            f"staging_{table.name}",
            MetaData(),
            *(Column(c.name, c.type) for c in table.columns),
            prefixes=["TEMPORARY"],
            postgresql_on_commit="DROP",
        )
        self.staging.drop(conn, checkfirst=True)
        self.staging.create(conn)
        if self.postgres:
            from psycopg import sql

            self.copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(self.staging.name),
                sql.SQL(", ").join(sql.Identifier(c.name) for c in table.columns),
            )
        else:
            compiled = insert(self.staging).compile(dialect=conn.dialect)
            if list(compiled.positiontup or []) != [c.name for c in table.columns]:
                raise RuntimeError("compiled insert does not bind columns in table order")
            self.sqlite_sql = str(compiled)

    def write(self, clean: pd.DataFrame, batch_id: int) -> None:
        rows = rows_for_table(self.kind, self.table, clean, batch_id)
        driver = self.conn.connection.driver_connection
        if self.postgres:
            with driver.cursor() as cursor, cursor.copy(self.copy_sql) as stream:
                for row in rows:
                    stream.write_row(row)
        else:
            driver.executemany(self.sqlite_sql, rows)

    def finish(self) -> None:
        keys = [self.staging.c[c.name] for c in self.table.primary_key.columns]
        source = select(self.staging).where(true()).order_by(*keys)
        dialect_insert = postgresql.insert if self.postgres else sqlite.insert
        self.conn.execute(_upsert(dialect_insert, self.table, source))
        self.staging.drop(self.conn)

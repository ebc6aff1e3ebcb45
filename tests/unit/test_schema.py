"""The schema, the contract and the migrations agree."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from data_access.contract import KINDS
from data_access.engine import get_engine
from data_access.ingest import load as ingest
from data_access.migrate import current_revision, downgrade, head_revision, upgrade
from data_access.schema import DATA_TABLES, HISTORY_TABLES, Base
from tests.helpers import activity, load, load_reference, table_rows, to_csv


def test_every_kind_has_a_table_with_the_contract_columns_and_key():
    assert set(DATA_TABLES) == set(KINDS)
    for name, kind in KINDS.items():
        table = DATA_TABLES[name]
        assert [c.name for c in table.columns] == [*kind.column_names, "batch_id"]
        assert sorted(c.name for c in table.primary_key.columns) == sorted(kind.key_columns)
        assert [c.name for c in HISTORY_TABLES[name].columns] == [*kind.column_names, "batch_id", "replaced_by_batch"]


def test_the_activity_key_starts_with_the_date_so_a_month_is_one_range():
    assert [c.name for c in DATA_TABLES["learning_activity"].primary_key.columns][0] == "enrolled_on"


def test_a_new_sqlite_store_has_16_kib_pages_and_a_write_ahead_log(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'new.db'}")
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 16384
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_migrations_build_exactly_the_models(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_an_existing_database_upgrades_in_place(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine)
    upgrade(engine)  # a second run is a no-op
    assert current_revision(engine) == head_revision()


def test_the_activity_table_rebuild_keeps_rows_and_the_history_trigger(tmp_path, monkeypatch):
    engine = get_engine(f"sqlite:///{tmp_path / 'before-0004.db'}")
    upgrade(engine, "0003")
    monkeypatch.setattr(ingest, "MONTHS_RECORDED", {})  # as loads did then (upload_batch_month is 0007's)
    monkeypatch.setattr(ingest._EntitiesSeen, "record", lambda *args: None)  # and upload_batch_entity is 0009's
    load_reference(engine)
    assert load(engine, "learning_activity", to_csv([activity(1), activity(2)])).status == "loaded"
    upgrade(engine)
    assert len(table_rows(engine, "learning_activity")) == 2
    assert load(engine, "learning_activity", to_csv([activity(1, hours="7")]), "again.csv").rows_replaced == 1
    assert len(table_rows(engine, "learning_activity", history=True)) == 1
    with engine.connect() as conn:
        ddl = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'learning_activity'").scalar()
    assert ddl.rstrip().endswith("WITHOUT ROWID")
    assert "PRIMARY KEY (enrolled_on, platform, learner_id, course_id)" in ddl


def test_the_activity_key_change_undoes_and_redoes_with_the_rows(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'rekey.db'}")
    upgrade(engine)
    load_reference(engine)
    assert load(engine, "learning_activity", to_csv([activity(1), activity(2)])).status == "loaded"
    downgrade(engine, "0005")
    with engine.connect() as conn:
        ddl = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'learning_activity'").scalar()
    assert "PRIMARY KEY (platform, learner_id, course_id, enrolled_on)" in ddl
    upgrade(engine)
    assert len(table_rows(engine, "learning_activity")) == 2
    assert load(engine, "learning_activity", to_csv([activity(2, hours="7")]), "again.csv").rows_replaced == 1

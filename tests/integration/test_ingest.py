"""The ingest pipeline against a real database: file forms, rules, all-or-nothing, upserts."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import event

from data_access import engine as engine_module
from data_access.batches import rollback_batch
from data_access.engine import wait_for_checkpoints
from data_access.ingest import bulk
from data_access.ingest import read as reading
from data_access.ingest.validate import HIDDEN
from tests.helpers import DUTY_STATIONS, activity, load, load_reference, table_rows, to_csv


@pytest.fixture
def store(engine):  # type: ignore[no-untyped-def]
    load_reference(engine)
    return engine


def test_reference_data_keeps_accents_and_normalises_values(store):
    rows = {r[0]: r for r in table_rows(store, "duty_stations")}
    assert rows["CI-ABIDJAN"][1] == "Abidjan, Côte d'Ivoire"
    assert rows["CD-GOMA"][3] in ("False", "0")  # "no" is a boolean false
    assert rows["US-NEWYORK"][3] in ("True", "1")


@pytest.mark.parametrize(
    ("encoding", "delimiter", "newline"),
    [
        ("utf-8", ",", "\n"),
        ("utf-8-sig", ",", "\r\n"),
        ("utf-16", "\t", "\r\n"),
        ("cp1252", ";", "\r\n"),
        ("latin-1", ";", "\n"),
    ],
)
def test_csv_forms_people_bring(engine, encoding, delimiter, newline):
    payload = to_csv(
        [dict(row, duty_station_name=row["duty_station_name"]) for row in DUTY_STATIONS],
        delimiter=delimiter,
        encoding=encoding,
        newline=newline,
    )
    result = load(engine, "duty_stations", payload, "ds.csv")
    assert result.status == "loaded", result.errors
    names = {r[0]: r[1] for r in table_rows(engine, "duty_stations")}
    assert names["CI-ABIDJAN"] == "Abidjan, Côte d'Ivoire"


def test_quoted_fields_with_commas_quotes_and_newlines(store):
    title = 'Leading "hybrid" teams,\nwith care'
    result = load(store, "learning_activity", to_csv([activity(1, course_title=title)]))
    assert result.status == "loaded", result.errors
    assert table_rows(store, "learning_activity")[0][10] == title


def test_semicolon_file_with_decimal_comma(store):
    result = load(store, "learning_activity", to_csv([activity(1, hours="12,5")], delimiter=";"))
    assert result.status == "loaded", result.errors
    assert table_rows(store, "learning_activity")[0][12] == "12.5"


def test_header_matching_ignores_case_spaces_and_reports_extra_columns(store):
    raw = to_csv([activity(1)]).decode().replace("platform,", " Platform ,", 1).replace("hours", "HOURS")
    raw = raw.replace("\n", ",extra\n").replace("2.5,extra", "2.5,ignored")
    result = load(store, "learning_activity", raw.encode())
    assert result.status == "loaded", result.errors
    assert any("extra" in w for w in result.warnings)


def test_xlsx_first_sheet_or_the_sheet_named_after_the_kind(store):
    workbook = openpyxl.Workbook()
    notes = workbook.active
    notes.title = "Notes"
    notes.append(["this sheet is not data"])
    sheet = workbook.create_sheet("learning_activity")
    rows = [activity(1), activity(2, status="enrolled", completed_on="", hours="")]
    sheet.append(list(rows[0]))
    import datetime as dt

    for row in rows:
        values = list(row.values())
        values[3] = dt.datetime(2024, 3, 1)  # a real Excel date cell
        values[12] = float(row["hours"]) if row["hours"] else None
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = load(store, "learning_activity", buffer.getvalue(), "activity.xlsx")
    assert result.status == "loaded", result.errors
    assert result.rows_inserted == 2
    assert {r[3] for r in table_rows(store, "learning_activity")} == {"2024-03-01"}


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["31/03/2024", "01/02/2024"], ["2024-03-31", "2024-02-01"]),  # day first: 31 > 12
        (["03/31/2024", "01/02/2024"], ["2024-03-31", "2024-01-02"]),  # month first: 31 > 12
    ],
)
def test_slash_dates_when_the_whole_column_is_unambiguous(store, dates, expected):
    rows = [activity(i, enrolled_on=d, completed_on="", status="enrolled") for i, d in enumerate(dates)]
    result = load(store, "learning_activity", to_csv(rows))
    assert result.status == "loaded", result.errors
    assert sorted(r[3] for r in table_rows(store, "learning_activity")) == sorted(expected)


def test_ambiguous_or_bad_dates_are_errors_naming_row_and_column(store):
    rows = [
        activity(1, enrolled_on="01/02/2024", status="enrolled", completed_on=""),
        activity(2, enrolled_on="2024-02-30", status="enrolled", completed_on=""),
        activity(3, enrolled_on="March 3rd", status="enrolled", completed_on=""),
    ]
    result = load(store, "learning_activity", to_csv(rows))
    assert result.status == "rejected"
    found = {(e.row, e.column): e.reason for e in result.errors}
    assert "cannot be told apart" in found[(2, "enrolled_on")]
    assert found[(3, "enrolled_on")] == "not a real date"
    assert "not a date" in found[(4, "enrolled_on")]


def test_every_rule_reports_row_column_value_and_reason(store):
    rows = [
        activity(1, entity_code="NOPE"),  # unknown code
        activity(2, duty_station_code="bad code!"),  # code shape
        activity(3, staff_category="Intern"),  # vocabulary
        activity(4, status="completed", completed_on=""),  # required when completed
        activity(5, completed_on="2024-01-01"),  # before enrolled_on
        activity(6, hours="-3"),  # minimum
        activity(7, hours="lots"),  # number
        activity(8, gender=""),  # required value
        activity(9, course_title="x" * 301),  # length
    ]
    result = load(store, "learning_activity", to_csv(rows))
    assert result.status == "rejected"
    got = {(e.row, e.column) for e in result.errors}
    assert got == {
        (2, "entity_code"),
        (3, "duty_station_code"),
        (4, "staff_category"),
        (5, "completed_on"),
        (6, "completed_on"),
        (7, "hours"),
        (8, "hours"),
        (9, "gender"),
        (10, "course_title"),
    }
    assert all(e.reason for e in result.errors)
    assert table_rows(store, "learning_activity") == []


def test_raw_learner_ids_are_never_stored_or_shown(store):
    rows = [activity(1, learner_id="alice@un.org"), activity(2, learner_id="x" * 300)]
    result = load(store, "learning_activity", to_csv(rows))
    assert result.status == "rejected"
    assert [e.value for e in result.errors if e.column == "learner_id"] == [HIDDEN]
    assert load(store, "learning_activity", to_csv(rows[:1])).status == "loaded"
    stored = table_rows(store, "learning_activity")[0][1]
    assert "alice" not in stored and len(stored) == 32


def test_duplicate_natural_key_in_one_file_names_both_rows(store):
    rows = [activity(1), activity(2), activity(1, hours="4")]
    result = load(store, "learning_activity", to_csv(rows))
    assert result.status == "rejected"
    assert [(e.row, e.reason) for e in result.errors] == [
        (4, "same natural key (platform+learner_id+course_id+enrolled_on) as row 2")
    ]


@pytest.mark.parametrize("sorted_move_runs", [bulk.SORTED_MOVE_RUNS, 0], ids=["run-by-run", "sorted"])
def test_repeated_keys_across_sorted_runs_and_beside_other_errors(store, monkeypatch, sorted_move_runs):
    monkeypatch.setattr(reading, "CSV_BLOCK_BYTES", 1 << 9)  # several staged runs, the repeat in a later one
    monkeypatch.setattr(bulk, "RUN_ROWS", 2)
    monkeypatch.setattr(bulk, "SORTED_MOVE_RUNS", sorted_move_runs)
    rows = [activity(n) for n in range(1, 8)] + [activity(3, hours="9")]
    result = load(store, "learning_activity", to_csv(rows))
    assert result.status == "rejected"
    assert [(e.row, e.reason) for e in result.errors] == [
        (9, "same natural key (platform+learner_id+course_id+enrolled_on) as row 4")
    ]
    rows[1]["hours"] = "lots"
    result = load(store, "learning_activity", to_csv(rows))
    assert [(e.row, e.column) for e in result.errors] == [
        (3, "hours"),
        (9, "platform+learner_id+course_id+enrolled_on"),
    ]
    assert table_rows(store, "learning_activity") == []


def test_a_date_that_rolls_over_is_not_real_even_when_the_column_looks_clean(store):
    rows = [activity(1), activity(2, enrolled_on="2023-02-29", completed_on="2023-03-20")]
    result = load(store, "learning_activity", to_csv(rows))
    assert [(e.row, e.column, e.reason) for e in result.errors] == [(3, "enrolled_on", "not a real date")]


def test_reference_codes_rolled_back_while_an_upload_was_validated(store, monkeypatch):
    if store.dialect.name != "sqlite":
        pytest.skip("on PostgreSQL the codes are read inside the write transaction")
    extra = {**DUTY_STATIONS[0], "duty_station_code": "KE-NAIROBI", "duty_station_name": "Nairobi"}
    added = load(store, "duty_stations", to_csv([extra]), "more.csv")
    finish = bulk.ScratchStage.finish

    def roll_back_first(self):  # type: ignore[no-untyped-def]
        rollback_batch(store, added.batch_id, rolled_back_by="admin")
        finish(self)

    monkeypatch.setattr(bulk.ScratchStage, "finish", roll_back_first)
    result = load(store, "learning_activity", to_csv([activity(1, duty_station_code="KE-NAIROBI")]))
    assert result.status == "rejected"
    assert "duty_stations reference data changed during this upload" in result.errors[0].reason
    assert table_rows(store, "learning_activity") == []


def test_missing_required_column_and_unknown_need_warning(store):
    rows = [activity(1, learning_need="Negotiation")]
    assert load(store, "learning_activity", to_csv(rows)).warnings[0].startswith("learning_need")
    broken = [{k: v for k, v in activity(2).items() if k != "status"}]
    result = load(store, "learning_activity", to_csv(broken))
    assert result.status == "rejected"
    assert [(e.row, e.column) for e in result.errors] == [(1, "status")]


def test_all_or_nothing_with_a_bad_row_deep_in_a_large_file(store):
    rows = [activity(i) for i in range(120_000)]
    rows[-7]["hours"] = "-1"
    result = load(store, "learning_activity", to_csv(rows), "big.csv")
    assert result.status == "rejected"
    assert [(e.row, e.column) for e in result.errors] == [(120_000 + 1 - 7 + 1, "hours")]
    assert result.rows_read == 120_000
    assert table_rows(store, "learning_activity") == []


def test_errors_are_all_counted_and_the_list_is_capped(store):
    rows = [activity(i, hours="-1") for i in range(50)]
    result = load(store, "learning_activity", to_csv(rows), max_errors=10)
    assert result.error_count == 50
    assert len(result.errors) == 10


@pytest.mark.parametrize(
    ("payload", "name", "reason"),
    [
        (b"\x1f\x8b\x08\x00rest", "data.csv", "gzip"),
        (b"PK\x03\x04\x14\x00\x00\x00somefile.csv", "data.csv", "ZIP archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "data.xls", "old Excel"),
        (b"%PDF-1.7 ...", "data.csv", "PDF"),
        (b"abc\x00\x01\x02\x03", "data.csv", "binary"),
        (b"", "empty.csv", "empty"),
        (b"platform,learner_id\n", "x.xlsx", "not an Excel workbook"),
    ],
)
def test_files_that_are_not_tables_are_refused_by_their_first_bytes(store, payload, name, reason):
    result = load(store, "learning_activity", payload, name)
    assert result.status == "rejected"
    assert reason in result.errors[0].reason


def test_broken_rows_are_reported_with_their_row_number(store):
    good = to_csv([activity(1), activity(2)]).decode()
    broken = good + "LinkedIn Learning,S9,only-three-fields\n"
    result = load(store, "learning_activity", broken.encode())
    assert result.status == "rejected"
    assert [e.row for e in result.errors] == [4]
    assert "expected 13 fields" in result.errors[0].reason


def test_same_file_twice_is_recognised(store):
    payload = to_csv([activity(1), activity(2)])
    first = load(store, "learning_activity", payload, "a.csv")
    second = load(store, "learning_activity", payload, "renamed.csv")
    assert (first.status, second.status) == ("loaded", "duplicate")
    assert second.batch_id == first.batch_id
    assert len(table_rows(store, "learning_activity")) == 2


def test_overlapping_cumulative_exports_never_double_count(store):
    january = [activity(i, status="in_progress", completed_on="") for i in range(10)]
    february = [activity(i) for i in range(5)] + january[5:] + [activity(i) for i in range(10, 15)]
    first = load(store, "learning_activity", to_csv(january), "jan.csv")
    second = load(store, "learning_activity", to_csv(february), "feb.csv")
    assert (first.rows_inserted, first.rows_replaced) == (10, 0)
    assert (second.rows_inserted, second.rows_replaced) == (5, 10)
    rows = table_rows(store, "learning_activity")
    assert len(rows) == 15
    assert sum(r[8] == "completed" for r in rows) == 10  # latest upload wins


def test_a_dry_run_counts_what_would_change_and_writes_nothing(store):
    first = to_csv([activity(1), activity(2)])
    assert load(store, "learning_activity", first, "first.csv").status == "loaded"
    before = table_rows(store, "learning_activity")
    seen: list[int] = []
    second = to_csv([activity(2, hours="4"), activity(3)])
    result = load(store, "learning_activity", second, "second.csv", dry_run=True, progress=seen.append)
    assert (result.status, result.rows_inserted, result.rows_replaced, result.batch_id) == ("valid", 1, 1, None)
    assert seen == [2]
    assert table_rows(store, "learning_activity") == before
    assert table_rows(store, "learning_activity", history=True) == []
    assert load(store, "learning_activity", second, "second.csv").status == "loaded"  # not taken for a duplicate


def test_a_bulk_load_is_checkpointed_after_its_commit_not_during_it(store, monkeypatch):
    if store.dialect.name != "sqlite":
        pytest.skip("SQLite's write-ahead log only")
    database = Path(store.url.database)
    with store.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    before = database.stat().st_size
    asked = []
    monkeypatch.setattr(engine_module, "_checkpoint", asked.append)
    rows = [activity(i) for i in range(40_000)]  # about 2000 pages, over the 1000 that trigger a checkpoint
    assert load(store, "learning_activity", to_csv(rows)).status == "loaded"
    wait_for_checkpoints()
    assert asked == [store]
    assert database.stat().st_size == before  # the commit left its pages in the log
    with store.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000  # other commits checkpoint
    monkeypatch.undo()
    engine_module._checkpoint(store)
    assert database.stat().st_size > before + 1000 * 4096
    assert len(table_rows(store, "learning_activity")) == 40_000


def test_many_staged_runs_are_moved_in_key_order_with_the_same_result(store, monkeypatch):
    if store.dialect.name != "sqlite":
        pytest.skip("the scratch stage is SQLite's")
    monkeypatch.setattr(reading, "CSV_BLOCK_BYTES", 1 << 10)  # a chunk, so a run, per kilobyte of CSV
    monkeypatch.setattr(bulk, "RUN_ROWS", 1)
    monkeypatch.setattr(bulk, "SORTED_MOVE_RUNS", 3)
    moves = []

    @event.listens_for(store, "before_cursor_execute")
    def seen(conn, cursor, statement, *_):  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO learning_activity"):
            moves.append(statement)

    try:
        assert load(store, "learning_activity", to_csv([activity(n) for n in range(40)])).status == "loaded"
        again = [activity(n, hours="9") for n in range(39, 42)]
        result = load(store, "learning_activity", to_csv(again), "again.csv")
    finally:
        event.remove(store, "before_cursor_execute", seen)
    assert "ORDER BY" in moves[0]  # 6 KB, 6 runs: sorted
    assert "ORDER BY" not in moves[1]  # under 1 KB, 1 run: as it is
    assert (result.rows_inserted, result.rows_replaced) == (2, 1)
    hours = [float(row[12]) for row in table_rows(store, "learning_activity")]
    assert len(hours) == 42 and hours.count(9.0) == 3

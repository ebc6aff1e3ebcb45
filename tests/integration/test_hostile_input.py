"""Hostile and broken uploads: never a crash, never a partial write, always a message that says what and where."""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_access.contract import KINDS
from tests.helpers import activity, load, load_reference, table_rows, to_csv

COLUMNS = [column.name for column in KINDS["learning_activity"].columns]
NASTY = ["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(1)", '"', '""', "\n", "\r\n", ",", ";", "\t", "\x00", "é", "😀",
         "Côte d'Ivoire", "2024-13-45", "31/02/2024", "NaN", "-0", "1e309", " ", "null", "<script>"]  # fmt: skip


@pytest.fixture
def store(engine):  # type: ignore[no-untyped-def]
    load_reference(engine)
    return engine


def snapshot(engine) -> tuple:  # type: ignore[no-untyped-def, type-arg]
    return tuple(table_rows(engine, kind) for kind in ("learning_activity", "entities", "duty_stations"))


def check(engine, payload: bytes, name: str = "upload.csv") -> None:  # type: ignore[no-untyped-def]
    before = snapshot(engine)
    result = load(engine, "learning_activity", payload, name)
    assert result.status in ("loaded", "rejected", "duplicate")
    if result.status != "loaded":
        assert snapshot(engine) == before, "a refused upload changed the store"
    if result.status == "rejected":
        assert result.errors, "a rejected upload must say why"
        for error in result.errors:
            assert error.reason


cells = st.one_of(st.sampled_from(NASTY), st.text(max_size=30), st.sampled_from(["2024-03-01", "completed", "P"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.lists(st.one_of(st.sampled_from(COLUMNS), st.text(max_size=12)), min_size=1, max_size=16),
    rows=st.lists(st.lists(cells, min_size=0, max_size=18), max_size=8),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
)
def test_generated_tables_never_crash_or_half_write(store, header, rows, delimiter, encoding):
    text = "\n".join(delimiter.join(row) for row in [header, *rows])
    check(store, text.encode(encoding, errors="replace"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.binary(max_size=2000))
def test_generated_bytes_never_crash_or_half_write(store, payload):
    check(store, payload)


def valid_rows() -> bytes:
    return to_csv([activity(1), activity(2)])


def zipped(payload: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.csv", payload)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("payload", "name"),
    [
        (zipped(b"a,b\n1,2\n"), "renamed-archive.csv"),
        (gzip.compress(b"a,b\n1,2\n"), "export.csv"),
        (b"%PDF-1.7\n...", "report.csv"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old-excel.csv"),
        (b"MZ\x90\x00\x03", "setup.exe.csv"),
        (b"", "empty.csv"),
        (b"\xef\xbb\xbf", "bom-only.csv"),
        (b'platform,learner_id\n"LinkedIn Learning,S1\n', "unterminated-quote.csv"),
        (valid_rows().replace(b"Data Analysis Foundations", b"x" * 2_000_000), "huge-field.csv"),
        (valid_rows().replace(b"Data Analysis Foundations", b'=HYPERLINK("http://evil")'), "formula.csv"),
        (valid_rows().replace(b"LinkedIn Learning", b"Linked\x00In"), "nul-byte.csv"),
        (valid_rows(), "../../etc/passwd.csv"),
        (valid_rows(), "<script>alert(1)</script>.csv"),
        (valid_rows(), "x" * 1000 + ".csv"),
        (valid_rows(), "CON.csv"),
    ],
)
def test_hand_made_hostile_files(store, payload, name):
    check(store, payload, name)


def test_formula_cells_are_stored_as_text_and_a_long_name_is_cut(store):
    payload = valid_rows().replace(b"Data Analysis Foundations", b"=1+1")
    result = load(store, "learning_activity", payload, "y" * 1000 + ".csv")
    assert result.status == "loaded"
    titles = {row[10] for row in table_rows(store, "learning_activity")}
    assert "=1+1" in titles


def test_control_characters_are_refused_with_their_row_and_column(store):
    rows = [activity(n) for n in range(3000)]  # past the first 64 KB
    rows[1]["course_title"] = "Ctl\x01Title"
    rows[2900]["course_title"] = "a NUL \x00 here"
    result = load(store, "learning_activity", to_csv(rows), "control.csv")
    assert result.status == "rejected"
    found = {(e.row, e.column) for e in result.errors if "control character" in e.reason}
    assert found == {(3, "course_title"), (2902, "course_title")}
    assert table_rows(store, "learning_activity") == []


def _workbook_with_a_huge_cell(text_bytes: int, part: str) -> bytes:
    """A valid .xlsx (header and one row) with one cell of ``text_bytes`` letters, packed small: written into
    the sheet itself (``part`` "xl/worksheets/sheet1.xml") or as a part of shared strings ("xl/sharedStrings.xml")."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(COLUMNS)
    book.active.append(
        ["Coursera", "S1", "C1", "2024-01-01", "DMSPC", "US-NEWYORK", "P", "female", "enrolled", "", "X"]
    )
    plain = io.BytesIO()
    book.save(plain)
    source, packed = zipfile.ZipFile(plain), io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for item in source.infolist():
            if item.filename != part:
                target.writestr(item, source.read(item.filename))
        with target.open(part, "w", force_zip64=True) as stream:
            if part.endswith("sharedStrings.xml"):
                before, after = (
                    b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>',
                    b"</t></si></sst>",
                )
            else:
                before, after = source.read(part).split(b"X", 1)
            stream.write(before)
            for _ in range(text_bytes >> 20):
                stream.write(b"A" * (1 << 20))
            stream.write(after)
    return packed.getvalue()


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"])
def test_a_small_workbook_that_unpacks_to_gigabytes_is_refused_before_it_is_read(store, part):
    import subprocess
    import sys
    import tempfile

    payload = _workbook_with_a_huge_cell(600 << 20, part)
    assert len(payload) < 1 << 20  # under a megabyte, packed
    result = load(store, "learning_activity", payload, "bomb.xlsx")
    assert result.status == "rejected"
    assert "decompression bomb" in result.errors[0].reason or "MB unpacked" in result.errors[0].reason
    # Its peak memory, in a process of its own (VmHWM: a forked child's getrusage starts from its parent's).
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as handle:
        handle.write(payload)
        handle.flush()
        script = (
            "import sys; from data_access.ingest.read import open_table, opener_for, UploadFormatError\n"
            "try: open_table(opener_for(sys.argv[1]), 'bomb.xlsx', 'learning_activity')\n"
            "except UploadFormatError: pass\n"
            "print(next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM')))"
        )
        peak_kb = int(subprocess.run([sys.executable, "-c", script, handle.name], capture_output=True, check=True,
                                     text=True).stdout)  # fmt: skip
    assert peak_kb < 400_000, f"{peak_kb / 1024:.0f} MB"

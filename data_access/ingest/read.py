"""Reading the files people bring: CSV in the usual encodings and delimiters, and .xlsx.

A file is read in chunks of strings, so a file of millions of rows never sits in
memory whole. Every chunk carries ``ROW``: the row number as a spreadsheet shows
it (the header is row 1).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

ROW = "__row__"
CSV_BLOCK_BYTES = 8 << 20
XLSX_CHUNK_ROWS = 50_000
SNIFF_BYTES = 64 << 10

FileFormat = Literal["csv", "xlsx"]
Opener = Callable[[], BinaryIO]


class UploadFormatError(ValueError):
    """The file cannot be read as a table at all (wrong type, broken structure)."""


@dataclass
class MalformedRow:
    row: int | None
    fields: int
    expected: int
    text: str


# First bytes of files that are not tables, with what to tell the person who brought them.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"BZh", "a bzip2-compressed file"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel .xls (or other Office 97-2003) file; save it as .xlsx or CSV"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
    (b"SQLite format 3\x00", "a SQLite database"),
)
_ZIP = b"PK\x03\x04"


def opener_for(source: str | os.PathLike[str] | bytes) -> Opener:
    """A function that opens a fresh binary stream over ``source`` each time it is called."""
    if isinstance(source, bytes):
        return lambda: io.BytesIO(source)
    path = Path(source)
    return lambda: path.open("rb")


def detect_format(head: bytes, file_name: str) -> FileFormat:
    """Decide CSV or .xlsx from the file's first bytes (not its name); refuse anything else."""
    if not head:
        raise UploadFormatError("the file is empty")
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            raise UploadFormatError(f"this is {what}, not a CSV or .xlsx table")
    if head.startswith(_ZIP):
        if b"[Content_Types].xml" in head or b"xl/" in head:
            return "xlsx"
        raise UploadFormatError("this is a ZIP archive, not a CSV or .xlsx table; unpack it and upload the file inside")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "csv"
    if b"\x00" in head:
        raise UploadFormatError("this is a binary file, not a CSV or .xlsx table")
    if file_name.lower().endswith((".xlsx", ".xlsm")):
        raise UploadFormatError("the file is named .xlsx but is not an Excel workbook")
    return "csv"


def detect_encoding(open_file: Opener) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252, else Latin-1."""
    with open_file() as handle:
        head = handle.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8"  # pyarrow drops the BOM itself
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        handle.seek(0)
        for encoding in ("utf-8", "cp1252"):
            if _decodes(handle, encoding):
                return encoding
            handle.seek(0)
    return "latin-1"


def _decodes(handle: BinaryIO, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while block := handle.read(16 << 20):
            decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _header_and_delimiter(open_file: Opener, encoding: str) -> tuple[list[str], str]:
    with open_file() as handle:
        text = handle.read(SNIFF_BYTES).decode(encoding, errors="replace").lstrip("\ufeff")
    first_line = text.splitlines()[0] if text else ""
    if not first_line.strip():
        raise UploadFormatError("the first row is empty: it must hold the column names")
    delimiter = max((",", ";", "\t"), key=first_line.count)
    try:
        header = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise UploadFormatError(f"row 1 (the column names) cannot be read: {exc}") from None
    return header, delimiter


@dataclass
class TableFile:
    """An opened upload: its header and a way to read its rows in chunks (repeatably)."""

    format: FileFormat
    header: list[str]
    open_file: Opener
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    malformed: list[MalformedRow] = field(default_factory=list)

    def chunks(self) -> Iterator[pd.DataFrame]:
        """DataFrames of stripped strings ('' when empty), header names as columns, plus ``ROW``."""
        if self.format == "csv":
            yield from self._csv_chunks()
        else:
            yield from self._xlsx_chunks()

    def _csv_chunks(self) -> Iterator[pd.DataFrame]:
        self.malformed = []
        names = [f"c{i}" for i in range(len(self.header))]
        bad: list[MalformedRow] = []

        def on_invalid(row: pacsv.InvalidRow) -> str:
            bad.append(MalformedRow(None, row.actual_columns, row.expected_columns, row.text[:200]))
            return "skip"

        reader_options = pacsv.ReadOptions(
            encoding=self.encoding or "utf-8",
            block_size=CSV_BLOCK_BYTES,
            column_names=names,
            skip_rows=1,
            use_threads=True,
        )
        parse_options = pacsv.ParseOptions(
            delimiter=self.delimiter or ",",
            newlines_in_values=True,
            invalid_row_handler=on_invalid,
        )
        convert_options = pacsv.ConvertOptions(
            column_types={n: pa.large_string() for n in names},  # pandas' own string type: no copy
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            null_values=[],
        )
        next_row = 2

        def next_frame(batches: Iterator[pa.RecordBatch]) -> pd.DataFrame | None:
            batch = next(batches, None)
            if batch is None:
                return None
            trimmed = [pc.utf8_trim_whitespace(column) for column in batch.columns]
            frame = pa.RecordBatch.from_arrays(trimmed, names=names).to_pandas()
            frame.columns = self.header
            return frame

        # The next block is parsed (in Arrow, outside the GIL) while the caller validates this one.
        with self.open_file() as handle, ThreadPoolExecutor(1, thread_name_prefix="csv-read-ahead") as ahead:
            try:
                batches = iter(pacsv.open_csv(handle, reader_options, parse_options, convert_options))
                upcoming = ahead.submit(next_frame, batches)
                while (frame := upcoming.result()) is not None:
                    upcoming = ahead.submit(next_frame, batches)
                    frame[ROW] = range(next_row, next_row + len(frame))
                    next_row += len(frame)
                    yield frame
            except pa.ArrowInvalid as exc:
                bad.append(MalformedRow(None, 0, len(self.header), str(exc)[:200]))
        if bad:
            self.malformed = locate_malformed_rows(self, limit=len(bad)) or bad

    def _xlsx_chunks(self) -> Iterator[pd.DataFrame]:
        from openpyxl import load_workbook

        with self.open_file() as handle:
            workbook = load_workbook(handle, read_only=True, data_only=True)
            try:
                sheet = workbook[self.sheet] if self.sheet else workbook.worksheets[0]
                rows = sheet.iter_rows(values_only=True)
                width = len(self.header)
                header_seen = False
                buffer: list[list[str]] = []
                numbers: list[int] = []
                for number, values in enumerate(rows, start=1):
                    if number > XLSX_MAX_ROWS:
                        raise UploadFormatError(f"the sheet has more than {XLSX_MAX_ROWS:,} rows, Excel's own limit")
                    cells = [_cell_text(v) for v in values[:width]]
                    if not any(cells):
                        continue
                    if not header_seen:
                        header_seen = True
                        continue
                    cells += [""] * (width - len(cells))
                    buffer.append(cells)
                    numbers.append(number)
                    if len(buffer) >= XLSX_CHUNK_ROWS:
                        yield _xlsx_frame(buffer, numbers, self.header)
                        buffer, numbers = [], []
                if buffer:
                    yield _xlsx_frame(buffer, numbers, self.header)
            finally:
                workbook.close()


def _xlsx_frame(rows: list[list[str]], numbers: list[int], header: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=header, dtype="str")
    frame[ROW] = numbers
    return frame


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def open_table(open_file: Opener, file_name: str, kind: str) -> TableFile:
    """Open an upload as a table: detect its format, encoding, delimiter (CSV) or sheet (.xlsx)."""
    with open_file() as handle:
        head = handle.read(SNIFF_BYTES)
    file_format = detect_format(head, file_name)
    if file_format == "xlsx":
        return _open_xlsx(open_file, kind)
    encoding = detect_encoding(open_file)
    header, delimiter = _header_and_delimiter(open_file, encoding)
    return TableFile("csv", header, open_file, encoding=encoding, delimiter=delimiter)


#: Limits on what a workbook may expand to, checked from its ZIP directory before anything is unpacked.
#: openpyxl keeps a workbook's shared strings in memory whole (the rows it streams), so they bound a
#: read's memory; the ratio check refuses parts that expand like a decompression bomb.
XLSX_MAX_SHARED_STRINGS = 128 << 20
XLSX_MAX_EXPANDED = 2 << 30
XLSX_MAX_RATIO = 100
XLSX_RATIO_FROM = 16 << 20
#: Excel's own limits on a sheet.
XLSX_MAX_ROWS = 1_048_576
XLSX_MAX_COLUMNS = 16_384


def check_workbook(open_file: Opener) -> None:
    """Refuse a workbook whose parts would expand past the limits above, before it is read."""
    try:
        with open_file() as handle, zipfile.ZipFile(handle) as archive:
            parts = archive.infolist()
    except zipfile.BadZipFile:
        raise UploadFormatError("the Excel workbook cannot be read (a damaged ZIP file)") from None
    if sum(part.file_size for part in parts) > XLSX_MAX_EXPANDED:
        raise UploadFormatError(f"the workbook expands to more than {XLSX_MAX_EXPANDED >> 30} GB: save it as CSV")
    for part in parts:
        if part.filename.lower().endswith("sharedstrings.xml") and part.file_size > XLSX_MAX_SHARED_STRINGS:
            raise UploadFormatError(
                f"the workbook's text takes more than {XLSX_MAX_SHARED_STRINGS >> 20} MB unpacked: save it as CSV"
            )
        if part.file_size > XLSX_RATIO_FROM and part.file_size > XLSX_MAX_RATIO * max(part.compress_size, 1):
            raise UploadFormatError(
                f"{part.filename} in the workbook expands {part.file_size // max(part.compress_size, 1):,} times "
                "its packed size: refused as a decompression bomb"
            )


def _open_xlsx(open_file: Opener, kind: str) -> TableFile:
    from openpyxl import load_workbook

    check_workbook(open_file)
    try:
        with open_file() as handle:
            workbook = load_workbook(handle, read_only=True, data_only=True)
            try:
                sheet_name = next((n for n in workbook.sheetnames if n.strip().lower() == kind), None)
                sheet = workbook[sheet_name] if sheet_name else workbook.worksheets[0]
                header: list[str] = []
                for values in sheet.iter_rows(values_only=True):
                    if len(values) > XLSX_MAX_COLUMNS:
                        raise UploadFormatError(f"the sheet has more than {XLSX_MAX_COLUMNS:,} columns")
                    cells = [_cell_text(v) for v in values]
                    if any(cells):
                        while cells and not cells[-1]:
                            cells.pop()
                        header = cells
                        break
            finally:
                workbook.close()
    except UploadFormatError:
        raise
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise UploadFormatError(f"the Excel workbook cannot be read ({type(exc).__name__})") from None
    if not header:
        raise UploadFormatError("the sheet is empty: its first row must hold the column names")
    return TableFile("xlsx", header, open_file, sheet=sheet_name)


def locate_malformed_rows(table: TableFile, limit: int) -> list[MalformedRow]:
    """Find rows whose field count is wrong, with exact row numbers (used only on rejection)."""
    found: list[MalformedRow] = []
    expected = len(table.header)
    with table.open_file() as handle:
        text = io.TextIOWrapper(handle, encoding=table.encoding or "utf-8", newline="")
        reader = csv.reader(text, delimiter=table.delimiter or ",", strict=True)
        number = 0
        try:
            for number, record in enumerate(reader, start=1):
                if number == 1 or not record:
                    continue
                if len(record) != expected:
                    found.append(MalformedRow(number, len(record), expected, table.delimiter.join(record)[:200]))
                    if len(found) >= max(limit, 1) * 10:
                        break
        except csv.Error as exc:
            found.append(MalformedRow(number + 1, 0, expected, f"broken quoting: {exc}"))
    return found

"""Validating an upload chunk by chunk against the contract, vectorised with pandas.

``validate_chunk`` turns a chunk of strings into typed, normalised columns and
records every problem (row, column, value, reason) in a ``Report``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from data_access.contract import ALL_SCOPE, Column, Kind
from data_access.ingest.pseudonyms import Pseudonyms, pseudonymise
from data_access.ingest.read import ROW
from data_access.ingest.spreadsheet import CONTROL_CHARACTERS

HIDDEN = "(hidden)"
_CODE = r"[A-Za-z0-9-]{1,20}"
_INT = r"[+-]?\d+"
_DECIMAL = r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"
_ISO_DATE = r"\d{4}-\d{1,2}-\d{1,2}"
_SLASH_DATE = r"(\d{1,2})/(\d{1,2})/(\d{4})"
_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}


@dataclass(frozen=True)
class RowError:
    row: int | None
    column: str
    value: str
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}


@dataclass
class Report:
    """Every problem found in an upload; errors are listed up to ``cap`` and all are counted."""

    cap: int = 1000
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    warnings: list[str] = field(default_factory=list)
    unknown_values: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, row: int | None, column: str, value: str, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < self.cap:
            self.errors.append(RowError(row, column, value, reason))

    def add_mask(self, frame: pd.DataFrame, mask: pd.Series, column: Column | str, reason: str) -> None:
        """Record one error per row where ``mask`` is true."""
        count = int(mask.sum())
        if not count:
            return
        name = column if isinstance(column, str) else column.name
        hidden = not isinstance(column, str) and column.pseudonymise
        room = max(self.cap - len(self.errors), 0)
        if room:
            picked = frame.loc[mask].head(room)
            values = [HIDDEN] * len(picked) if hidden else picked[name].map(_clip).tolist()
            for row, value in zip(picked[ROW].tolist(), values, strict=True):
                self.errors.append(RowError(int(row), name, value, reason))
        self.error_count += count

    def renumber(self, skipped: list[int]) -> None:
        """Row numbers counted without the ``skipped`` rows (ascending) made the file's own numbers."""
        if not skipped:
            return
        for position, error in enumerate(self.errors):
            if error.row is None:
                continue
            row = error.row
            for gap in skipped:
                if gap <= row:
                    row += 1
            self.errors[position] = replace(error, row=row)

    def note_unknown(self, column: str, values: pd.Series) -> None:
        seen = self.unknown_values.setdefault(column, {})
        for value, count in values.value_counts().items():
            seen[str(value)] = seen.get(str(value), 0) + int(count)

    @property
    def ok(self) -> bool:
        return self.error_count == 0


def _clip(value: object, limit: int = 100) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass(frozen=True)
class Context:
    """What validation needs beyond the chunk itself."""

    known_codes: dict[str, frozenset[str]]
    pseudonym_key: bytes
    decimal_comma: bool = False
    #: date column -> "dmy" | "mdy" | "ambiguous" | "mixed", for columns holding d/m/y-style dates
    slash_orders: dict[str, str] = field(default_factory=dict)
    #: raw id -> pseudonym, shared by the chunks of one upload (never stored)
    pseudonyms: Pseudonyms = field(default_factory=lambda: Pseudonyms())
    #: The entities the uploader may load rows of; None: every entity.
    entity_scope: frozenset[str] | None = None


class SlashDatesNeedScan(Exception):
    """A column holds slash dates whose day/month order was not scanned for yet."""


def scan_slash_orders(chunks: Iterable[pd.DataFrame], columns: list[str]) -> dict[str, str]:
    """For each date column, decide from all its values whether d/m/y or m/d/y is meant."""
    evidence = {c: [False, False] for c in columns}
    for chunk in chunks:
        for column in columns:
            parts = chunk[column].str.extract(_SLASH_DATE).dropna()
            if parts.empty:
                continue
            evidence[column][0] |= bool((parts[0].astype(int) > 12).any())
            evidence[column][1] |= bool((parts[1].astype(int) > 12).any())
    orders = {}
    for column, (day_first, month_first) in evidence.items():
        if day_first and month_first:
            orders[column] = "mixed"
        elif day_first:
            orders[column] = "dmy"
        elif month_first:
            orders[column] = "mdy"
        else:
            orders[column] = "ambiguous"
    return orders


def _all_canonical_dates(values: pd.Series) -> bool:
    """The common case, checked in Arrow: every value is empty or a real date as YYYY-MM-DD.

    Arrow's cast to date32 accepts exactly that form and refuses a day its month lacks (2023-02-30).
    """
    text = pa.array(values.array, type=pa.large_string())
    try:
        pc.cast(pc.if_else(pc.equal(text, ""), None, text), pa.date32())
    except pa.ArrowInvalid:
        return False
    return True


def _parse_dates(
    frame: pd.DataFrame, column: Column, values: pd.Series, present: pd.Series, context: Context, report: Report
) -> pd.Series:
    """ISO strings for valid dates; '' elsewhere (errors recorded)."""
    if _all_canonical_dates(values):
        return values
    out = pd.Series("", index=values.index, dtype="str")
    iso_shape = values.str.fullmatch(_ISO_DATE) & present
    if iso_shape.any():
        parsed = pd.to_datetime(values.where(iso_shape), format="%Y-%m-%d", errors="coerce")
        canonical = iso_shape & values.str.fullmatch(r"\d{4}-\d{2}-\d{2}") & parsed.notna()
        out = out.where(~canonical, values)
        redo = iso_shape & ~canonical & parsed.notna()
        if redo.any():
            out = out.where(~redo, parsed.dt.strftime("%Y-%m-%d"))
        report.add_mask(frame, iso_shape & parsed.isna(), column, "not a real date")
    slash_shape = values.str.fullmatch(_SLASH_DATE) & present
    if slash_shape.any():
        order = context.slash_orders.get(column.name)
        if order is None:
            raise SlashDatesNeedScan(column.name)
        if order in ("dmy", "mdy"):
            fmt = "%d/%m/%Y" if order == "dmy" else "%m/%d/%Y"
            parsed = pd.to_datetime(values.where(slash_shape), format=fmt, errors="coerce")
            out = out.where(~(slash_shape & parsed.notna()), parsed.dt.strftime("%Y-%m-%d"))
            report.add_mask(frame, slash_shape & parsed.isna(), column, f"not a real date (read as {order})")
        else:
            reason = (
                "day and month cannot be told apart anywhere in this column; use YYYY-MM-DD"
                if order == "ambiguous"
                else "this column mixes day/month/year and month/day/year dates; use YYYY-MM-DD"
            )
            report.add_mask(frame, slash_shape, column, reason)
    report.add_mask(frame, present & ~iso_shape & ~slash_shape, column, "not a date: use YYYY-MM-DD")
    return out


def _validate_column(frame: pd.DataFrame, column: Column, context: Context, report: Report) -> pd.Series:
    values = frame[column.name]
    present = values != ""
    if column.required:
        report.add_mask(frame, ~present, column, "required value is missing")
    kind = column.type
    if kind in ("text", "id"):
        report.add_mask(
            frame, values.str.len() > column.max_length, column, f"longer than {column.max_length} characters"
        )
        result = values
    elif kind == "code":
        shape_ok = values.str.fullmatch(_CODE)
        report.add_mask(frame, present & ~shape_ok, column, "must be 1-20 letters, digits or '-'")
        result = values
        if column.references:
            known = context.known_codes.get(column.references, frozenset())
            allowed = values.isin(known) | (values == ALL_SCOPE if column.allow_all else False)
            what = "entity" if column.references == "entities" else "duty station"
            report.add_mask(
                frame,
                present & shape_ok & ~allowed,
                column,
                f"unknown {what} code: not in the {column.references} reference data",
            )
    elif kind == "enum":
        result = _validate_enum(frame, column, values, present, report)
    elif kind == "int":
        shape_ok = values.str.fullmatch(_INT)
        report.add_mask(frame, present & ~shape_ok, column, "must be a whole number")
        numbers = pd.to_numeric(values.where(present & shape_ok), errors="coerce")
        _check_range(frame, column, numbers, report)
        result = numbers.astype("Int64")
    elif kind == "decimal":
        text = values.str.replace(",", ".", regex=False) if context.decimal_comma else values
        shape_ok = text.str.fullmatch(_DECIMAL)
        report.add_mask(frame, present & ~shape_ok, column, "must be a number")
        numbers = _to_float(text.where(present & shape_ok, ""))
        _check_range(frame, column, numbers, report)
        result = numbers
    elif kind == "bool":
        lowered = values.str.lower()
        truthy, falsy = lowered.isin(_TRUE), lowered.isin(_FALSE)
        report.add_mask(frame, present & ~truthy & ~falsy, column, "must be true/false, yes/no or 1/0")
        result = truthy
    elif kind == "iso3":
        upper = values.str.upper()
        report.add_mask(frame, present & ~upper.isin(_iso3_codes()), column, "not an ISO 3166-1 alpha-3 country code")
        result = upper
    elif kind == "date":
        result = _parse_dates(frame, column, values, present, context, report)
    else:  # pragma: no cover - the contract only declares the types above
        raise ValueError(kind)
    if column.pseudonymise:
        result = pseudonymise(values, context.pseudonym_key, context.pseudonyms)
    return result


def _validate_enum(
    frame: pd.DataFrame, column: Column, values: pd.Series, present: pd.Series, report: Report
) -> pd.Series:
    exact = values.isin(column.vocabulary)
    if bool((exact | ~present).all()):
        return values
    canonical = {v.lower(): v for v in column.vocabulary}
    mapped = values.str.lower().map(canonical)
    unknown = present & ~exact & mapped.isna()
    if column.open_vocabulary:
        if unknown.any():
            report.note_unknown(column.name, values[unknown])
        return values.where(exact | unknown, mapped.fillna(""))
    report.add_mask(frame, unknown, column, f"not one of: {', '.join(column.vocabulary)}")
    return values.where(exact, mapped.fillna(""))


def _to_float(text: pd.Series) -> pd.Series:
    """Numbers already checked against the decimal pattern, parsed in Arrow; NaN where empty."""
    array = pa.array(text.array, type=pa.string())
    floats = pc.cast(pc.if_else(pc.equal(array, ""), None, array), pa.float64())
    return pd.Series(floats.to_numpy(zero_copy_only=False), index=text.index, dtype="float64")


def _check_range(frame: pd.DataFrame, column: Column, numbers: pd.Series, report: Report) -> None:
    if column.minimum is not None:
        report.add_mask(frame, numbers < column.minimum, column, f"must be at least {column.minimum:g}")
    if column.maximum is not None:
        report.add_mask(frame, numbers > column.maximum, column, f"must be at most {column.maximum:g}")


@functools.cache
def _iso3_codes() -> frozenset[str]:
    import pycountry

    return frozenset(c.alpha_3 for c in pycountry.countries)


def validate_chunk(kind: Kind, frame: pd.DataFrame, context: Context, report: Report) -> pd.DataFrame:
    """Typed, normalised columns of the kind (in contract order) for one chunk; problems go to ``report``.

    ``frame`` has the contract's column names (absent optional columns as '') and ``ROW``.
    """
    clean = pd.DataFrame(index=frame.index)
    for column in kind.columns:
        if column.type in ("text", "id") or column.open_vocabulary:  # other columns' patterns admit none
            has_control = frame[column.name].str.contains(CONTROL_CHARACTERS.pattern, regex=True)
            report.add_mask(frame, has_control, column, "holds a control character (a byte no text should hold)")
        clean[column.name] = _validate_column(frame, column, context, report)
    if context.entity_scope is not None and kind.entity_column is not None:
        codes = frame[kind.entity_column]
        outside = (codes != "") & ~codes.isin(context.entity_scope)
        yours = ", ".join(sorted(context.entity_scope))
        report.add_mask(frame, outside, kind.column(kind.entity_column), f"not one of your entities ({yours})")
    for date_column, status in kind.required_when_status:
        missing = (frame["status"].str.lower() == status) & (frame[date_column] == "")
        report.add_mask(frame, missing, date_column, f"required when status is {status}")
    for later, earlier in kind.not_before:
        both = (clean[later] != "") & (clean[earlier] != "")
        report.add_mask(frame, both & (clean[later] < clean[earlier]), later, f"is before {earlier}")
    return clean


def key_hashes(kind: Kind, clean: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash of each row's natural key, to find keys repeated within one file."""
    return pd.util.hash_pandas_object(clean[list(kind.key_columns)], index=False).to_numpy()


def find_repeated_keys(hashes: np.ndarray, rows: np.ndarray) -> list[tuple[int, int]]:
    """(first row, repeating row) for every natural key that appears more than once."""
    order = np.argsort(hashes, kind="stable")
    sorted_hashes = hashes[order]
    repeats = np.flatnonzero(sorted_hashes[1:] == sorted_hashes[:-1]) + 1
    if not len(repeats):
        return []
    first_of_run = np.maximum.accumulate(
        np.where(np.r_[True, sorted_hashes[1:] != sorted_hashes[:-1]], np.arange(len(order)), 0)
    )
    return sorted((int(rows[order[first_of_run[i]]]), int(rows[order[i]])) for i in repeats)


def header_name(text: str) -> str:
    """Header matching is case-insensitive and ignores surrounding spaces (and a stray BOM)."""
    return re.sub(r"\s+", " ", text.replace("\ufeff", "").strip().lower())

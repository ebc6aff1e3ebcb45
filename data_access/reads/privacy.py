"""Small-cell suppression: no count of people below the minimum cell size leaves the store.

Three rules, applied to every figure's table before anything draws or exports it:

1. primary: a count between 1 and ``min_cell - 1`` is suppressed (shown as "<N");
2. complementary: when a breakdown would show exactly one suppressed cell next to its
   siblings, the smallest other non-zero sibling is suppressed too, so the hidden cell
   cannot be recovered as "total minus the others";
3. differencing: a cell is suppressed when the same cell with one filter removed is larger
   by less than ``min_cell`` (so "OCHA" minus "OCHA, female" cannot reveal a small group).

Rates built on a suppressed count are withheld. Suppressed counts are ``pd.NA`` in the
nullable ``Int64`` columns; withheld rates are ``pd.NA`` in ``Float64`` columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd


def small(values: pd.Series, min_cell: int) -> pd.Series:
    """True where a count is a small, non-zero number of people."""
    numbers = pd.to_numeric(values, errors="coerce")
    return (numbers > 0) & (numbers < min_cell)


def complementary(frame: pd.DataFrame, column: str, mask: pd.Series, groups: list[str]) -> pd.Series:
    """Extend ``mask`` so no group of siblings has exactly one suppressed non-zero cell.

    In such a group the smallest other non-zero sibling (the first of equals) is suppressed too.
    """
    found = _complementary(_group_codes(frame, groups), _numbers(frame[column]), mask.to_numpy(dtype=bool))
    return pd.Series(found, index=mask.index)


def _group_codes(frame: pd.DataFrame, groups: list[str]) -> np.ndarray:
    """A number per row naming its group of siblings (missing values form a group of their own)."""
    codes = np.zeros(len(frame), dtype=np.int64)
    for column in groups:
        local, uniques = pd.factorize(frame[column].array, use_na_sentinel=False)
        codes = codes * max(1, len(uniques)) + local
    return codes


def _complementary(codes: np.ndarray, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``complementary`` on arrays: group code, count (NaN: none) and hidden flag per row."""
    lone = np.bincount(codes, weights=mask)[codes] == 1
    candidates = np.flatnonzero(lone & ~mask & (np.nan_to_num(values) > 0))
    if not len(candidates):
        return mask
    # Sorted by group, then count, then position: the first candidate of each group is its smallest.
    order = candidates[np.lexsort((candidates, values[candidates], codes[candidates]))]
    first = np.ones(len(order), dtype=bool)
    first[1:] = codes[order][1:] != codes[order][:-1]
    mask = mask.copy()
    mask[order[first]] = True
    return mask


def differenced(
    child: pd.DataFrame,
    parent: pd.DataFrame,
    columns: list[str],
    keys: list[str],
    min_cell: int,
) -> dict[str, np.ndarray]:
    """Per count column: True where the parent slice's cell exceeds the child's by fewer than ``min_cell``."""
    if parent.empty:
        return {column: np.zeros(len(child), dtype=bool) for column in columns}
    mine = count_matrix(child, columns)
    theirs = count_matrix(parent, columns)
    if keys:
        where = _rows_of(child, row_lookup(parent, keys), keys)
        theirs = np.where((where >= 0)[:, np.newaxis], theirs[where], np.nan)
    else:
        theirs = np.broadcast_to(theirs[:1], mine.shape)
    difference = np.where(np.isnan(theirs), 0.0, theirs) - mine
    hidden = (difference > 0) & (difference < min_cell)
    return {column: hidden[:, position] for position, column in enumerate(columns)}


def row_lookup(frame: pd.DataFrame, keys: list[str]) -> dict[Any, int]:
    """The position of each row by its keys (a value, or a tuple of them; the first row if several)."""
    found: dict[Any, int] = {}
    for position, key in enumerate(_keys(frame, keys)):
        found.setdefault(key, position)
    return found


def _rows_of(child: pd.DataFrame, parent_rows: dict[Any, int], keys: list[str]) -> np.ndarray:
    """For each child row, the position of the parent row with the same keys (-1: none)."""
    return np.fromiter((parent_rows.get(key, -1) for key in _keys(child, keys)), np.int64, len(child))


def _keys(frame: pd.DataFrame, keys: list[str]) -> list[Any]:
    """Each row's keys as plain values (a tuple of them for several), every kind of missing value as None,
    so that missing keys match one another."""
    columns = []
    for key in keys:
        values = np.asarray(frame[key].array, dtype=object)
        missing = pd.isna(values)
        columns.append((np.where(missing, None, values) if missing.any() else values).tolist())
    return columns[0] if len(columns) == 1 else list(zip(*columns, strict=True))


def count_matrix(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Columns as one float array (rows x columns), NaN where a cell holds no number."""
    matrix = np.empty((len(frame), len(columns)))
    for position, column in enumerate(columns):
        matrix[:, position] = _numbers(frame[column].array)
    return matrix


def _numbers(values: Any) -> np.ndarray:
    """A column as floats, NaN where it holds no number."""
    try:  # numeric columns, nullable ones included (NA becomes NaN): the common case, and quick
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def suppress(
    frame: pd.DataFrame,
    *,
    counts: Iterable[str],
    rates: Mapping[str, Iterable[str]],
    min_cell: int,
    groups: list[str] | None = None,
    extra: Mapping[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """The frame with small counts suppressed and the rates built on them withheld.

    ``rates`` maps each rate column to the count columns it is built on; ``groups`` names
    the columns whose rows are siblings for complementary suppression (None: no siblings,
    []: all rows are siblings); ``extra`` adds masks found by differencing.
    """
    codes: np.ndarray | None = None
    counts, rates = list(counts), dict(rates)
    # Columns taken one by one are costly in pandas: only those kept as they are.
    columns: dict[str, object] = {
        column: None if column in rates or column in counts else frame[column].array for column in frame.columns
    }
    count_values = count_matrix(frame, counts)
    rate_values = count_matrix(frame, list(rates))
    # Worked out for all the columns at once, then handed out column by column (Fortran order keeps
    # each column's values together, so each array below is a view).
    masks = np.asfortranarray((count_values > 0) & (count_values < min_cell))
    for position, column in enumerate(counts):
        if extra and column in extra:
            masks[:, position] |= np.asarray(extra[column], dtype=bool)
        if groups is not None and len(frame) > 1 and masks[:, position].any():
            if codes is None:
                codes = _group_codes(frame, groups)
            masks[:, position] = _complementary(codes, count_values[:, position], masks[:, position])
    missing = np.isnan(count_values)
    whole = np.round(np.where(missing, 0.0, count_values)).astype(np.int64, order="F")
    absent = np.asfortranarray(masks | missing)
    for position, column in enumerate(counts):
        columns[column] = pd.arrays.IntegerArray(whole[:, position], absent[:, position])
    where = {column: position for position, column in enumerate(counts)}
    rate_missing = np.isnan(rate_values)
    rate_numbers = np.where(rate_missing, 0.0, rate_values).astype(float, order="F")
    for position, (rate, basis) in enumerate(rates.items()):
        built_on = [where[column] for column in basis if column in where]
        withheld = masks[:, built_on].any(axis=1) if built_on else np.zeros(len(frame), dtype=bool)
        columns[rate] = pd.arrays.FloatingArray(rate_numbers[:, position], withheld | rate_missing[:, position])
    # One new table, rather than a copy changed column by column.
    return pd.DataFrame(columns, index=frame.index)


def label(min_cell: int) -> str:
    """What a suppressed count shows as."""
    return f"<{min_cell}"

"""Small tables, built quickly from arrays.

A first visit of a slice builds a few dozen tables of a few rows each (the views, their parent slices,
their suppressed copies). pandas' DataFrame constructor checks and infers every column and makes the
column labels anew each time: 150-250 µs a table, several times the work of filling it. ``frame_from``
builds the same frame, the same dtypes, from arrays, with the labels of each set of columns made once.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray


def frame_from(columns: Mapping[str, Any], index: pd.Index | None = None) -> pd.DataFrame:
    """``pd.DataFrame(dict(columns), index=index)``, for columns that are all numpy or pandas arrays, or
    lists of numbers or of text, of one length (anything else goes to the constructor)."""
    arrays = [_settled(values) for values in columns.values()]
    if not arrays or any(values is None or values.ndim != 1 for values in arrays):
        return pd.DataFrame(dict(columns), index=index)
    rows = len(index) if index is not None else len(arrays[0])
    if any(len(values) != rows for values in arrays):
        return pd.DataFrame(dict(columns), index=index)  # its error says which
    try:  # pandas' own constructor for checked arrays (private; pandas is pinned)
        return pd.DataFrame._from_arrays(
            arrays,
            columns=_labels(tuple(columns)),
            index=index if index is not None else pd.RangeIndex(rows),
            verify_integrity=False,
        )
    except (AttributeError, TypeError):  # a pandas without it: the public way
        return pd.DataFrame(dict(columns), index=index)


def column_values(frame: pd.DataFrame, column: str) -> Any:
    """A column's values (a numpy or pandas array), without the Series that ``frame[column]`` builds.

    Building that Series is most of the cost of suppressing a small table (about 9 µs a column,
    and a table is read three times over), so the frame's own accessor is used where it exists.
    """
    at = frame.columns.get_loc(column)
    try:
        return frame._get_column_array(at)
    except AttributeError:  # a pandas without it: the public way
        return frame.iloc[:, at].array


def first_row(frame: pd.DataFrame) -> Mapping[str, Any]:
    """The first row, read as {column: value} (``pd.NA`` where a nullable column holds none), each value
    read when asked for. ``frame.iloc[0]`` builds a Series of objects for a table of mixed types,
    copying every value: several times the cost, for a KPI table of thirty columns read for four."""
    return _FirstRow(frame)


class _FirstRow(Mapping[str, Any]):
    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def __getitem__(self, column: str) -> Any:
        return column_values(self.frame, column)[0]

    def __iter__(self) -> Iterator[str]:
        return iter(self.frame.columns)

    def __len__(self) -> int:
        return len(self.frame.columns)


@functools.cache
def text_dtype() -> pd.api.extensions.ExtensionDtype:
    """The dtype pandas infers for text (``"str"``), resolved once: naming it costs ``pd.array`` more
    than converting a few values (about 25 µs against 9)."""
    return pd.api.types.pandas_dtype("str")


@functools.lru_cache(maxsize=512)
def _labels(names: tuple[str, ...]) -> pd.Index:
    # An Index cannot be changed in place, so every table with these columns can share one.
    return pd.Index(list(names))


def _settled(values: Any) -> np.ndarray | ExtensionArray | None:
    """The array the constructor would hold (text in object arrays becomes pandas text, as it infers);
    None for anything that is not an array, or a list it reads the same way."""
    if isinstance(values, list):
        values = _listed(values)
    if isinstance(values, ExtensionArray):
        return values
    if not isinstance(values, np.ndarray) or values.dtype.kind in "mMSV":  # dates and bytes: the constructor
        return None
    if values.dtype.kind == "U" or (
        values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) == "string"
    ):
        return pd.array(values, dtype=text_dtype())
    return values


def _listed(values: list[Any]) -> np.ndarray | None:
    """A list as the array pandas would infer from it, where numpy reads it the same way: numbers (no
    booleans among them: pandas keeps such a mix as objects), booleans, or text with no gaps (numpy
    would write a gap as the text 'nan'). None for any other list, and for an empty one."""
    if not values:
        return None
    try:
        array = np.asarray(values)
    except (TypeError, ValueError):
        return None
    kind = array.dtype.kind
    if array.ndim != 1 or kind not in "biufU":
        return None
    if kind in "iuf" and any(isinstance(value, (bool, np.bool_)) for value in values):
        return None
    if kind == "U" and not all(isinstance(value, str) for value in values):
        return None
    return array

"""Small tables, built quickly from arrays.

A first visit of a slice builds a few dozen tables of a few rows each (the views, their parent slices,
their suppressed copies). pandas' DataFrame constructor checks and infers every column and makes the
column labels anew each time: 150-250 µs a table, several times the work of filling it. ``frame_from``
builds the same frame, the same dtypes, from arrays, with the labels of each set of columns made once.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray


def frame_from(columns: Mapping[str, Any], index: pd.Index | None = None) -> pd.DataFrame:
    """``pd.DataFrame(dict(columns), index=index)``, for columns that are all numpy or pandas arrays of
    one length (anything else goes to the constructor)."""
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


@functools.lru_cache(maxsize=512)
def _labels(names: tuple[str, ...]) -> pd.Index:
    # An Index cannot be changed in place, so every table with these columns can share one.
    return pd.Index(list(names))


def _settled(values: Any) -> np.ndarray | ExtensionArray | None:
    """The array the constructor would hold (text in object arrays becomes pandas text, as it infers);
    None for anything that is not an array."""
    if isinstance(values, ExtensionArray):
        return values
    if not isinstance(values, np.ndarray) or values.dtype.kind in "mMSV":  # dates and bytes: the constructor
        return None
    if values.dtype.kind == "U" or (
        values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) == "string"
    ):
        return pd.array(values, dtype="str")
    return values

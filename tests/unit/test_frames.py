"""frame_from builds the frame pandas' constructor builds: the same values, dtypes and labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data_access.frames import first_row, frame_from

COLUMNS = {
    "text": np.array(["DMSPC", "OHR", "MONUSCO"], dtype=object),
    "text_with_gap": np.array(["Geneva", None, "Goma"], dtype=object),
    "numpy_text": np.array(["a", "b", "c"]),
    "pandas_text": pd.array(["x", None, "z"], dtype="str"),
    "count": np.array([3, 0, 12], dtype=np.int64),
    "hidden_count": pd.array([3, None, 12], dtype="Int64"),
    "rate": np.array([0.5, np.nan, 1.0]),
    "withheld_rate": pd.array([0.5, None, 1.0], dtype="Float64"),
    "flag": np.array([True, False, True]),
    "nothing": np.array([None, None, None], dtype=object),
    "mixed": np.array([1, "a", None], dtype=object),
    "listed_count": [3, 0, 12],
    "listed_rate": [0.5, np.nan, 1],
    "listed_text": ["OCHA", "DPPA", "OHR"],
    "listed_flag": [True, False, False],
}


@pytest.mark.parametrize("index", [None, pd.Index([7, 3, 5])])
def test_every_kind_of_column_comes_out_as_the_constructor_makes_it(index):
    built = frame_from(COLUMNS, index=index)
    pd.testing.assert_frame_equal(built, pd.DataFrame(COLUMNS, index=index), check_column_type=True)
    assert str(built["text"].dtype) == "str" and built["mixed"].dtype == object


@pytest.mark.parametrize(
    "columns",
    [
        {},
        {"empty": np.array([], dtype=object), "count": np.array([], dtype=np.int64)},
        {"count": np.array([1, 2]), "share": pd.NA},  # a scalar spread over the rows
        {"listed": [1, 2], "count": np.array([1, 2])},
        # lists numpy reads otherwise than pandas: a gap in text, a gap in numbers, booleans among numbers
        {"text_with_gap": ["Geneva", np.nan]},
        {"text_with_none": ["Goma", None]},
        {"count_with_gap": [1, None]},
        {"flag_among_numbers": [True, 2]},
        {"flag_among_rates": [1.5, False]},
        {"empty": [], "count": np.array([], dtype=np.int64)},
        {"big": [2**70, 1]},
        {"missing": [pd.NA, 1]},
        {"day": np.array(["2024-01-01"], dtype="datetime64[D]")},
    ],
)
def test_anything_else_comes_out_as_the_constructor_makes_it(columns):
    pd.testing.assert_frame_equal(frame_from(columns), pd.DataFrame(columns), check_column_type=True)


def test_tables_with_the_same_columns_share_labels_but_not_values():
    first, second = frame_from({"a": np.array([1])}), frame_from({"a": np.array([2])})
    assert first.columns is second.columns
    second.loc[0, "a"] = 5
    assert first.loc[0, "a"] == 1


def test_the_first_row_reads_as_iloc_does():
    frame = frame_from(COLUMNS)
    row = first_row(frame)
    assert list(row) == list(frame.columns) and len(row) == len(frame.columns)
    for column, value in frame.iloc[0].items():
        assert row[column] is value or row[column] == value or (pd.isna(row[column]) and pd.isna(value)), column
    assert row.get("no such column") is None

"""Exports hold what the chart shows: "<N" for hidden counts, and no live spreadsheet formulas."""

from __future__ import annotations

import pandas as pd

from data_access.ingest.spreadsheet import neutralise
from server.exports import export_frame


def test_formula_cells_are_neutralised():
    for value in ('=HYPERLINK("x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(value) == "'" + value
    assert neutralise("OCHA") == "OCHA"
    assert neutralise(5) == 5


def test_hidden_counts_and_withheld_rates():
    frame = pd.DataFrame(
        {
            "entity": ["=cmd", "DPO"],
            "learners": pd.array([pd.NA, 40], dtype="Int64"),
            "reach_rate": pd.array([pd.NA, 0.123456], dtype="Float64"),
        }
    )
    out = export_frame(frame, 5)
    assert out.to_dict("records") == [
        {"entity": "'=cmd", "learners": "<5", "reach_rate": None},
        {"entity": "DPO", "learners": 40, "reach_rate": 0.1235},
    ]


def test_text_stored_with_control_characters_still_exports_to_excel():
    import io

    import openpyxl

    frame = export_frame(pd.DataFrame({"learning_need": ["Ctl\x01Need", "Tab\tand\nline"]}), 5)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name="data", index=False)
    cells = [row[0] for row in openpyxl.load_workbook(buffer)["data"].iter_rows(min_row=2, values_only=True)]
    assert cells == ["CtlNeed", "Tab\tand\nline"]

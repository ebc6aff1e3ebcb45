"""Downloads of a figure's table: ``/export/<view>.csv`` or ``.xlsx``, with the page's query string.

The export runs the same suppressed view the chart draws, so it holds exactly what the
chart shows; text cells that a spreadsheet would run as a formula are neutralised.
"""

from __future__ import annotations

import io

import pandas as pd
from flask import Flask, Response, abort, request

import settings
from data_access.ingest.spreadsheet import neutralise
from data_access.reads.filters import Filters
from data_access.reads.views import VIEWS, data_as_of, run_view
from data_access.store import default_engine
from data_access.users import audit
from server.auth import require, scoped

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export_frame(frame: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Suppressed counts as "<N", rates as fractions, text neutralised."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        if str(values.dtype) == "Int64":
            out[column] = [f"<{min_cell}" if pd.isna(v) else int(v) for v in values]
        elif pd.api.types.is_float_dtype(values.dtype):
            out[column] = pd.Series(
                [None if pd.isna(v) else round(float(v), 4) for v in values], dtype=object, index=frame.index
            )
        else:
            out[column] = [neutralise(v) for v in values]
    return out


def render(view: str, fmt: str, filters: Filters, min_cell: int) -> bytes:
    engine = default_engine()
    frame = export_frame(run_view(engine, view, filters, min_cell), min_cell)
    if fmt == "csv":
        return frame.to_csv(index=False).encode("utf-8-sig")
    about = pd.DataFrame(
        {
            "item": ["figure", "filters", "data as of", "suppression"],
            "value": [
                VIEWS[view].title,
                neutralise(filters.query_string() or "none"),
                data_as_of(engine) or "no data",
                f"counts of fewer than {min_cell} people show as <{min_cell}; rates built on them are empty",
            ],
        }
    )
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name="data", index=False)
        about.to_excel(writer, sheet_name="about", index=False)
    return buffer.getvalue()


def register_exports(server: Flask) -> None:
    @server.get("/export/<view>.<fmt>")
    def export(view: str, fmt: str) -> Response:
        user = require("viewer")
        if view not in VIEWS or fmt not in MEDIA_TYPES:
            abort(404)
        filters = scoped(Filters.from_query(request.args.to_dict()), user)
        body = render(view, fmt, filters, settings.get_int("MIN_CELL_SIZE"))
        audit(default_engine(), user.username, "export", f"{view}.{fmt}{filters.query_string()}", "ok")
        return Response(
            body,
            mimetype=MEDIA_TYPES[fmt],
            headers={"Content-Disposition": f'attachment; filename="{view}.{fmt}"', "Cache-Control": "no-store"},
        )

"""Pieces of the data page: the upload's progress and report, the upload history, the tracker."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

MAX_ERRORS_SHOWN = 200
STATUS_TEXT = {
    "received": ("Received. Waiting to check…", "info"),
    "validating": ("Checking every row…", "info"),
    "valid": ("Ready to commit. Nothing has been written yet.", "success"),
    "rejected": ("Rejected: nothing was written. Fix the rows below and upload again.", "danger"),
    "duplicate": ("This file is already loaded: nothing was written.", "warning"),
    "committing": ("Writing…", "info"),
    "loaded": ("Committed. Every page now shows the new data.", "success"),
    "failed": ("The upload failed unexpectedly. Nothing was written.", "danger"),
    "cancelled": ("Cancelled. Nothing was written.", "secondary"),
}
RUNNING = ("received", "validating", "committing")
ROLLBACK = "data-rollback"


def job_panel(job: dict[str, Any] | None) -> html.Div:
    """What the person who uploaded sees: progress while it runs, then the report."""
    if job is None:
        return html.Div()
    text, colour = STATUS_TEXT.get(job["status"], (job["status"], "secondary"))
    report = job["report"] or {}
    if job["status"] == "failed" and report.get("failure") == "no upload worker took it":
        text = "No upload worker took this file within 10 minutes: nothing was written. Ask an administrator."
    children: list[Any] = [
        html.H3(f"{job['file_name']} · {job['kind'] or 'kind not known'}", className="h6"),
        html.Div(
            dbc.Alert(text, color=colour, className="py-2"), id="data-job-status", **{"data-status": job["status"]}
        ),
    ]
    if job["status"] in RUNNING:
        children.append(dbc.Progress(label=f"{job['rows_done']:,} rows", value=100, striped=True, animated=True))
        return html.Div(children)
    if report:
        children.append(counts(job["status"], report))
        for warning in report.get("warnings", []):
            children.append(dbc.Alert(warning, color="warning", className="py-1 small"))
        errors = report.get("errors", [])
        if errors:
            children.append(error_table(errors, report.get("error_count", len(errors)), job["id"]))
    return html.Div(children)


def counts(status: str, report: dict[str, Any]) -> html.P:
    verb = "would be" if status == "valid" else "were"
    if status in ("valid", "loaded"):
        return html.P(
            f"{report.get('rows_read', 0):,} rows read: {report.get('rows_inserted', 0):,} {verb} added and "
            f"{report.get('rows_replaced', 0):,} {verb} replaced (latest upload wins).",
            id="data-counts",
        )
    return html.P(
        f"{report.get('rows_read', 0):,} rows read; {report.get('error_count', 0):,} errors.", id="data-counts"
    )


def error_table(errors: list[dict[str, Any]], total: int, job_id: str) -> html.Div:
    shown = errors[:MAX_ERRORS_SHOWN]
    frame = pd.DataFrame(
        [
            {
                "Row": "file" if e.get("row") is None else e["row"],
                "Column": e.get("column", ""),
                "Value": e.get("value", ""),
                "Problem": e.get("reason", ""),
            }
            for e in shown
        ]
    )
    more = f" Showing the first {len(shown):,} of {total:,}." if total > len(shown) else ""
    return html.Div(
        [
            html.P(
                [
                    f"{total:,} errors.{more} ",
                    html.A("Download the rows with errors (CSV)", href=f"/upload/{job_id}/errors.csv", download=""),
                ]
            ),
            dbc.Table.from_dataframe(frame, striped=True, size="sm", responsive=True, id="data-errors"),
        ]
    )


def history_table(batches: pd.DataFrame, can_roll_back: bool) -> html.Div:
    if batches.empty:
        return html.P("No uploads yet.", className="text-muted")
    header = html.Thead(
        html.Tr([html.Th(h) for h in ("Batch", "Kind", "File", "Status", "Rows", "Who", "When (UTC)", "SHA-256", "")])
    )
    rows = []
    for batch in batches.to_dict("records"):
        action: Any = ""
        if can_roll_back and batch["status"] == "loaded":
            action = dbc.Button(
                "Roll back", id={"type": ROLLBACK, "batch": int(batch["id"])}, size="sm", color="outline-danger"
            )
        rows.append(
            html.Tr(
                [
                    html.Td(batch["id"]),
                    html.Td(batch["kind"]),
                    html.Td(batch["file_name"]),
                    html.Td(batch["status"]),
                    html.Td(f"{batch['rows_read']:,} ({batch['rows_inserted']:,} new)", style={"whiteSpace": "nowrap"}),
                    html.Td(batch["uploaded_by"]),
                    html.Td(f"{batch['uploaded_at']:%Y-%m-%d %H:%M}"),
                    html.Td(html.Code(str(batch["sha256"])[:12], title=str(batch["sha256"]))),
                    html.Td(action),
                ],
                **{"data-batch": str(batch["id"])},
            )
        )
    return dbc.Table([header, html.Tbody(rows)], striped=True, size="sm", responsive=True, id="data-history-table")


def tracker_table(frame: pd.DataFrame, periods: dict[str, str | None]) -> html.Div:
    if frame.empty:
        return html.P("No entities yet: upload the entities reference data first.", className="text-muted")

    def mark(ok: bool) -> html.Td:
        return html.Td("received" if ok else "missing", className="text-success" if ok else "text-danger fw-semibold")

    missing = int((~frame["complete"]).sum())
    rows = [
        html.Tr(
            [html.Td(r["entity"]), html.Td(r["name"]), mark(r["lna"]), mark(r["headcount"]), mark(r["platform_data"])]
        )
        for r in frame.to_dict("records")
    ]
    header = html.Thead(
        html.Tr(
            [
                html.Th("Entity"),
                html.Th("Name"),
                html.Th(f"LNA {periods['cycle'] or '-'}"),
                html.Th(f"Headcount {periods['headcount'] or '-'}"),
                html.Th(f"Platform data since {periods['activity_since'] or '-'}"),
            ]
        )
    )
    return html.Div(
        [
            html.P(f"{missing} of {len(frame)} entities are missing something for the current period."),
            html.Div(dbc.Table([header, html.Tbody(rows)], size="sm", striped=True), className="tracker-scroll"),
        ]
    )

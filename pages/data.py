"""Data management (uploaders and admins): upload, preview, commit or cancel, history and rollback, templates."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update

from components.cards import titled_card
from components.data_management import ROLLBACK, RUNNING, history_table, job_panel, tracker_table
from data_access.batches import RollbackError, list_batches, rollback_batch
from data_access.contract import KINDS
from data_access.reads.tracker import submission_status
from data_access.store import default_engine
from data_access.users import SignedInUser, audit
from server.auth import current_user, require
from server.uploads import UploadRefused, cancel, owned_job, start_commit, warm_cache_in_background

DATA_KIND = "data-kind"
DATA_KIND_ECHO = "data-kind-echo"
DATA_JOB = "data-job"
DATA_POLL = "data-poll"
DATA_PANEL = "data-panel"
DATA_COMMIT = "data-commit"
DATA_CANCEL = "data-cancel"
DATA_HISTORY = "data-history"
DATA_MESSAGE = "data-message"
DATA_CONFIRM = "data-confirm"
DATA_ROLLBACK_TARGET = "data-rollback-target"
HISTORY_ROWS = 100


def upload_card() -> dbc.Card:
    kinds = [{"value": "auto", "label": "Tell from the file's columns"}] + [{"value": k, "label": k} for k in KINDS]
    return titled_card(
        "Upload a file",
        [
            html.Label("Kind of data", htmlFor=DATA_KIND, className="form-label"),
            dcc.Dropdown(id=DATA_KIND, options=kinds, value="auto", clearable=False, className="mb-3"),
            html.Span(id=DATA_KIND_ECHO, hidden=True),
            html.Div(
                [
                    html.P("Drop a .csv or .xlsx file here, or choose one:", className="mb-2"),
                    html.Span(id="data-file-slot"),
                    html.Progress(value="0", max="1", className="w-100 mt-2"),
                    html.Div(className="upload-label small text-muted", role="status"),
                ],
                id="data-dropzone",
                className="border border-2 rounded p-3 mb-3 dropzone",
            ),
            html.Div(id=DATA_PANEL, **{"aria-live": "polite"}),
            html.Div(
                [
                    dbc.Button("Commit", id=DATA_COMMIT, color="primary", disabled=True, className="me-2"),
                    dbc.Button("Cancel", id=DATA_CANCEL, color="secondary", outline=True, disabled=True),
                ],
                className="mt-2",
            ),
            html.Div(id=DATA_MESSAGE, className="mt-3"),
        ],
        className="mb-3",
    )


def templates_card() -> dbc.Card:
    rows = [
        html.Li(
            [
                f"{kind}: ",
                html.A("CSV", href=f"/templates/{kind}.csv"),
                " · ",
                html.A("Excel", href=f"/templates/{kind}.xlsx"),
            ]
        )
        for kind in KINDS
    ]
    note = "Each template has the header, one example row and (in Excel) a data dictionary sheet from the contract."
    return titled_card("Templates", [html.P(note, className="small"), html.Ul(rows)], className="mb-3")


def page(history: Any = None, tracker: Any = None) -> html.Div:
    """The page's components; with no data (history, tracker) it is what Dash's setup validates the callbacks on."""
    return html.Div(
        [
            html.H1("Data management", className="h3"),
            dcc.Store(id=DATA_JOB),
            dcc.Store(id=DATA_ROLLBACK_TARGET),
            dcc.Interval(id=DATA_POLL, interval=700, disabled=True),
            dcc.ConfirmDialog(id=DATA_CONFIRM),
            dbc.Row(
                [
                    dbc.Col([upload_card(), templates_card()], lg=5),
                    dbc.Col(
                        [
                            titled_card("Upload history", html.Div(history, id=DATA_HISTORY), className="mb-3"),
                            titled_card("Submission tracker", tracker),
                        ],
                        lg=7,
                    ),
                ]
            ),
        ]
    )


def layout(**_query: str) -> html.Div:
    user = current_user()
    if user is None:  # only Dash's setup, learning the ids of every page: no data
        return page()
    if not user.can("uploader"):
        return html.Div(
            [html.H1("Data management", className="h3"), dbc.Alert("This page is for HR uploaders.", color="warning")]
        )
    return page(_history(user), tracker_table(*submission_status(default_engine(), user.entities)))


dash.register_page(__name__, path="/data", name="Data", title="Data management", order=5, role="uploader")


clientside_callback(
    ClientsideFunction(namespace="learning", function_name="rememberKind"),
    Output(DATA_KIND_ECHO, "children"),
    Input(DATA_KIND, "value"),
)


def _batch_id(value: Any) -> bool:
    """Whether ``value`` can be a batch id (a whole number the store's integer column holds)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def _history(user: SignedInUser) -> html.Div:
    """The upload history this user may see: every batch, or for a user limited to some entities, their
    own uploads and the batches of their entities."""
    batches = list_batches(default_engine(), HISTORY_ROWS, entities=user.entities, uploader=user.username)
    return history_table(batches, True)


@callback(
    Output(DATA_PANEL, "children"),
    Output(DATA_POLL, "disabled"),
    Output(DATA_COMMIT, "disabled"),
    Output(DATA_CANCEL, "disabled"),
    Output(DATA_HISTORY, "children"),
    Input(DATA_JOB, "data"),
    Input(DATA_POLL, "n_intervals"),
    prevent_initial_call=True,
)
def show_job(job_id: str | None, _ticks: int | None) -> tuple[Any, ...]:
    user = require("uploader")
    if not job_id or not isinstance(job_id, str):
        return html.Div(), True, True, True, no_update
    try:
        job = owned_job(job_id, user)
    except UploadRefused:
        return dbc.Alert("No such upload.", color="warning"), True, True, True, no_update
    running = job["status"] in RUNNING
    finished_now = job["status"] in ("loaded", "rejected", "duplicate")
    history = _history(user) if finished_now else no_update
    return job_panel(job), not running, job["status"] != "valid", job["status"] not in ("valid", "rejected"), history


@callback(
    Output(DATA_POLL, "disabled", allow_duplicate=True),
    Output(DATA_MESSAGE, "children"),
    Input(DATA_COMMIT, "n_clicks"),
    State(DATA_JOB, "data"),
    prevent_initial_call=True,
)
def commit(_clicks: int | None, job_id: str | None) -> tuple[Any, Any]:
    user = require("uploader")
    try:
        start_commit(job_id if isinstance(job_id, str) else "", user)
    except UploadRefused as refused:
        return no_update, dbc.Alert(str(refused), color="warning")
    return False, ""


@callback(
    Output(DATA_PANEL, "children", allow_duplicate=True),
    Output(DATA_JOB, "data"),
    Output(DATA_MESSAGE, "children", allow_duplicate=True),
    Input(DATA_CANCEL, "n_clicks"),
    State(DATA_JOB, "data"),
    prevent_initial_call=True,
)
def cancel_upload(_clicks: int | None, job_id: str | None) -> tuple[Any, Any, Any]:
    user = require("uploader")
    try:
        cancel(job_id if isinstance(job_id, str) else "", user)
    except UploadRefused as refused:
        return no_update, no_update, dbc.Alert(str(refused), color="warning")
    return html.Div(), None, dbc.Alert("Cancelled. Nothing was written.", color="secondary", id="data-cancelled")


@callback(
    Output(DATA_CONFIRM, "displayed"),
    Output(DATA_CONFIRM, "message"),
    Output(DATA_ROLLBACK_TARGET, "data"),
    Input({"type": ROLLBACK, "batch": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def ask_rollback(clicks: list[int | None]) -> tuple[Any, Any, Any]:
    require("uploader")
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(clicks):
        return no_update, no_update, no_update
    batch = trigger.get("batch")
    if not _batch_id(batch):
        return no_update, no_update, no_update
    return True, f"Roll back batch {batch}? Its rows are removed and the rows it replaced come back.", batch


@callback(
    Output(DATA_HISTORY, "children", allow_duplicate=True),
    Output(DATA_MESSAGE, "children", allow_duplicate=True),
    Input(DATA_CONFIRM, "submit_n_clicks"),
    State(DATA_ROLLBACK_TARGET, "data"),
    prevent_initial_call=True,
)
def roll_back(_submitted: int | None, batch: int | None) -> tuple[Any, Any]:
    user = require("uploader")
    if not _batch_id(batch):
        return no_update, no_update
    try:
        result = rollback_batch(default_engine(), batch, rolled_back_by=user.username, entities=user.entities)
    except RollbackError as refused:
        audit(default_engine(), user.username, "rollback", f"batch {batch}", "refused", str(refused))
        return no_update, dbc.Alert(str(refused), color="warning")
    audit(default_engine(), user.username, "rollback", f"batch {batch} ({result.kind})", "ok")
    warm_cache_in_background()
    message = f"Batch {batch} rolled back: {result.rows_removed:,} rows removed, {result.rows_restored:,} restored."
    return _history(user), dbc.Alert(message, color="success", id="data-rolled-back")

"""Administration (admins only): users and their roles, the audit log, and the settings in force."""

from __future__ import annotations

import secrets
from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

import settings
from components.cards import titled_card
from data_access.reads.views import filter_options
from data_access.store import default_engine
from data_access.users import ROLES, UserError, audit, audit_events, create_user, list_users, set_active
from server.auth import current_user, require

ADMIN_USERNAME = "admin-username"
ADMIN_ROLE = "admin-role"
ADMIN_ENTITIES = "admin-entities"
ADMIN_CREATE = "admin-create"
ADMIN_MESSAGE = "admin-message"
ADMIN_USERS = "admin-users"
ADMIN_TOGGLE = "admin-toggle"
SECRET_SETTINGS = {"SECRET_KEY", "PSEUDONYM_KEY", "OIDC_CLIENT_SECRET", "DATABASE_URL"}


def users_table(users: list[dict[str, Any]], me: str | None) -> dbc.Table:
    rows = []
    for user in users:
        toggle: Any = ""
        if user["username"] != me:
            toggle = dbc.Button(
                "Deactivate" if user["active"] else "Reactivate",
                id={"type": ADMIN_TOGGLE, "user": user["username"]},
                size="sm",
                color="outline-danger" if user["active"] else "outline-success",
            )
        cells = [user["username"], user["role"], user["entities"], user["sign_in"], "yes" if user["active"] else "no"]
        rows.append(html.Tr([*(html.Td(c) for c in cells), html.Td(f"{user['created_at']:%Y-%m-%d}"), html.Td(toggle)]))
    header = html.Thead(
        html.Tr([html.Th(h) for h in ("User", "Role", "Entities", "Signs in with", "Active", "Since", "")])
    )
    return dbc.Table([header, html.Tbody(rows)], size="sm", striped=True, responsive=True, id="admin-users-table")


def create_form(entity_options: list[tuple[str, str]]) -> dbc.Card:
    return titled_card(
        "Add a user",
        [
            dbc.Label("Username", html_for=ADMIN_USERNAME),
            dbc.Input(id=ADMIN_USERNAME, type="text", className="mb-2", maxLength=120),
            dbc.Label("Role", html_for=ADMIN_ROLE),
            dcc.Dropdown(id=ADMIN_ROLE, options=list(ROLES), value="viewer", clearable=False, className="mb-2"),
            dbc.Label("Limited to entities (empty: all)", html_for=ADMIN_ENTITIES),
            dcc.Dropdown(
                id=ADMIN_ENTITIES,
                options=[{"value": v, "label": label} for v, label in entity_options],
                multi=True,
                className="mb-3",
            ),
            dbc.Button("Add user", id=ADMIN_CREATE, color="primary"),
            html.Div(id=ADMIN_MESSAGE, className="mt-3"),
        ],
        className="mb-3",
    )


def settings_table() -> dbc.Table:
    rows = []
    for setting in settings.SETTINGS:
        value = settings.get(setting.name)
        shown = ("(set)" if value else "(empty)") if setting.name in SECRET_SETTINGS else (value or "(empty)")
        rows.append(
            html.Tr([html.Td(html.Code(setting.name)), html.Td(shown), html.Td(setting.help, className="small")])
        )
    return dbc.Table(html.Tbody(rows), size="sm", striped=True, responsive=True)


def page(users: Any = None, form: Any = None, log: Any = None, config: Any = None) -> html.Div:
    """The page's components; with no data it is what Dash's setup validates the callbacks on."""
    return html.Div(
        [
            html.H1("Administration", className="h3"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            titled_card("Users", html.Div(users, id=ADMIN_USERS), className="mb-3"),
                            titled_card("Settings in force", config),
                        ],
                        lg=7,
                    ),
                    dbc.Col(
                        [
                            form or create_form([]),
                            titled_card("Audit log (latest 200)", log),
                        ],
                        lg=5,
                    ),
                ]
            ),
        ]
    )


def audit_table() -> html.Div:
    events = pd.DataFrame(audit_events(default_engine(), 200))
    if events.empty:
        return html.P("Nothing recorded yet.")
    events["at"] = pd.to_datetime(events["at"]).dt.strftime("%Y-%m-%d %H:%M:%S")
    events.columns = [c.capitalize() for c in events.columns]
    return html.Div(
        dbc.Table.from_dataframe(events, size="sm", striped=True), className="table-scroll", id="admin-audit"
    )


def layout(**_query: str) -> html.Div:
    user = current_user()
    if user is None:  # only Dash's setup, learning the ids of every page: no data
        return page()
    if not user.can("admin"):
        return html.Div(
            [html.H1("Administration", className="h3"), dbc.Alert("This page is for administrators.", color="warning")]
        )
    engine = default_engine()
    return page(
        users_table(list_users(engine), user.username),
        create_form(filter_options(engine)["entity"]),
        audit_table(),
        settings_table(),
    )


dash.register_page(__name__, path="/admin", name="Admin", title="Administration", order=6, role="admin")


@callback(
    Output(ADMIN_MESSAGE, "children"),
    Output(ADMIN_USERS, "children"),
    Input(ADMIN_CREATE, "n_clicks"),
    State(ADMIN_USERNAME, "value"),
    State(ADMIN_ROLE, "value"),
    State(ADMIN_ENTITIES, "value"),
    prevent_initial_call=True,
)
def add_user(
    _clicks: int | None, username: str | None, role: str | None, entities: list[str] | None
) -> tuple[Any, Any]:
    admin = require("admin")
    if not isinstance(username, str | None) or not isinstance(role, str | None) or isinstance(entities, str):
        return dbc.Alert("The form sent values of the wrong kind.", color="warning"), no_update
    password = secrets.token_urlsafe(15)
    scope = tuple(entities) if entities else None
    try:
        create_user(default_engine(), (username or "").strip(), password, role or "", scope)
    except UserError as refused:
        audit(default_engine(), admin.username, "user_created", (username or "")[:120], "refused", str(refused))
        return dbc.Alert(str(refused), color="warning"), no_update
    audit(
        default_engine(), admin.username, "user_created", f"{username} ({role})", "ok", f"entities: {entities or 'all'}"
    )
    message = [
        f"{username} can sign in as {role} with the password ",
        html.Code(password, id="admin-new-password"),
        ". It is shown only now: pass it on securely.",
    ]
    return dbc.Alert(message, color="success"), users_table(list_users(default_engine()), admin.username)


@callback(
    Output(ADMIN_USERS, "children", allow_duplicate=True),
    Output(ADMIN_MESSAGE, "children", allow_duplicate=True),
    Input({"type": ADMIN_TOGGLE, "user": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def toggle_user(clicks: list[int | None]) -> tuple[Any, Any]:
    admin = require("admin")
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(clicks) or trigger["user"] == admin.username:
        return no_update, no_update
    username = str(trigger["user"])
    users = {u["username"]: u for u in list_users(default_engine())}
    if username not in users:
        return no_update, dbc.Alert("No such user.", color="warning")
    active = not users[username]["active"]
    set_active(default_engine(), username, active)
    audit(default_engine(), admin.username, "user_changed", username, "ok", "reactivated" if active else "deactivated")
    return users_table(list_users(default_engine()), admin.username), no_update

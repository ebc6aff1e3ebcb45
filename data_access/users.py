"""Users, roles and the audit log.

Passwords are hashed with argon2id (argon2-cffi's defaults). Roles are ordered:
viewer < uploader < admin; a user may be limited to some entities.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, func, insert, select, update

from data_access.engine import write_transaction
from data_access.schema import AuditEvent, User

ROLES = ("viewer", "uploader", "admin")
USERNAME = re.compile(r"^[A-Za-z0-9._@+-]{1,120}$")
ENTITY_CODE = re.compile(r"^[A-Za-z0-9-]{1,20}$")
MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()
# Verifying against a real hash for unknown users keeps sign-in time the same whether or not a user exists.
_DUMMY_HASH = _hasher.hash("not-a-password-anyone-has")


class UserError(ValueError):
    """A user cannot be created or changed as asked."""


@dataclass(frozen=True)
class SignedInUser:
    username: str
    role: str
    entities: tuple[str, ...] | None  # None: every entity
    session_epoch: int = 0  # sessions that began in an earlier epoch are over

    def can(self, role: str) -> bool:
        """True when this user's role is ``role`` or above."""
        return ROLES.index(self.role) >= ROLES.index(role)

    def may_see(self, entity: str | None) -> bool:
        return self.entities is None or entity in self.entities


_COLUMNS = (User.id, User.username, User.role, User.entity_scope, User.password_hash, User.session_epoch)


def _user(row: Any) -> SignedInUser:
    scope = tuple(code for code in (row.entity_scope or "").split(",") if code) or None
    return SignedInUser(row.username, row.role, scope, row.session_epoch)


def create_user(
    engine: Engine, username: str, password: str | None, role: str, entities: tuple[str, ...] | None = None
) -> SignedInUser:
    """Add a user. ``password`` None means single sign-on only (no password can match)."""
    if not USERNAME.match(username):
        raise UserError("a username is 1-120 letters, digits or . _ @ + -")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if entities and not all(isinstance(code, str) and ENTITY_CODE.match(code) for code in entities):
        raise UserError("entity codes are 1-20 letters, digits or '-'")
    scope = ",".join(sorted(set(entities))) if entities else None
    with write_transaction(engine) as conn:
        exists = conn.execute(select(User.id).where(func.lower(User.username) == username.lower())).first()
        if exists:
            raise UserError(f"user {username!r} already exists")
        conn.execute(
            insert(User).values(
                username=username,
                password_hash=_hasher.hash(password) if password is not None else "",
                role=role,
                entity_scope=scope,
                active=True,
                created_at=dt.datetime.now(dt.UTC),
            )
        )
    return SignedInUser(username, role, tuple(sorted(set(entities))) if entities else None)


def authenticate(engine: Engine, username: str, password: str) -> SignedInUser | None:
    """The user when the password matches an active account, else None (in constant-ish time)."""
    with engine.connect() as conn:
        row = conn.execute(select(*_COLUMNS).where(User.username == username, User.active.is_(True))).first()
    try:
        _hasher.verify(row.password_hash if row and row.password_hash else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or not row.password_hash:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        with write_transaction(engine) as conn:
            conn.execute(update(User).where(User.id == row.id).values(password_hash=_hasher.hash(password)))
    return _user(row)


def find_user(engine: Engine, username: str) -> SignedInUser | None:
    """An active user by name (for single sign-on and for each request's session check)."""
    with engine.connect() as conn:
        row = conn.execute(select(*_COLUMNS).where(User.username == username, User.active.is_(True))).first()
    return None if row is None else _user(row)


def has_users(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(User.id).limit(1)).first() is not None


def audit(engine: Engine, actor: str, action: str, target: str, outcome: str, detail: str = "") -> None:
    """Record one event. ``target`` and ``detail`` must never carry a raw staff identifier."""
    with engine.begin() as conn:
        conn.execute(
            insert(AuditEvent).values(
                at=dt.datetime.now(dt.UTC),
                actor=actor[:120],
                action=action[:40],
                target=target[:300],
                outcome=outcome[:20],
                detail=detail[:1000],
            )
        )


def audit_upload(engine: Engine, actor: str, kind: str, file_name: str, status: str, report: dict[str, Any]) -> None:
    """One event per upload attempt, from its report: kind, file name and counts (never row values)."""
    detail = f"{report.get('rows_read', 0)} rows read, {report.get('error_count', 0)} errors"
    if report.get("batch_id") is not None:
        detail += f", batch {report['batch_id']}"
    audit(engine, actor, "upload", f"{kind}: {file_name}", status, detail)


def audit_events(engine: Engine, limit: int = 200) -> list[dict[str, object]]:
    """The latest events, newest first."""
    columns = (
        AuditEvent.at,
        AuditEvent.actor,
        AuditEvent.action,
        AuditEvent.target,
        AuditEvent.outcome,
        AuditEvent.detail,
    )
    query = select(*columns).order_by(AuditEvent.id.desc()).limit(limit)
    with engine.connect() as conn:
        return [
            {c: getattr(e, c) for c in ("at", "actor", "action", "target", "outcome", "detail")}
            for e in conn.execute(query)
        ]


def list_users(engine: Engine) -> list[dict[str, Any]]:
    """Every user (never the password hash), by name."""
    columns = (User.username, User.role, User.entity_scope, User.active, User.created_at, User.password_hash)
    with engine.connect() as conn:
        rows = conn.execute(select(*columns).order_by(User.username)).all()
    return [
        {
            "username": r.username,
            "role": r.role,
            "entities": r.entity_scope or "all",
            "active": r.active,
            "created_at": r.created_at,
            "sign_in": "password" if r.password_hash else "single sign-on",
        }
        for r in rows
    ]


def set_active(engine: Engine, username: str, active: bool) -> None:
    """Let a user in again, or stop them at their next request; either way their open sessions end."""
    values = {"active": active, "session_epoch": User.session_epoch + 1}
    with write_transaction(engine) as conn:
        changed = conn.execute(update(User).where(User.username == username).values(**values)).rowcount
    if not changed:
        raise UserError(f"there is no user {username!r}")


def end_sessions(engine: Engine, username: str) -> None:
    """End every open session of ``username`` at its next request, on every worker."""
    with write_transaction(engine) as conn:
        conn.execute(update(User).where(User.username == username).values(session_epoch=User.session_epoch + 1))

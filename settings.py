"""Configuration, declared once: every setting is read from the environment.

Each setting has a name, a development default and a help text; the README's
configuration table is checked against this list by ``tests/unit/test_docs.py``.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATABASE_URL",
        "",
        "Any SQLAlchemy URL. Empty means the embedded SQLite file "
        "`<INSTANCE_DIR>/learning.db`. `postgresql://...` uses the psycopg 3 driver.",
    ),
    Setting(
        "INSTANCE_DIR",
        str(PROJECT_ROOT / "instance"),
        "Folder for local state: the embedded SQLite file and the generated pseudonymisation key.",
    ),
    Setting(
        "PSEUDONYM_KEY",
        "",
        "Secret for the keyed hash (BLAKE2b) that replaces learner and participant ids. "
        "Empty means a random key generated once into `<INSTANCE_DIR>/pseudonym.key`. "
        "Changing it makes new uploads stop matching earlier ones.",
    ),
    Setting(
        "MIN_CELL_SIZE",
        "5",
        "Smallest count of people shown; smaller counts show as '<N' and rates built on them are withheld.",
    ),
    Setting("HOST", "127.0.0.1", "Address the dashboard listens on."),
    Setting("PORT", "8050", "Port the dashboard listens on."),
    Setting(
        "SQLITE_BUSY_TIMEOUT",
        "300",
        "Seconds a writer waits for another writer's lock on SQLite before giving up.",
    ),
    Setting(
        "MAX_REPORTED_ERRORS",
        "1000",
        "How many row errors an upload report lists; all are counted.",
    ),
    Setting(
        "ENVIRONMENT",
        "development",
        "`production` refuses to start without SECRET_KEY and PSEUDONYM_KEY from the environment "
        "and marks the session cookie Secure (HTTPS only).",
    ),
    Setting(
        "SECRET_KEY",
        "",
        "Signs session cookies. Empty (development only) means a random key generated once into "
        "`<INSTANCE_DIR>/secret.key`.",
    ),
    Setting("SESSION_HOURS", "8", "How long a sign-in lasts."),
    Setting(
        "PROXIES",
        "0",
        "How many reverse proxies stand in front (their X-Forwarded-For/-Proto/-Host are then trusted, so "
        "HTTPS and the same-origin check work behind them). 0: none, trust no such header.",
    ),
    Setting(
        "LOGIN_RATE_LIMIT",
        "10 per minute",
        "Sign-in attempts allowed per address and username (flask-limiter syntax).",
    ),
    Setting(
        "LOGIN_ADDRESS_RATE_LIMIT",
        "30 per 10 minutes",
        "Failed sign-ins allowed per address, whatever the usernames tried (flask-limiter syntax): "
        "password spraying from one address is stopped.",
    ),
    Setting(
        "ALLOWED_HOSTS",
        "localhost,127.0.0.1",
        "Host names the dashboard answers to, comma-separated (a leading dot allows subdomains); a request "
        "for any other host gets 400. Set it to the names people use, e.g. `learning.example.org`.",
    ),
    Setting(
        "RATELIMIT_STORAGE_URI",
        "memory://",
        "Where sign-in attempts are counted: `memory://` per process, `redis://127.0.0.1:6379` shared by workers.",
    ),
    Setting(
        "MAX_REQUEST_BYTES",
        "1048576",
        "Largest request body outside the upload route; larger requests get 413 before the body is read.",
    ),
    Setting(
        "MAX_UPLOAD_BYTES",
        "125829120",
        "Largest file the upload page accepts (120 MiB); the body streams to disk, never into memory.",
    ),
    Setting(
        "CACHE_URL",
        "",
        "Where figure tables are cached, keyed by the data version: empty means a small cache in each "
        "process; `redis://127.0.0.1:6379/0` shares one cache between all workers.",
    ),
    Setting(
        "UPLOAD_WORKERS",
        "thread",
        "Who runs upload previews and commits: `thread` (a thread of the web process that received the "
        "file) or `queue` (the web process only queues them; run `flask --app app:server run-jobs` "
        "processes, which share the store and `INSTANCE_DIR`).",
    ),
    Setting(
        "OIDC_ISSUER",
        "",
        "Single sign-on: the OpenID Connect issuer URL (its `/.well-known/openid-configuration` is read). "
        "Empty turns single sign-on off.",
    ),
    Setting("OIDC_CLIENT_ID", "", "Single sign-on: this application's client id at the identity provider."),
    Setting("OIDC_CLIENT_SECRET", "", "Single sign-on: the client secret."),
    Setting(
        "OIDC_USERNAME_CLAIM",
        "email",
        "Single sign-on: the ID-token claim that must match a username created with `create-user`.",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def get(name: str) -> str:
    """The setting's value from the environment, or its default."""
    setting = _BY_NAME[name]
    value = os.environ.get(name, "")
    return value if value != "" else setting.default


def get_int(name: str) -> int:
    value = get(name)
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"setting {name} must be an integer, got {value!r}") from None


def instance_dir() -> Path:
    path = Path(get("INSTANCE_DIR"))
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def database_url() -> str:
    return get("DATABASE_URL") or f"sqlite:///{instance_dir() / 'learning.db'}"


def allowed_hosts() -> list[str]:
    return [host.strip().lower() for host in get("ALLOWED_HOSTS").split(",") if host.strip()]


def is_production() -> bool:
    return get("ENVIRONMENT").strip().lower() == "production"


class ConfigurationError(RuntimeError):
    """A setting that must be given is missing."""


def pseudonym_key() -> bytes:
    """The pseudonymisation secret: from the environment, else a per-install random key."""
    return _secret("PSEUDONYM_KEY", "pseudonym.key")


def secret_key() -> bytes:
    """The session-signing secret: from the environment, else (development only) a per-install random key."""
    return _secret("SECRET_KEY", "secret.key")


def _secret(name: str, file_name: str) -> bytes:
    configured = get(name)
    if configured:
        return configured.encode()
    if is_production():
        raise ConfigurationError(f"{name} must be set in the environment when ENVIRONMENT=production")
    key_file = instance_dir() / file_name
    if not key_file.exists():
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return key_file.read_text().strip().encode()

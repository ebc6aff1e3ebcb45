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
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    return get("DATABASE_URL") or f"sqlite:///{instance_dir() / 'learning.db'}"


def pseudonym_key() -> bytes:
    """The pseudonymisation secret: from the environment, else a per-install random key."""
    configured = get("PSEUDONYM_KEY")
    if configured:
        return configured.encode()
    key_file = instance_dir() / "pseudonym.key"
    if not key_file.exists():
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return key_file.read_text().strip().encode()

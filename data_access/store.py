"""The application's own store, as configured by the environment."""

from __future__ import annotations

from sqlalchemy import Engine

import settings
from data_access.engine import get_engine


def default_engine() -> Engine:
    """The engine for ``DATABASE_URL`` (the embedded SQLite file by default)."""
    return get_engine(settings.database_url(), float(settings.get_int("SQLITE_BUSY_TIMEOUT")))

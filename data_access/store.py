"""The application's own store, as configured by the environment."""

from __future__ import annotations

import functools

from sqlalchemy import Engine

import settings
from data_access.engine import get_engine
from data_access.reads.cache import MemoryStore, RedisStore, Store
from data_access.reads.snapshot import Snapshots, snapshot_folder


def default_engine() -> Engine:
    """The engine for ``DATABASE_URL`` (the embedded SQLite file by default)."""
    return get_engine(settings.database_url(), float(settings.get_int("SQLITE_BUSY_TIMEOUT")))


@functools.cache
def default_cache(url: str = "") -> Store:
    """The view cache for ``CACHE_URL`` (Redis when given, else this process's memory)."""
    return RedisStore(url) if url else MemoryStore()


@functools.cache
def snapshots(engine: Engine) -> Snapshots:
    """This process's activity snapshots of the store behind ``engine``."""
    return Snapshots(engine, snapshot_folder(engine, settings.instance_dir()))

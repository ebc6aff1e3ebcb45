"""Shared fixtures: a real, migrated database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from data_access.engine import get_engine, normalise_url, wait_for_checkpoints
from data_access.migrate import upgrade
from data_access.reads.snapshot import wait_for_builds
from data_access.store import snapshots

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL not set")),
]


@contextmanager
def database_url(backend: str, folder: Path) -> Iterator[str]:
    """The URL of a new, empty database on ``backend`` (a PostgreSQL schema of its own), dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'test.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            make_url(normalise_url(PG_URL))
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        wait_for_background_work()  # an upload's last step, its warm-up or a build may still read the schema
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def wait_for_background_work(timeout: float = 120.0) -> None:
    """Wait for the threads that use the store after a request has been answered: an upload's step (and
    the warm-up that follows a commit), a rollback's warm-up, and builds of the activity snapshot."""
    for thread in threading.enumerate():
        if thread.name.startswith(("upload-", "warm-cache")):
            thread.join(timeout)
    wait_for_builds()


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A freshly migrated database on each backend."""
    with database_url(request.param, tmp_path) as url:
        engine = get_engine(url, 30.0)
        upgrade(engine)
        yield engine
        wait_for_checkpoints()
        wait_for_builds()
        snapshots(engine).close()
        shutil.rmtree(snapshots(engine).folder, ignore_errors=True)
        engine.dispose()

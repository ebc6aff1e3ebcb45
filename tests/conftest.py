"""Shared fixtures: a real, migrated database per test (SQLite, and PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import Engine, create_engine, text

from data_access.engine import get_engine, normalise_url
from data_access.migrate import upgrade

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL not set")),
]
KEY = b"test-pseudonym-key"


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path) -> Engine:  # type: ignore[no-untyped-def]
    """A freshly migrated database on each backend."""
    if request.param == "sqlite":
        engine = get_engine(f"sqlite:///{tmp_path / 'test.db'}", 30.0)
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(normalise_url(PG_URL), connect_args={"options": f"-csearch_path={schema}"})
    upgrade(engine)
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()

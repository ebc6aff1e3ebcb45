"""Loading the bundled demo data through the same ingest pipeline as every upload."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from data_access.ingest.load import IngestResult, ingest
from data_access.schema import UploadBatch

DEMO_USER = "demo-loader"


def database_is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(UploadBatch)).scalar_one() == 0


def load_demo(engine: Engine, *, pseudonym_key: bytes) -> list[IngestResult]:
    """Generate the deterministic demo data and ingest each kind as a CSV upload."""
    from data_access.demo import generate_demo

    results = []
    for kind, frame in generate_demo().items():
        payload = frame.to_csv(index=False).encode("utf-8")
        result = ingest(engine, kind, payload, f"demo_{kind}.csv", pseudonym_key=pseudonym_key, uploaded_by=DEMO_USER)
        if result.status == "rejected":
            raise RuntimeError(f"demo {kind} was rejected: {result.as_dict()['errors'][:5]}")
        results.append(result)
    return results

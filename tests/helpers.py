"""Small builders of upload files for tests."""

from __future__ import annotations

import csv
import io

from sqlalchemy import Engine, select

from data_access.ingest.load import IngestResult, ingest
from data_access.schema import DATA_TABLES, HISTORY_TABLES

KEY = b"test-pseudonym-key"

ENTITIES = [
    {"entity_code": "DMSPC", "entity_name": "Department of Management Strategy, Policy and Compliance",
     "pillar": "Management and support", "entity_type": "Department", "parent_entity_code": ""},
    {"entity_code": "OHR", "entity_name": "Office of Human Resources", "pillar": "Management and support",
     "entity_type": "Department", "parent_entity_code": "DMSPC"},
    {"entity_code": "MONUSCO", "entity_name": "Stabilization Mission in the DR Congo", "pillar": "Peace and security",
     "entity_type": "Peacekeeping operation", "parent_entity_code": ""},
]  # fmt: skip
DUTY_STATIONS = [
    {"duty_station_code": "US-NEWYORK", "duty_station_name": "New York", "country_iso3": "USA",
     "is_headquarters": "true", "region": "Americas", "latitude": "40.71", "longitude": "-74.01",
     "hardship_class": "H"},
    {"duty_station_code": "CI-ABIDJAN", "duty_station_name": "Abidjan, Côte d'Ivoire", "country_iso3": "CIV",
     "is_headquarters": "false", "region": "Africa", "latitude": "5.35", "longitude": "-4.00", "hardship_class": "C"},
    {"duty_station_code": "CD-GOMA", "duty_station_name": "Goma", "country_iso3": "COD",
     "is_headquarters": "no", "region": "Africa", "latitude": "-1.68", "longitude": "29.22", "hardship_class": "E"},
]  # fmt: skip


def activity(n: int, **overrides: str) -> dict[str, str]:
    row = {
        "platform": "LinkedIn Learning",
        "learner_id": f"S{n:07d}",
        "course_id": f"LIL-{n % 997:06d}",
        "enrolled_on": "2024-03-01",
        "entity_code": ["DMSPC", "OHR", "MONUSCO"][n % 3],
        "duty_station_code": ["US-NEWYORK", "CI-ABIDJAN", "CD-GOMA"][n % 3],
        "staff_category": "P",
        "gender": "female" if n % 2 else "male",
        "status": "completed",
        "completed_on": "2024-03-20",
        "course_title": "Data Analysis Foundations",
        "learning_need": "Data and analytics",
        "hours": "2.5",
    }
    row.update(overrides)
    return row


def to_csv(rows: list[dict[str, str]], delimiter: str = ",", encoding: str = "utf-8", newline: str = "\n") -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), delimiter=delimiter, lineterminator=newline)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def load(engine: Engine, kind: str, payload: bytes | str, name: str = "upload.csv", **kwargs) -> IngestResult:  # type: ignore[no-untyped-def]
    return ingest(engine, kind, payload, name, pseudonym_key=KEY, uploaded_by="tester", **kwargs)


def load_reference(engine: Engine) -> None:
    assert load(engine, "entities", to_csv(ENTITIES), "entities.csv").status == "loaded"
    assert load(engine, "duty_stations", to_csv(DUTY_STATIONS), "duty_stations.csv").status == "loaded"


def table_rows(engine: Engine, kind: str, history: bool = False) -> list[tuple]:  # type: ignore[type-arg]
    table = (HISTORY_TABLES if history else DATA_TABLES)[kind]
    with engine.connect() as conn:
        return sorted(tuple(str(v) for v in row) for row in conn.execute(select(table)))


def create_user(
    runner, username: str, role: str = "viewer", entities: str = "", password: str = "a-long-test-password"
):  # type: ignore[no-untyped-def]
    """Add a user through the `create-user` command (password on stdin)."""
    args = ["create-user", username, "--role", role, "--password-stdin"] + (
        ["--entities", entities] if entities else []
    )
    result = runner.invoke(args=args, input=password + "\n")
    assert result.exit_code == 0, result.output


def signed_in(server, username: str):  # type: ignore[no-untyped-def]
    """A test client whose session belongs to ``username``; its requests come from the app's own origin."""
    client = server.test_client()
    with client.session_transaction() as session:
        from data_access.store import default_engine
        from data_access.users import find_user

        user = find_user(default_engine(), username)
        session["user"] = username
        session["epoch"] = user.session_epoch if user else 0
    client.environ_base["HTTP_ORIGIN"] = "http://localhost"
    return client

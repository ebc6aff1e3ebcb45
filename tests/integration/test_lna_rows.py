"""The LNA held in memory answers every LNA figure exactly as SQL does, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from data_access.activity_build import build_index
from data_access.cache import data_versions
from data_access.filters import Filters
from data_access.lna_rows import LNA_READS, LnaRows, lna_of
from data_access.views import VIEWS
from tests.helpers import load, to_csv
from tests.integration.test_activity_index import PLACES, same, varied  # noqa: F401 - fixture

LNA_VIEWS = [name for name, view in VIEWS.items() if view.lna]
NEEDS = ["Data and analytics", "Innovation", "Leadership and management", "Space law"]  # the last outside the taxonomy


def lna_rows(seed: int = 3) -> list[dict[str, str]]:
    """Two cycles of answers over every place, report type, need, priority, category and gender."""
    rng = np.random.default_rng(seed)
    keys = itertools.product(
        ("2022", "2024"), PLACES, ("Staff survey", "Manager survey"), NEEDS, ("high", "medium", "low"), ("P", "GS"),
        ("female", "male", ""),
    )  # fmt: skip
    return [
        {"cycle": cycle, "entity_code": entity, "duty_station_code": station, "report_type": report,
         "learning_need": need, "priority": priority, "staff_category": category, "gender": gender,
         "respondents": str(int(rng.integers(1, 40)))}
        for cycle, (entity, station), report, need, priority, category, gender in keys
        if rng.random() < 0.6
    ]  # fmt: skip


@pytest.fixture
def surveyed(varied):  # type: ignore[no-untyped-def]  # noqa: F811 - the fixture imported above
    result = load(varied, "lna", to_csv(lna_rows()), "lna.csv")
    assert result.status == "loaded", result.as_dict()
    return varied


SLICES = [
    Filters(),
    Filters(entity="DMSPC"),
    Filters(duty_station="CD-GOMA"),
    Filters(entity="DMSPC", duty_station="CD-GOMA", gender="female"),
    Filters(staff_category="GS", gender="male"),
    Filters(cycle="2022"),
    Filters(cycle="2022", entity="OHR"),
    Filters(cycle="1999"),
    Filters(report_type="Manager survey"),
    Filters(learning_need="Space law"),
    Filters(learning_need="Innovation", staff_category="P", report_type="Staff survey"),
    Filters(entity="UNKNOWN"),
    Filters(platform="Coursera"),  # read by the need gap's completions only
]


def test_every_lna_view_matches_sql_for_every_slice(surveyed):
    with surveyed.connect() as conn:
        lna, index = LnaRows.read(conn), build_index(conn)
        for filters, name in itertools.product(SLICES, LNA_VIEWS):
            expected = VIEWS[name].query(conn, filters)
            assert len(expected) or filters in (Filters(cycle="1999"), Filters(entity="UNKNOWN")), (name, filters)
            same(expected, VIEWS[name].query(conn, filters, lna=lna))
            if VIEWS[name].indexed:
                same(expected, VIEWS[name].query(conn, filters, index=index, lna=lna))


def test_the_rows_are_read_once_per_data_version(surveyed):
    version = data_versions(surveyed).of(LNA_READS)
    first = lna_of(surveyed, version)
    assert first is not None and lna_of(surveyed, version) is first
    assert first.latest_cycle == "2024"
    more = [{**row, "cycle": "2025"} for row in lna_rows(seed=4)[:10]]
    assert load(surveyed, "lna", to_csv(more), "lna-2025.csv").status == "loaded"
    newer = lna_of(surveyed, data_versions(surveyed).of(LNA_READS))
    assert newer is not None and newer is not first and newer.latest_cycle == "2025"
    assert lna_of(surveyed, version) is first  # still right for that version
    assert lna_of(surveyed, f"{version}-gone") is None  # a version no longer current is never read as the current one

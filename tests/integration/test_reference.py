"""Headcount and names held in memory answer every figure exactly as SQL does, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from data_access import kpis, queries_uptake
from data_access.activity_build import build_index
from data_access.cache import data_versions
from data_access.filters import Filters
from data_access.reference import REFERENCE_READS, Reference, reference_of
from data_access.views import VIEWS
from tests.helpers import load, to_csv
from tests.integration.test_activity_index import PERIODS, PLACES, SLICES, same, varied  # noqa: F401 - fixture

#: Snapshots in which people come and go: a period's end picks the latest snapshot on or before it.
SNAPSHOTS = {
    "2023-06-30": PLACES[:2],
    "2023-12-31": PLACES,
    "2024-06-30": PLACES[1:],
}
REFERENCED = [name for name, view in VIEWS.items() if view.referenced]


@pytest.fixture
def staffed(varied):  # type: ignore[no-untyped-def]  # noqa: F811 - the fixture imported above
    rows = [
        {"as_of_date": day, "entity_code": entity, "duty_station_code": station, "staff_category": category,
         "gender": gender, "headcount": str(7 + 3 * n)}
        for day, places in SNAPSHOTS.items()
        for n, ((entity, station), category, gender) in enumerate(
            itertools.product(places, ("P", "GS"), ("female", "male"))
        )
    ]  # fmt: skip
    assert load(varied, "headcount", to_csv(rows), "snapshots.csv").status == "loaded"
    return varied


def test_every_referenced_view_matches_sql_for_every_slice_and_period(staffed):
    reference = Reference.read(staffed)
    with staffed.connect() as conn:
        index = build_index(conn)
        for (start, end), base in itertools.product(PERIODS, SLICES):
            filters = Filters(**{**base.__dict__, "date_from": start, "date_to": end})
            for name in REFERENCED:
                expected = VIEWS[name].query(conn, filters)
                same(expected, VIEWS[name].query(conn, filters, reference=reference))
                same(expected, VIEWS[name].query(conn, filters, index=index, reference=reference))


@pytest.mark.parametrize("dimension", ["entity", "duty_station", "staff_category", "gender", "location", "platform"])
def test_headcount_per_breakdown_matches_sql(staffed, dimension):
    reference = Reference.read(staffed)
    ends = [None, dt.date(2023, 6, 30), dt.date(2023, 9, 30), dt.date(2024, 12, 31), dt.date(2020, 1, 1)]
    with staffed.connect() as conn:
        for end, base in itertools.product(ends, SLICES):
            filters = Filters(**{**base.__dict__, "date_to": end})
            assert reference.latest_snapshot(filters) == queries_uptake.latest_snapshot(conn, filters)
            same(queries_uptake.headcount_by(conn, filters, dimension), reference.headcount_by(filters, dimension))


def test_reference_is_kept_per_data_version_and_never_under_another(staffed):
    version = data_versions(staffed).of(REFERENCE_READS)
    first = reference_of(staffed, version)
    assert first is not None and reference_of(staffed, version) is first
    assert reference_of(staffed, "an older version") is None  # its rows are not that version's


def test_staff_figures_match_sql(staffed):
    reference = Reference.read(staffed)
    ends = [None, dt.date(2023, 6, 30), dt.date(2023, 9, 30), dt.date(2020, 1, 1)]
    with staffed.connect() as conn:
        for end, base in itertools.product(ends, SLICES):
            filters = Filters(**{**base.__dict__, "date_to": end})
            assert reference.staff_figures(filters) == kpis.headcount_figures(conn, filters)

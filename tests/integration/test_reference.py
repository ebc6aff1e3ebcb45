"""Headcount and names held in memory answer every figure exactly as SQL does, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest

from data_access import kpis, queries_uptake
from data_access.activity_build import build_index
from data_access.cache import data_versions
from data_access.filters import Filters
from data_access.queries_programmes import programme_outcomes
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
                if VIEWS[name].indexed:
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


def varied_participation(seed: int = 5, rows: int = 300) -> list[dict[str, str]]:
    """Participants across programmes, cohorts and places, with every optional field sometimes missing."""
    rng = np.random.default_rng(seed)
    out = []
    for n in range(rows):
        entity, station = PLACES[rng.integers(len(PLACES))]
        status = ["enrolled", "completed", "withdrawn"][rng.integers(3)]
        pre = "" if rng.random() < 0.2 else str(int(rng.integers(20, 80)))
        out.append(
            {"programme": ["Aspiring People Leaders", "E-Management"][rng.integers(2)],
             "cohort": ["2023-1", "2024-1", "2024-2"][rng.integers(3)], "participant_id": f"P{n}",
             "entity_code": entity, "duty_station_code": station, "gender": ["female", "male"][rng.integers(2)],
             "staff_category": ["P", "GS", "NPO"][rng.integers(3)],
             "contract_scope": ["national", "international"][rng.integers(2)], "status": status,
             "completed_on": "2024-06-30" if status == "completed" else "",
             "satisfaction": "" if rng.random() < 0.3 else str(int(rng.integers(1, 6))),
             "pre_score": pre, "post_score": "" if rng.random() < 0.2 else str(int(rng.integers(40, 100))),
             "applied_on_job": ["yes", "no", ""][rng.integers(3)]}
        )  # fmt: skip
    return out


def test_programme_outcomes_in_memory_match_sql(varied):  # noqa: F811 - the fixture imported above
    assert load(varied, "programme_participation", to_csv(varied_participation()), "p.csv").status == "loaded"
    participation = Reference.read(varied).participation
    slices = [*SLICES, Filters(programme="E-Management"), Filters(programme="E-Management", gender="female"),
              Filters(entity="NOBODY")]  # fmt: skip
    with varied.connect() as conn:
        for filters, (by_cohort, overall), year in itertools.product(
            slices, [(False, False), (True, False), (False, True)], [None, 2024, 2019]
        ):
            expected = programme_outcomes(conn, filters, by_cohort=by_cohort, overall=overall, cohort_year=year)
            found = programme_outcomes(
                conn, filters, by_cohort=by_cohort, overall=overall, cohort_year=year, participation=participation
            )
            pd.testing.assert_frame_equal(expected, found)
        assert programme_outcomes(conn, Filters(), by_cohort=False)["participants"].sum() == 300

"""The query behind every figure, on SQLite and PostgreSQL, with exact expected values."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from data_access.reads.cache import MemoryStore, data_versions
from data_access.reads.filters import Filters
from data_access.reads.targets import kpi_status, kpi_status_records
from data_access.reads.views import VIEWS, cached_view, data_as_of, entity_profile, filter_options, run_view
from tests.helpers import activity, load, load_reference, to_csv

MIN = 5


def headcount_rows() -> list[dict[str, str]]:
    base = {"as_of_date": "2024-06-30", "staff_category": "P"}
    return [
        {**base, "entity_code": "DMSPC", "duty_station_code": "US-NEWYORK", "gender": "female", "headcount": "30"},
        {**base, "entity_code": "DMSPC", "duty_station_code": "US-NEWYORK", "gender": "male", "headcount": "30"},
        {**base, "entity_code": "OHR", "duty_station_code": "CI-ABIDJAN", "gender": "female", "headcount": "20"},
        {**base, "entity_code": "MONUSCO", "duty_station_code": "CD-GOMA", "gender": "male", "headcount": "40"},
    ]


@pytest.fixture
def store(engine):  # type: ignore[no-untyped-def]
    """60 learners at DMSPC (New York), 20 at OHR (Abidjan), 3 at MONUSCO (Goma)."""
    load_reference(engine)
    assert load(engine, "headcount", to_csv(headcount_rows()), "headcount.csv").status == "loaded"
    rows = [activity(n, entity_code="DMSPC", duty_station_code="US-NEWYORK") for n in range(60)]
    rows += [activity(100 + n, entity_code="OHR", duty_station_code="CI-ABIDJAN", gender="female") for n in range(20)]
    rows += [
        activity(200 + n, entity_code="MONUSCO", duty_station_code="CD-GOMA", gender="male", platform="Coursera")
        for n in range(3)
    ]
    rows.append(
        activity(
            1,
            entity_code="DMSPC",
            duty_station_code="US-NEWYORK",
            course_id="LIL-2",
            enrolled_on="2024-05-01",
            status="in_progress",
            completed_on="",
        )
    )
    assert load(engine, "learning_activity", to_csv(rows), "activity.csv").status == "loaded"
    return engine


def by(frame: pd.DataFrame, key: str) -> dict:  # type: ignore[type-arg]
    return frame.set_index(key).to_dict("index")


def test_uptake_per_entity_counts_distinct_learners_and_reach(store):
    rows = by(run_view(store, "uptake_by_entity", Filters(), MIN), "entity")
    assert (rows["DMSPC"]["learners"], rows["DMSPC"]["activities"], rows["DMSPC"]["completions"]) == (60, 61, 60)
    assert rows["DMSPC"]["reach_rate"] == 1.0
    assert rows["OHR"]["headcount"] == 20  # its learners are hidden alongside MONUSCO (see below)
    assert rows["DMSPC"]["name"].startswith("Department of Management")


def test_three_learners_are_hidden_with_their_reach_and_a_complementary_cell(store):
    rows = by(run_view(store, "uptake_by_entity", Filters(), MIN), "entity")
    assert pd.isna(rows["MONUSCO"]["learners"]) and pd.isna(rows["MONUSCO"]["reach_rate"])
    # OHR is the smallest other entity with learners, so it is hidden too: the total cannot reveal MONUSCO.
    hidden = [code for code, row in rows.items() if pd.isna(row["learners"])]
    assert sorted(hidden) == ["MONUSCO", "OHR"]


def test_platform_reach_uses_the_whole_slice_headcount(store):
    rows = by(run_view(store, "uptake_by_platform", Filters(), MIN), "platform")
    # Coursera's 3 learners are hidden, and with only two platforms LinkedIn's 80 must be hidden too.
    assert pd.isna(rows["Coursera"]["learners"]) and pd.isna(rows["LinkedIn Learning"]["learners"])
    rows = by(run_view(store, "uptake_by_platform", Filters(), 3), "platform")
    assert rows["LinkedIn Learning"]["learners"] == 80
    assert rows["LinkedIn Learning"]["headcount"] == 120
    assert rows["LinkedIn Learning"]["reach_rate"] == pytest.approx(80 / 120)


def test_differencing_hides_a_slice_three_short_of_its_parent(store):
    # DMSPC has 30 female and 30 male learners; all of OHR's 20 are female. Filter gender=female:
    # OHR female (20) equals OHR overall (20): nothing to recover. DMSPC female 30 vs 60: fine.
    rows = by(run_view(store, "uptake_by_entity", Filters(gender="female"), MIN), "entity")
    assert rows["DMSPC"]["learners"] == 30
    # Totals: all learners 83, female learners 50 -> difference 33, shown.
    total = run_view(store, "uptake_total", Filters(gender="female"), MIN).iloc[0]
    assert total["learners"] == 50
    # Filter platform=LinkedIn Learning: 80 of 83 learners -> the 3 Coursera learners would be recoverable.
    total = run_view(store, "uptake_total", Filters(platform="LinkedIn Learning"), MIN).iloc[0]
    assert pd.isna(total["learners"])


def test_location_splits_headquarters_and_field(store):
    rows = by(run_view(store, "uptake_by_location", Filters(), MIN), "location")
    assert rows["Headquarters"]["learners"] == 60
    assert rows["Field"]["learners"] == 23 and rows["Field"]["headcount"] == 60


def test_period_and_month_trend(store):
    months = run_view(store, "uptake_by_month", Filters(), 3)
    march = months[(months["month"] == "2024-03") & (months["platform"] == "LinkedIn Learning")].iloc[0]
    assert march["learners_enrolling"] == 80 and march["completions"] == 80
    none = run_view(store, "uptake_by_platform", Filters(date_from=pd.Timestamp("2025-01-01").date()), MIN)
    assert none.empty


def test_completions_per_month_are_the_month_trend_s_completions_without_the_learners(store):
    slices = [Filters(), Filters(entity="DMSPC"), Filters(gender="female", platform="Coursera"),
              Filters(date_from=pd.Timestamp("2024-03-01").date())]  # fmt: skip
    for filters, min_cell in itertools.product(slices, (3, MIN)):
        trend = run_view(store, "uptake_by_month", filters, min_cell)[["month", "platform", "completions"]]
        pd.testing.assert_frame_equal(run_view(store, "completions_by_month", filters, min_cell), trend)


def test_needs_shares_priorities_and_gap(store):
    lna = [
        {"cycle": "2024", "entity_code": "DMSPC", "duty_station_code": "", "report_type": "Staff survey",
         "learning_need": need, "priority": priority, "staff_category": "", "gender": "", "respondents": str(n)}
        for need, priority, n in [
            ("Data and analytics", "high", 30),
            ("Data and analytics", "low", 10),
            ("Innovation", "high", 40),
            ("Space law", "medium", 20),
        ]
    ]  # fmt: skip
    result = load(store, "lna", to_csv(lna), "lna.csv")
    assert result.status == "loaded", result.as_dict()
    needs = by(run_view(store, "needs_by_need", Filters(), MIN), "learning_need")
    assert needs["Data and analytics"]["need_share"] == pytest.approx(0.4)
    assert needs["Data and analytics"]["high_priority_share"] == pytest.approx(0.75)
    assert needs["Space law"]["area"] == "Other"
    gap = by(run_view(store, "need_gap", Filters(), MIN), "learning_need")
    # Every completion is tagged "Data and analytics": share of completions 1.0, need share 0.4.
    assert gap["Data and analytics"]["need_gap"] == pytest.approx(0.4 - 1.0)
    assert gap["Innovation"]["need_gap"] == pytest.approx(0.4)
    priority = run_view(store, "needs_by_priority", Filters(), MIN)
    row = priority[(priority["area"] == "Key enabling capacities") & (priority["priority"] == "high")].iloc[0]
    assert row["share_of_area"] == pytest.approx(70 / 80)


def test_programme_outcomes_and_targets(store):
    people = [
        {"programme": "APLC", "cohort": "2024-1", "participant_id": f"P{n}", "entity_code": "DMSPC",
         "duty_station_code": "CD-GOMA" if n < 6 else "US-NEWYORK", "gender": "female" if n < 8 else "male",
         "staff_category": "P", "contract_scope": "national" if n < 5 else "international",
         "status": "completed" if n < 8 else "withdrawn", "completed_on": "2024-06-30" if n < 8 else "",
         "satisfaction": "4", "pre_score": "50", "post_score": "60", "applied_on_job": "yes" if n < 6 else "no"}
        for n in range(10)
    ]  # fmt: skip
    assert load(store, "programme_participation", to_csv(people), "p.csv").status == "loaded"
    row = run_view(store, "programme_summary", Filters(), MIN).iloc[0]
    assert (row["participants"], row["graduates"], row["completion_rate"]) == (10, 8, 0.8)
    assert row["female_share_graduates"] == 1.0 and row["field_share_participants"] == 0.6
    assert row["avg_score_gain"] == 10 and row["applied_on_job_rate"] == 0.6
    assert row["national_share_graduates"] == pytest.approx(5 / 8)
    targets = [{"kpi": "completion_rate", "scope": "ALL", "year": "2024", "target": "0.85"}]
    assert load(store, "kpi_targets", to_csv(targets), "t.csv").status == "loaded"
    status = kpi_status(store, Filters(), run_view(store, "kpi_actuals", Filters(), MIN))
    assert status.to_dict("records") == [
        {"kpi": "completion_rate", "scope": "ALL", "year": 2024, "target": 0.85, "actual": 0.8, "status": "at risk"}
    ]
    # Pages read the targets once per data version: a new upload of targets is seen at once.
    actuals = run_view(store, "kpi_actuals", Filters(), MIN)
    assert kpi_status_records(store, Filters(), actuals)[0]["target"] == 0.85
    targets[0]["target"] = "0.75"
    assert load(store, "kpi_targets", to_csv(targets), "t2.csv").status == "loaded"
    (record,) = kpi_status_records(store, Filters(), actuals)
    assert (record["target"], record["status"]) == (0.75, "on track")


def test_every_view_answers_on_an_empty_store(engine):
    versions, store = data_versions(engine), MemoryStore()
    for name, filters in itertools.product(VIEWS, [Filters(entity="NOPE"), Filters()]):
        frame = run_view(engine, name, filters, MIN)
        assert isinstance(frame, pd.DataFrame), name
        # And through the cache, where tables are kept as Parquet.
        pd.testing.assert_frame_equal(cached_view(engine, store, versions, name, filters, MIN), frame, obj=name)
    assert data_as_of(engine) is None
    assert filter_options(engine)["months"] == []
    assert entity_profile(engine, "NOPE") is None


def lna_rows() -> list[dict[str, str]]:
    rows = []
    for cycle, entity, need, n in [
        ("2022", "DMSPC", "Innovation", 10),
        ("2022", "DMSPC", "Data and analytics", 30),
        ("2024", "DMSPC", "Innovation", 25),
        ("2024", "DMSPC", "Data and analytics", 25),
        ("2024", "OHR", "Innovation", 8),
        ("2024", "OHR", "Multilingualism", 2),
    ]:
        rows.append(
            {"cycle": cycle, "entity_code": entity, "duty_station_code": "", "report_type": "Staff survey",
             "learning_need": need, "priority": "high", "staff_category": "", "gender": "", "respondents": str(n)}
        )  # fmt: skip
    return rows


def test_every_view_suppresses_the_same_through_the_cache_as_from_sql(store):
    """Through the cache, the activity figures come from the snapshot; run_view alone asks SQL. Both hide
    the same cells."""
    from data_access.reads.snapshot import SNAPSHOT_READS
    from data_access.store import snapshots

    assert load(store, "lna", to_csv(lna_rows()), "lna.csv").status == "loaded"
    versions, cache = data_versions(store), MemoryStore()
    assert snapshots(store).build(versions.of(SNAPSHOT_READS)) is not None
    assert snapshots(store).get(versions.of(SNAPSHOT_READS)) is not None
    slices = [Filters(), Filters(entity="DMSPC"), Filters(gender="female"), Filters(entity="OHR", cycle="2022")]
    for name, filters in itertools.product(VIEWS, slices):
        expected = run_view(store, name, filters, MIN)
        pd.testing.assert_frame_equal(cached_view(store, cache, versions, name, filters, MIN), expected, obj=name)


def test_needs_per_entity_and_per_cycle(store):
    assert load(store, "lna", to_csv(lna_rows()), "lna.csv").status == "loaded"
    by_entity = run_view(store, "needs_by_entity", Filters(), MIN)
    assert set(by_entity["cycle"]) == {"2024"}  # the latest cycle unless one is chosen
    ohr = by_entity[by_entity["entity"] == "OHR"].set_index("learning_need")
    # OHR: 8 and 2 respondents: the 2 is hidden, and so is the 8 (its only sibling), with their shares.
    assert ohr["respondents"].isna().all() and ohr["need_share"].isna().all()
    dmspc = by_entity[by_entity["entity"] == "DMSPC"].set_index("learning_need")
    assert dmspc.loc["Innovation", "need_share"] == 0.5
    cycles = run_view(store, "needs_by_cycle", Filters(), MIN).set_index(["cycle", "learning_need"])
    assert cycles.loc[("2022", "Data and analytics"), "need_share"] == 0.75
    assert cycles.loc[("2024", "Innovation"), "respondents"] == 33
    chosen = run_view(store, "needs_by_need", Filters(cycle="2022"), MIN).set_index("learning_need")
    assert chosen.loc["Data and analytics", "respondents"] == 30


def test_duty_stations_cohorts_and_workforce_baseline(store):
    stations = run_view(store, "uptake_by_duty_station", Filters(), 3).set_index("duty_station")
    assert stations.loc["US-NEWYORK", "learners"] == 60 and bool(stations.loc["US-NEWYORK", "headquarters"])
    assert stations.loc["CD-GOMA", "latitude"] == pytest.approx(-1.68)
    people = [
        {"programme": "APLC", "cohort": cohort, "participant_id": f"{cohort}-{n}", "entity_code": "DMSPC",
         "duty_station_code": "US-NEWYORK", "gender": "female", "staff_category": "P",
         "contract_scope": "international", "status": "completed" if n < done else "enrolled",
         "completed_on": "2024-06-30" if n < done else ""}
        for cohort, size, done in (("2023-1", 10, 9), ("2024-1", 6, 0))
        for n in range(size)
    ]  # fmt: skip
    assert load(store, "programme_participation", to_csv(people), "p.csv").status == "loaded"
    cohorts = run_view(store, "programme_cohorts", Filters(), MIN).set_index("cohort")
    assert cohorts.loc["2023-1", "completion_rate"] == 0.9
    assert cohorts.loc["2024-1", "graduates"] == 0 and cohorts.loc["2024-1", "completion_rate"] == 0.0
    baseline = run_view(store, "workforce_baseline", Filters(), MIN).iloc[0]
    assert baseline["headcount"] == 120
    assert baseline["female_share"] == pytest.approx(50 / 120)
    assert baseline["field_share"] == pytest.approx(60 / 120)
    assert baseline["locally_recruited_share"] == 0.0

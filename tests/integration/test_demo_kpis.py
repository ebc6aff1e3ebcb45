"""The bundled demo data reproduces the published figures, asserted through the `kpis` command."""

from __future__ import annotations

import json

import pytest

from tests.conftest import BACKENDS, database_url

SEED_FIGURES = {
    ("platforms", "Coursera", "completers"): 1_300,
    ("platforms", "LinkedIn Learning", "completers"): 28_000,
    ("platforms", "LinkedIn Learning", "completions"): 35_800,
    ("platforms", "Blue Line", "learners"): 7_000,
    ("platforms", "Blue Line", "activities"): 17_561,
    ("programmes", "Aspiring People Leaders Certification", "cohorts"): 3,
    ("programmes", "Aspiring People Leaders Certification", "completion_rate"): 0.82,
    ("headcount",): 37_000,
    ("duty_stations",): 461,
    ("entities",): 45,
}
SECRETARIAT_PROGRAMMES = (
    "E-Management Certificate",
    "UN System Executive Management Programme",
    "Leadership Skills for Emerging Talents",
    "Senior Leadership Induction Programme",
)


@pytest.fixture(scope="module", params=BACKENDS)
def demo_cli(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    """A CLI runner over a database loaded with `load-demo`."""
    folder = tmp_path_factory.mktemp("demo")
    with database_url(request.param, folder) as url, pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        patch.setenv("INSTANCE_DIR", str(folder))
        from app import server

        runner = server.test_cli_runner()
        loaded = runner.invoke(args=["load-demo"])
        assert loaded.exit_code == 0, loaded.output
        yield runner


def kpis(runner, *args: str) -> dict:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["kpis", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_demo_reproduces_each_seed_figure(demo_cli):
    figures = kpis(demo_cli)
    for path, expected in SEED_FIGURES.items():
        value = figures
        for step in path:
            value = value[step]
        assert value == expected, path


def test_aspiring_people_leaders_outcomes_match_the_seed(demo_cli):
    programme = kpis(demo_cli)["programmes"]["Aspiring People Leaders Certification"]
    assert 600 < programme["graduates"] < 700
    assert round(programme["female_share_graduates"] * 100, 1) == 65.7
    assert round(programme["field_share_participants"] * 100, 1) == 82.8
    assert round(programme["national_share_participants"] * 100) == 71


def test_over_a_thousand_completed_the_four_secretariat_programmes(demo_cli):
    programmes = kpis(demo_cli)["programmes"]
    assert sum(programmes[name]["graduates"] for name in SECRETARIAT_PROGRAMMES) > 1_000


def test_figures_are_to_september_2024_and_filters_narrow_them(demo_cli):
    everything = kpis(demo_cli)
    assert kpis(demo_cli, "--to", "2024-09-30")["platforms"] == everything["platforms"]
    early = kpis(demo_cli, "--to", "2022-12-31")["platforms"]["LinkedIn Learning"]
    assert 0 < early["completions"] < 35_800
    entity = kpis(demo_cli, "--entity", "OCHA")
    assert 0 < entity["headcount"] < 37_000
    assert entity["entities"] == 1
    station = kpis(demo_cli, "--duty-station", "CH-GENEVA")
    assert station["duty_stations"] == 1
    assert (
        station["platforms"]["LinkedIn Learning"]["learners"] < everything["platforms"]["LinkedIn Learning"]["learners"]
    )


def test_bad_dates_are_refused_with_a_clear_message(demo_cli):
    result = demo_cli.invoke(args=["kpis", "--from", "31/12/2024"])
    assert result.exit_code != 0
    assert "is not a date" in result.output

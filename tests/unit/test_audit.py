"""The dependency audit never reports a pass for packages it could not check."""

from __future__ import annotations

from tools.audit_dependencies import NOT_CHECKED, verdict

SKIPPED = {"name": "dash", "skip_reason": "Dependency not found on PyPI and could not be audited: dash (4.4.1)"}


def test_nothing_checked_is_not_a_pass():
    code, lines = verdict([SKIPPED, {**SKIPPED, "name": "flask"}])
    assert code == NOT_CHECKED and "NOT CHECKED" in lines[-1] and "dash, flask" in lines[0]


def test_a_known_vulnerability_fails_and_a_clean_check_passes_naming_what_was_skipped():
    clean = {"name": "pandas", "version": "3.1.1", "vulns": []}
    assert verdict([clean, SKIPPED]) == (
        0,
        ["could not be checked (1): dash", "dependency audit: 1 of 2 packages checked, no known vulnerability"],
    )
    bad = {"name": "flask", "version": "0.1", "vulns": [{"id": "PYSEC-1"}]}
    assert verdict([clean, bad])[0] == 1

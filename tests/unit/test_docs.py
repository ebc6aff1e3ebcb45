"""The README stays true: every setting, command and contract column is documented."""

from __future__ import annotations

import re
from pathlib import Path

import settings
from cli import COMMANDS
from data_access.templates import contract_markdown

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_documented():
    for setting in settings.SETTINGS:
        assert f"| `{setting.name}` |" in README, setting.name


def test_every_command_is_documented():
    for command in COMMANDS:
        assert f"flask --app app:server {command.name}" in README, command.name


def test_contract_section_is_generated_from_the_declaration():
    section = re.search(r"<!-- contract:start -->\n(.*)<!-- contract:end -->", README, re.S)
    assert section is not None
    assert section.group(1) == contract_markdown()

"""The layout shows the architecture: dependencies point one way, pages/ holds pages only, public APIs only."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: package -> the project packages it must never import (app.py, cli.py and settings.py stand apart).
FORBIDDEN = {
    "data_access": ("server", "components", "pages", "app", "cli"),
    "server": ("components", "pages", "app", "cli"),
    "components": ("pages", "app", "cli"),
    "pages": ("app", "cli"),
}
#: Private names of Dash, plotly, pandas and Flask that a minor release may change without notice.
PRIVATE = re.compile(r"dash\._|\._prop_names|_from_arrays|_get_column_array|_valid_wildcard_attributes|_base_nodes")


def project_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_dependencies_point_one_way(package):
    for path in project_files(package):
        wrong = imported(path) & set(FORBIDDEN[package])
        assert not wrong, f"{path.relative_to(ROOT)} imports {sorted(wrong)}"


def test_pages_holds_only_pages():
    for path in project_files("pages"):
        if path.name != "__init__.py":
            assert "dash.register_page(" in path.read_text(), f"{path.name} is not a page"


def test_no_private_api_of_the_libraries_is_used():
    code = [ROOT / "app.py", ROOT / "cli.py", ROOT / "settings.py"]
    for package in ("server", "components", "pages", "data_access", "bench"):
        code += project_files(package)
    for path in code:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            assert not PRIVATE.search(line), f"{path.relative_to(ROOT)}:{number}: {line.strip()}"

"""Known-vulnerability check of the installed packages (pip-audit), honest about what it could check.

    .venv/bin/python tools/audit_dependencies.py

Exit 0: every package was checked and none has a known vulnerability; 1: a vulnerability was found;
3: NOT CHECKED: no package could be checked (no vulnerability database reachable), which is not a pass.
Packages that could not be checked are named either way.
"""

from __future__ import annotations

import json
import subprocess  # nosec B404: runs our own venv's pip-audit
import sys
from pathlib import Path
from typing import Any

NOT_CHECKED = 3


def main() -> int:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    found = subprocess.run(  # noqa: S603  # nosec B603: a fixed command line
        [str(pip_audit), "--progress-spinner", "off", "-f", "json"], capture_output=True, text=True, check=False
    )
    try:
        dependencies = json.loads(found.stdout)["dependencies"]
    except (ValueError, KeyError):
        print(f"dependency audit: NOT CHECKED: pip-audit failed\n{found.stderr.strip()[-2000:]}")
        return NOT_CHECKED
    code, lines = verdict(dependencies)
    print("\n".join(lines))
    return code


def verdict(dependencies: list[dict[str, Any]]) -> tuple[int, list[str]]:
    """The exit code and report for pip-audit's ``dependencies`` (JSON)."""
    skipped = [d["name"] for d in dependencies if "skip_reason" in d]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    checked = len(dependencies) - len(skipped)
    lines = [f"{d['name']} {d['version']}: {', '.join(v['id'] for v in d['vulns'])}" for d in vulnerable]
    if skipped:
        lines.append(f"could not be checked ({len(skipped)}): {', '.join(skipped)}")
    if vulnerable:
        return 1, lines
    if not checked:
        return NOT_CHECKED, [
            *lines,
            f"dependency audit: NOT CHECKED: none of {len(dependencies)} packages could be checked",
        ]
    return 0, [*lines, f"dependency audit: {checked} of {len(dependencies)} packages checked, no known vulnerability"]


if __name__ == "__main__":
    sys.exit(main())

"""Locate and run the offline checkers (checkov, hadolint, actionlint, terraform).

A missing checker fails the test with the command that installs it: these checks
guard deploys, so they never skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALL = "bash scripts/install_infra_tools.sh"


def tool(name: str, install: str = INSTALL) -> str:
    """Path of a checker: .venv-infra first (where the install script puts them), then PATH."""
    venv = Path(os.environ.get("INFRA_VENV", REPO / ".venv-infra"))
    candidate = venv / "bin" / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"{name} is not installed; install the infra checkers with: {INSTALL}", pytrace=False
        )
    return found


def run(
    args: list[str], cwd: Path = REPO, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def checkov(target: Path, framework: str) -> dict[str, Any]:
    """Run checkov offline over a folder (or one file) and return its JSON report."""
    flag = "-f" if target.is_file() else "-d"
    result = run(
        [
            tool("checkov"),
            flag,
            str(target),
            "--framework",
            framework,
            "--skip-download",
            "--output",
            "json",
            "--compact",
        ],
    )
    if result.returncode not in (0, 1) or not result.stdout.strip():
        raise AssertionError(
            f"checkov did not run (exit {result.returncode}):\n{result.stderr[-3000:]}"
        )
    report = json.loads(result.stdout)
    if isinstance(report, list):  # one document per framework; we ask for one
        (report,) = report
    if report.get("summary", {}).get("parsing_errors"):
        raise AssertionError(f"checkov could not parse {target}: {report['summary']}")
    return report


def failed_checks(report: dict[str, Any]) -> list[str]:
    results = report.get("results", {})
    return [
        f"{c['check_id']} {c['resource']} ({c['file_path']}:{c['file_line_range'][0]}): {c['check_name']}"
        for c in results.get("failed_checks", [])
    ]


def edit(path: Path, old: str, new: str) -> None:
    """Replace one exact snippet, failing if it is not there exactly once (so a
    mutation test can never pass because its mutation silently did nothing)."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path.name}: expected exactly one {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")

"""Only movierec/settings.py reads the process environment; everything else gets Settings."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "movierec"
ENVIRONMENT_NAMES = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def environment_reads(source: str) -> list[int]:
    """Line numbers of ``os.environ``/``os.getenv``/... and of ``from os import environ``."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        reads_os_attribute = (
            isinstance(node, ast.Attribute)
            and node.attr in ENVIRONMENT_NAMES
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        )
        imports_from_os = (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(alias.name in ENVIRONMENT_NAMES for alias in node.names)
        )
        if reads_os_attribute or imports_from_os:
            lines.append(node.lineno)
    return sorted(lines)


def test_the_checker_sees_every_form() -> None:
    source = "import os\nfrom os import getenv\nos.environ['A']\nos.getenv('B')\nx.environ\n"
    assert environment_reads(source) == [2, 3, 4]


def test_only_settings_reads_the_environment() -> None:
    readers = {
        str(path.relative_to(PACKAGE.parent)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if (lines := environment_reads(path.read_text(encoding="utf-8")))
    }
    assert set(readers) == {"movierec/settings.py"}, readers

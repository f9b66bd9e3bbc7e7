"""docs/ARCHITECTURE.md and the README's layout stay true where a machine can tell.

- every top-level package of ``movierec/`` is named in the architecture document and in
  the README's layout section;
- every module of the layers contract in ``pyproject.toml`` appears in the document;
- no tracked file points at a design or style note kept outside the repository.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the project runs 3.11
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"
README = ROOT / "README.md"
# Spelled in pieces so that this file does not mention them itself.
OUTSIDE_NOTES = ("DESIGN" + ".md", "STYLE" + ".md")
SKIPPED_DIRS = {".git", ".venv", ".venv-bq", "node_modules", "__pycache__", ".movierec", ".pytest_cache"}


def packages() -> list[str]:
    """The top-level packages of movierec: folders holding an ``__init__.py``."""
    found = sorted(p.parent.name for p in (ROOT / "movierec").glob("*/__init__.py"))
    assert found, "no package found under movierec/"
    return found


def layer_modules() -> list[str]:
    """Every module named by the ``layers`` contracts, siblings split on ``|``."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = [layer for c in contracts if c.get("type") == "layers" for layer in c["layers"]]
    assert layers, "pyproject.toml declares no layers contract"
    return [name.strip() for layer in layers for name in layer.split("|") if name.strip()]


def readme_layout() -> str:
    """The README's section that describes the repository layout."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## Layout\n(.*?)(?=^## )", text, flags=re.MULTILINE | re.DOTALL)
    assert match, "README.md has no '## Layout' section"
    return match.group(1)


def tracked_files() -> list[Path]:
    """The files git tracks; without git, every file outside tool and cache folders."""
    try:
        result = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return [
            p for p in ROOT.rglob("*")
            if p.is_file() and not SKIPPED_DIRS.intersection(p.relative_to(ROOT).parts)
        ]
    return [ROOT / name for name in result.stdout.decode().split("\0") if name]


@pytest.fixture(scope="module")
def architecture() -> str:
    assert ARCHITECTURE.is_file(), "docs/ARCHITECTURE.md is missing"
    return ARCHITECTURE.read_text(encoding="utf-8")


@pytest.mark.parametrize("package", packages())
def test_every_package_is_in_the_architecture_document(architecture: str, package: str) -> None:
    assert f"movierec.{package}" in architecture or f"movierec/{package}/" in architecture, (
        f"docs/ARCHITECTURE.md does not name the package movierec.{package}: add it to 'Layers'"
    )


@pytest.mark.parametrize("package", packages())
def test_every_package_is_in_the_readme_layout(package: str) -> None:
    assert re.search(rf"(?<![\w/]){re.escape(package)}/", readme_layout()), (
        f"the README's Layout section does not list {package}/"
    )


@pytest.mark.parametrize("module", layer_modules())
def test_every_layer_is_in_the_architecture_document(architecture: str, module: str) -> None:
    assert re.search(rf"`{re.escape(module)}`", architecture), (
        f"{module} is a layer in pyproject.toml but docs/ARCHITECTURE.md does not name it"
    )


def test_the_readme_links_the_architecture_document() -> None:
    assert "docs/ARCHITECTURE.md" in readme_layout()


def test_no_tracked_file_points_at_notes_outside_the_repository() -> None:
    offenders = []
    for path in tracked_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary or unreadable: not documentation
        for number, line in enumerate(text.splitlines(), start=1):
            if any(note in line for note in OUTSIDE_NOTES):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "point these at docs/ARCHITECTURE.md instead:\n" + "\n".join(offenders)


def test_the_checks_can_fail() -> None:
    # The helpers must see what they are meant to see, or every test above passes vacuously.
    assert {"stores", "serving", "stats"} <= set(packages())
    assert "movierec.errors" in layer_modules() and "movierec.reporting" in layer_modules()
    assert "stores/" in readme_layout()
    assert any(p.name == "pyproject.toml" for p in tracked_files())

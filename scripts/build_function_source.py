"""Build the source zip of the Cloud Run functions: serving's files only, reproducible bytes.

    python scripts/build_function_source.py build/function-source.zip

The zip holds functions/main.py, the movierec modules serving imports (SERVING_FILES)
and requirements-serving.txt as requirements.txt (what the Python buildpack
installs). Files are sorted and stamped with a fixed time, so the zip's bytes, and
with them its name in the source bucket (infra/storage.tf: its MD5) and the functions'
rebuild, change only when one of these files does: a README or training change
redeploys nothing. tests/serving/test_lean_serving.py checks that every module serving
imports at run time is in the zip and that the serving code runs from an extracted
copy of it.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Folders (all their .py files and package data) and single files, relative to the repository.
SERVING_PACKAGES = (
    "movierec/serving",
    "movierec/stores",
    "movierec/observability",
    "movierec/experiments",
    "movierec/web",  # functions/main.py's `api` target (the local all-in-one server) routes the page
)
SERVING_MODULES = (
    "functions/main.py",
    "movierec/__init__.py",
    "movierec/errors.py",
    "movierec/events.py",
    "movierec/ids.py",
    "movierec/jsonsafe.py",
    "movierec/responses.py",
    "movierec/settings.py",
    "movierec/data/__init__.py",
    "movierec/data/registry.py",
    "movierec/models/__init__.py",
    "movierec/models/artifact.py",
    "movierec/models/catalogue.py",
    "movierec/models/foldin.py",
    "movierec/models/ranked.py",
    "movierec/models/reasons.py",
    "movierec/models/scoring.py",
    "movierec/models/top_lists.py",
)
REQUIREMENTS = "requirements-serving.txt"
_EPOCH = (1980, 1, 1, 0, 0, 0)


def serving_files(repo: Path = REPO) -> list[str]:
    """Repository-relative paths of the files the zip holds (requirements aside), sorted."""
    files = set(SERVING_MODULES)
    for package in SERVING_PACKAGES:
        for path in (repo / package).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files.add(path.relative_to(repo).as_posix())
    missing = sorted(f for f in files if not (repo / f).is_file())
    if missing:
        raise SystemExit(f"serving files missing from the repository: {missing}")
    return sorted(files)


def build(target: Path, repo: Path = REPO) -> list[str]:
    """Write the zip; return the names it holds."""
    entries = [(name, (repo / name).read_bytes()) for name in serving_files(repo)]
    entries.append(("requirements.txt", (repo / REQUIREMENTS).read_bytes()))
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return sorted(name for name, _ in entries)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python scripts/build_function_source.py OUTPUT.zip", file=sys.stderr)
        return 2
    names = build(Path(argv[0]))
    print(f"{argv[0]}: {len(names)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

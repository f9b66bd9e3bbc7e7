"""The job image's Dockerfile passes hadolint and keeps its promises (pinned base,
non-root, health command, entry point); broken copies are caught."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.infra.tools import REPO, edit, run, tool

DOCKERFILE = REPO / "Dockerfile"


def hadolint(path: Path) -> tuple[int, str]:
    result = run([tool("hadolint"), "--no-color", str(path)])
    return result.returncode, result.stdout + result.stderr


def structure_problems(text: str) -> list[str]:
    """What hadolint does not check: the promises this image makes to Cloud Run."""
    problems = []
    for base in re.findall(r"^FROM\s+(\S+)", text, flags=re.MULTILINE):
        if not re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?(@sha256:[0-9a-f]{64})?", base):
            problems.append(f"base image {base} is not a pinned python:3.11.X-slim")
    users = re.findall(r"^USER\s+(\S+)", stage(text, "runtime"), flags=re.MULTILINE)
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append("the final stage does not switch to a non-root USER")
    if not re.search(r"^HEALTHCHECK\s+.*CMD", text, flags=re.MULTILINE | re.DOTALL):
        problems.append("no HEALTHCHECK command")
    if 'ENTRYPOINT ["python", "-m", "training_job.main"]' not in text:
        problems.append("the entry point is not python -m training_job.main")
    if re.search(r"requirements-dev\.txt", text):
        problems.append("test dependencies (requirements-dev.txt) are installed in the image")
    return problems


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    copy = tmp_path / "Dockerfile"
    shutil.copy(DOCKERFILE, copy)
    return copy


def test_hadolint_passes() -> None:
    code, output = hadolint(DOCKERFILE)
    assert code == 0, output


def test_the_image_keeps_its_promises() -> None:
    assert structure_problems(DOCKERFILE.read_text(encoding="utf-8")) == []


def test_dockerignore_keeps_the_context_small() -> None:
    lines = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert lines[lines.index("*")] == "*", "the context should start from nothing"
    assert {"!requirements.txt", "!requirements-serving.txt", "!movierec/", "!training_job/", "!functions/"} <= set(lines)


def stage(text: str, name: str) -> str:
    """The instructions of one build stage (``FROM ... AS name`` up to the next FROM)."""
    parts = re.split(r"^(?=FROM\s)", text, flags=re.MULTILINE)
    for part in parts:
        if re.match(rf"FROM\s+\S+\s+AS\s+{re.escape(name)}\s*$", part.splitlines()[0] if part else ""):
            return part
    raise AssertionError(f"no stage {name!r}")


def api_problems(text: str) -> list[str]:
    """The API image: serving dependencies only, not root, a health check, port 8080."""
    problems = []
    api, deps = stage(text, "api"), stage(text, "serving-build")
    if "requirements-serving.txt" not in deps or re.search(r"requirements\.txt", deps):
        problems.append("the serving-build stage does not install requirements-serving.txt alone")
    if "COPY --from=serving-build /opt/venv /opt/venv" not in api:
        problems.append("the api stage does not take the serving virtualenv")
    users = re.findall(r"^USER\s+(\S+)", api, flags=re.MULTILINE)
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append("the api stage does not switch to a non-root USER")
    if "HEALTHCHECK" not in api:
        problems.append("the api stage has no HEALTHCHECK")
    if not re.search(r'ENTRYPOINT \["python", "-m", "movierec", "serve", .*"--port", "8080"\]', api):
        problems.append("the api stage does not run `movierec serve` on port 8080")
    return problems


def test_the_api_image_is_lean_non_root_and_serves_on_8080() -> None:
    assert api_problems(DOCKERFILE.read_text(encoding="utf-8")) == []


def test_an_api_image_with_every_dependency_is_caught(broken: Path) -> None:
    edit(broken, "COPY requirements-serving.txt /tmp/requirements-serving.txt\nRUN pip install -r /tmp/requirements-serving.txt",
         "COPY requirements.txt /tmp/requirements.txt\nRUN pip install -r /tmp/requirements.txt")
    assert api_problems(broken.read_text()) == [
        "the serving-build stage does not install requirements-serving.txt alone"
    ]


def test_hadolint_catches_an_unpinned_base(broken: Path) -> None:
    edit(broken, "FROM python:3.11.13-slim-bookworm AS build", "FROM python AS build")
    code, output = hadolint(broken)
    assert code != 0 and "DL3006" in output, output
    assert "base image python is not a pinned python:3.11.X-slim" in structure_problems(
        broken.read_text()
    )


def test_hadolint_catches_a_careless_apt_install(broken: Path) -> None:
    edit(
        broken,
        "apt-get install -y --no-install-recommends build-essential",
        "apt-get install build-essential",
    )
    code, output = hadolint(broken)
    assert code != 0 and "DL3014" in output and "DL3015" in output, output


def test_running_as_root_is_caught(broken: Path) -> None:
    edit(broken, "COPY --chown=root:root training_job/ training_job/\nCOPY --chown=root:root functions/ functions/\n\nUSER 10001:10001",
         "COPY --chown=root:root training_job/ training_job/\nCOPY --chown=root:root functions/ functions/\n\nUSER root")
    assert structure_problems(broken.read_text()) == [
        "the final stage does not switch to a non-root USER"
    ]

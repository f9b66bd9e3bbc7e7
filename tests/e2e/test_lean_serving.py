"""The functions deploy lean: their source zip holds serving's files only, the serving
code runs from an extracted copy of it, and at run time it imports no distribution
outside requirements-serving.txt (and what those depend on). On both backends: the
local one and the Google Cloud adapters on the emulators.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import build_function_source

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]

# Runs recommend, health and feedback the way functions-framework calls them, then
# prints the files of every module loaded.
PROBE = r"""
import json, sys
before = set(sys.modules)  # the interpreter's own start-up (site hooks) is not serving's
import flask
import functions.main as fm
app = flask.Flask("probe")
def call(target, path, method="GET", body=None):
    with app.test_request_context(path, method=method, json=body):
        response = target(flask.request)
    return response.status_code, response.get_json()
status, rec = call(fm.recommend, "/?user_id=1&top_n=3")
assert status == 200, (status, rec)
assert call(fm.recommend, "/?health=1")[0] == 200
click = {"event_id": "probe-1", "request_id": rec["request_id"], "token": rec["token"],
         "user_id": rec["user_id"], "movie_id": rec["items"][0]["movie_id"], "type": "click"}
status, body = call(fm.feedback, "/", "POST", click)
assert status == 201, (status, body)
files = sorted({getattr(m, "__file__", None) or "" for n, m in list(sys.modules.items()) if n not in before} - {""})
ours = {n: getattr(m, "__file__", None) for n, m in list(sys.modules.items())
        if n.split(".")[0] in ("movierec", "functions") and n != "functions_framework"}
print(json.dumps({"files": files, "ours": ours}))
"""


def distribution_of_files() -> dict[str, str]:
    owner = {}
    for dist in metadata.distributions():
        for file in dist.files or ():
            owner[str(Path(str(dist.locate_file(file))).resolve())] = dist.metadata["Name"].lower()
    return owner


def requirement_closure(requirements: Path) -> set[str]:
    """The distributions a requirements file installs: its names and everything they
    require (with the extras they ask for, e.g. google-api-core[grpc])."""
    todo = [Requirement(line.split("#")[0].strip())
            for line in requirements.read_text(encoding="utf-8").splitlines()
            if line.split("#")[0].strip()]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        key = (name, frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for text in requires:
            child = Requirement(text)
            wanted = [{"extra": extra} for extra in requirement.extras] or [{"extra": ""}]
            if child.marker is None or any(child.marker.evaluate(env) for env in wanted):
                todo.append(child)
    return {name for name, _ in seen}


def outside(distributions: set[str], allowed: set[str]) -> set[str]:
    normal = {canonicalize_name(d) for d in allowed}
    return {d for d in distributions if canonicalize_name(d) not in normal}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("function-source")
    archive = folder / "source.zip"
    build_function_source.build(archive)
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(folder / "workspace")
    return folder / "workspace"


def test_serving_runs_from_the_zip_and_imports_only_serving_requirements(backend, extracted: Path) -> None:
    env = {**backend.env, "PATH": os.environ["PATH"], "PYTHONPATH": str(extracted), "HOME": os.environ.get("HOME", "/tmp")}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=extracted, env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    # Every movierec module came from the extracted zip, not from the repository.
    ours = loaded["ours"]
    assert "functions.main" in ours and "movierec.serving.app" in ours
    # (namespace packages, such as functions/, have no file)
    assert {n: f for n, f in ours.items() if f and not f.startswith(str(extracted))} == {}
    owner = distribution_of_files()
    used = {owner[str(Path(f).resolve())] for f in loaded["files"] if str(Path(f).resolve()) in owner}
    used.discard("movierec")  # the editable install of this repository (its modules came from the zip)
    allowed = requirement_closure(REPO / "requirements-serving.txt")
    assert outside(used, allowed) == set()
    # The jobs' drift library stays out of serving, and serving never loads it.
    assert "evidently" not in allowed and "evidently" not in used
    # The check can fail: without the Firestore client's requirement the gcp run is outside.
    assert {"numpy", "flask", "functions-framework"} <= used
    if backend.name == "gcp":
        assert "google-cloud-firestore" in used and "google-cloud-firestore" in allowed


def test_the_zip_holds_serving_files_and_requirements_serving_as_requirements(extracted: Path) -> None:
    names = {p.relative_to(extracted).as_posix() for p in extracted.rglob("*") if p.is_file()}
    assert "functions/main.py" in names and "movierec/serving/app.py" in names
    assert (extracted / "requirements.txt").read_text() == (REPO / "requirements-serving.txt").read_text()
    for heavy in ("movierec/selection", "movierec/evaluation", "movierec/retraining", "movierec/analysis",
                  "movierec/reporting", "movierec/pipelines", "training_job", "README.md", "tests"):
        assert not any(n.startswith(heavy) for n in names), heavy


def test_the_zip_changes_only_with_serving_files(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    for name in [*build_function_source.serving_files(REPO), "requirements-serving.txt", "README.md",
                 "movierec/retraining/job.py"]:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes((REPO / name).read_bytes())

    def digest() -> bytes:
        target = tmp_path / "out.zip"
        build_function_source.build(target, repo)
        return target.read_bytes()

    first = digest()
    assert digest() == first  # reproducible bytes
    (repo / "README.md").write_text("changed", encoding="utf-8")
    (repo / "movierec/retraining/job.py").write_text("# changed\n", encoding="utf-8")
    assert digest() == first  # docs and training code redeploy nothing
    with (repo / "movierec/serving/app.py").open("a", encoding="utf-8") as handle:
        handle.write("\n# changed\n")
    assert digest() != first


def test_a_distribution_outside_the_serving_requirements_is_caught(tmp_path: Path) -> None:
    narrow = tmp_path / "requirements.txt"
    narrow.write_text("numpy>=1.26\nflask>=3\n", encoding="utf-8")
    assert outside({"numpy", "flask", "google-cloud-firestore"}, requirement_closure(narrow)) == {"google-cloud-firestore"}

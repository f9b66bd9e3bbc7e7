"""The GitHub Actions workflows pass actionlint, pin every action to a commit,
grant least privilege and never hold a JSON key; broken copies are caught."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.infra.tools import REPO, edit, run, tool

WORKFLOWS = REPO / ".github" / "workflows"
USES = re.compile(r"^\s*(?:-\s*)?uses:\s*(\S+)(.*)$", re.MULTILINE)
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def actionlint(folder: Path) -> tuple[int, str]:
    files = sorted(str(p) for p in folder.glob("*.yml"))
    result = run([tool("actionlint"), "-no-color", *files], cwd=folder)
    return result.returncode, result.stdout + result.stderr


def load(path: Path) -> dict[Any, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def policy_problems(path: Path) -> list[str]:
    """Pinned actions with a version comment, explicit permissions, a concurrency group, no keys."""
    text = path.read_text(encoding="utf-8")
    problems = []
    for ref, rest in USES.findall(text):
        if ref.startswith("./"):
            continue
        if not PINNED.match(ref):
            problems.append(f"{path.name}: {ref} is not pinned to a full commit SHA")
        elif not re.search(r"#\s*v\d", rest):
            problems.append(f"{path.name}: {ref} has no '# vX.Y.Z' comment naming the version")
    doc = load(path)
    if doc.get("permissions") != {}:
        problems.append(f"{path.name}: the workflow does not start from `permissions: {{}}`")
    for name, job in doc.get("jobs", {}).items():
        if "permissions" not in job:
            problems.append(f"{path.name}: job {name} has no permissions block")
        elif job["permissions"].get("id-token") == "write" and not any(
            "google-github-actions/auth@" in str(step.get("uses", ""))
            for step in job.get("steps", [])
        ):
            problems.append(
                f"{path.name}: job {name} asks for id-token: write without authenticating to Google"
            )
    if "concurrency" not in doc:
        problems.append(f"{path.name}: no concurrency group")
    if re.search(r"credentials_json|GOOGLE_APPLICATION_CREDENTIALS", text):
        problems.append(
            f"{path.name}: uses a service account key instead of Workload Identity Federation"
        )
    return problems


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    target = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS, target)
    return target


def test_the_three_workflows_exist() -> None:
    assert {p.name for p in WORKFLOWS.glob("*.yml")} == {"ci.yml", "deploy.yml", "retrain.yml"}


def test_actionlint_passes() -> None:
    code, output = actionlint(WORKFLOWS)
    assert code == 0, output


@pytest.mark.parametrize("name", ["ci.yml", "deploy.yml", "retrain.yml"])
def test_policy(name: str) -> None:
    assert policy_problems(WORKFLOWS / name) == []


def test_triggers() -> None:
    # PyYAML reads the key `on` as the boolean True.
    ci, deploy, retrain = (
        load(WORKFLOWS / n)[True] for n in ("ci.yml", "deploy.yml", "retrain.yml")
    )
    assert "push" in ci and "pull_request" in ci
    assert deploy["push"]["branches"] == ["main"]
    assert retrain["schedule"][0]["cron"].count(" ") == 4 and "workflow_dispatch" in retrain


def test_ci_runs_the_suite_the_infra_checks_and_the_image_build() -> None:
    text = (WORKFLOWS / "ci.yml").read_text(encoding="utf-8")
    for needle in (
        "make test",
        "scripts/install_infra_tools.sh",
        "pytest tests/infra",
        "docker build",
        "ruff check",
    ):
        assert needle in text, needle


def test_deploy_plans_to_an_artifact_applies_it_then_smoke_tests() -> None:
    jobs = load(WORKFLOWS / "deploy.yml")["jobs"]
    assert (
        jobs["plan"]["needs"] == "image"
        and jobs["apply"]["needs"] == "plan"
        and jobs["smoke"]["needs"] == "apply"
    )
    plan_steps = " ".join(str(s) for s in jobs["plan"]["steps"])
    apply_steps = " ".join(str(s) for s in jobs["apply"]["steps"])
    assert "terraform plan -out=tfplan" in plan_steps and "upload-artifact" in plan_steps
    assert "download-artifact" in apply_steps and "terraform apply tfplan" in apply_steps
    assert "workload_identity_provider" in plan_steps
    assert "?health=1" in str(jobs["smoke"]["steps"])


def test_retrain_validates_the_data_before_training() -> None:
    jobs = load(WORKFLOWS / "retrain.yml")["jobs"]
    assert jobs["retrain"]["needs"] == "validate"
    runs = [step.get("run", "") for step in jobs["validate"]["steps"]]
    assert any("movierec data validate" in r for r in runs)
    assert "gcloud run jobs execute movierec-retrain" in str(jobs["retrain"]["steps"])


def test_an_unpinned_action_is_caught(broken: Path) -> None:
    edit(
        broken / "deploy.yml",
        "actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093 # v4.3.0",
        "actions/download-artifact@v4",
    )
    assert policy_problems(broken / "deploy.yml") == [
        "deploy.yml: actions/download-artifact@v4 is not pinned to a full commit SHA"
    ]


def test_a_missing_permissions_block_is_caught(broken: Path) -> None:
    edit(broken / "retrain.yml", "    permissions:\n      contents: read\n    env:", "    env:")
    assert policy_problems(broken / "retrain.yml") == [
        "retrain.yml: job validate has no permissions block"
    ]


def test_a_json_key_is_caught(broken: Path) -> None:
    edit(
        broken / "retrain.yml",
        "          workload_identity_provider: ${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}\n",
        "          credentials_json: ${{ secrets.GCP_KEY }}\n",
    )
    assert (
        "retrain.yml: uses a service account key instead of Workload Identity Federation"
        in policy_problems(broken / "retrain.yml")
    )


def test_actionlint_catches_a_broken_workflow(broken: Path) -> None:
    edit(broken / "deploy.yml", "needs: apply\n", "needs: aply\n")
    code, output = actionlint(broken)
    assert code != 0 and "aply" in output, output

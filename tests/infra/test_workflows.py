"""The GitHub Actions workflows pass actionlint, pin every action to a commit,
grant least privilege and never hold a JSON key; broken copies are caught."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
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


def test_deploy_plans_and_applies_in_one_job_then_smoke_tests() -> None:
    jobs = load(WORKFLOWS / "deploy.yml")["jobs"]
    assert jobs["deploy"]["needs"] == "image" and jobs["smoke"]["needs"] == "deploy"
    steps = " ".join(str(s) for s in jobs["deploy"]["steps"])
    assert "terraform plan -out=tfplan" in steps and "terraform apply tfplan" in steps
    assert "rm -f tfplan" in steps
    assert "workload_identity_provider" in steps
    assert "scripts/build_function_source.py" in steps
    assert "scripts/smoke_test.py" in str(jobs["smoke"]["steps"])


def test_retrain_validates_the_data_before_training() -> None:
    jobs = load(WORKFLOWS / "retrain.yml")["jobs"]
    assert jobs["retrain"]["needs"] == "validate"
    runs = [step.get("run", "") for step in jobs["validate"]["steps"]]
    order = [next(i for i, r in enumerate(runs) if needle in r)
             for needle in ("movierec data fetch", "movierec data validate", "movierec data publish")]
    assert order == sorted(order), "fetch, then validate, then publish exactly those files"
    publish = next(s for s in jobs["validate"]["steps"] if "movierec data publish" in s.get("run", ""))
    assert publish["env"]["MOVIEREC_ARTIFACT_BUCKET"] == "${{ vars.GCP_ARTIFACT_BUCKET }}"
    steps = str(jobs["retrain"]["steps"])
    # The job name and the account that may start it come from Terraform's outputs.
    assert "gcloud run jobs execute \"$JOB\"" in steps and "vars.GCP_RETRAIN_JOB" in steps
    assert "vars.GCP_RETRAIN_SERVICE_ACCOUNT" in steps and "GCP_DEPLOY_SERVICE_ACCOUNT" not in steps
    assert "movierec-retrain" not in steps


def test_ci_installs_the_firestore_emulator_with_the_script_run_here() -> None:
    text = (WORKFLOWS / "ci.yml").read_text(encoding="utf-8")
    assert "bash scripts/install_firestore_emulator.sh" in text
    assert "apt-get install" not in text  # the script adds Google's apt source and key first
    ready = run(["bash", "scripts/install_firestore_emulator.sh"])
    assert ready.returncode == 0 and "firestore emulator ready" in ready.stdout, ready.stderr


def test_the_emulator_script_adds_googles_apt_repository_with_its_key(tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "install_firestore_emulator.sh")],
        env={**os.environ, "DRY_RUN": "1", "FIRESTORE": str(tmp_path / "absent")},
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    commands = result.stdout
    assert "https://packages.cloud.google.com/apt/doc/apt-key.gpg" in commands
    assert "gpg --dearmor" in commands
    assert "deb [signed-by=/usr/share/keyrings/cloud.google.gpg] https://packages.cloud.google.com/apt cloud-sdk main" in commands
    assert commands.index("apt-get update") < commands.index("apt-get install")
    assert "google-cloud-cli-firestore-emulator" in commands and "openjdk-17-jre-headless" in commands


def test_an_unpinned_action_is_caught(broken: Path) -> None:
    edit(
        broken / "deploy.yml",
        "uses: google-github-actions/setup-gcloud@aa5489c8933f4cc7a4f7d45035b3b1440c9c10db # v3.0.1",
        "uses: google-github-actions/setup-gcloud@v3",
    )
    assert policy_problems(broken / "deploy.yml") == [
        "deploy.yml: google-github-actions/setup-gcloud@v3 is not pinned to a full commit SHA"
    ]


def test_a_missing_permissions_block_is_caught(broken: Path) -> None:
    edit(broken / "retrain.yml", "    permissions:\n      contents: read\n      id-token: write\n    outputs:", "    outputs:")
    assert policy_problems(broken / "retrain.yml") == [
        "retrain.yml: job validate has no permissions block"
    ]


def test_a_json_key_is_caught(broken: Path) -> None:
    edit(
        broken / "retrain.yml",
        "          workload_identity_provider: ${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}\n"
        "          service_account: ${{ vars.GCP_RETRAIN_SERVICE_ACCOUNT }}\n"
        "      - uses: google-github-actions/setup-gcloud",
        "          credentials_json: ${{ secrets.GCP_KEY }}\n"
        "      - uses: google-github-actions/setup-gcloud",
    )
    assert (
        "retrain.yml: uses a service account key instead of Workload Identity Federation"
        in policy_problems(broken / "retrain.yml")
    )


def test_actionlint_catches_a_broken_workflow(broken: Path) -> None:
    edit(broken / "deploy.yml", "    needs: deploy\n", "    needs: deplyo\n")
    code, output = actionlint(broken)
    assert code != 0 and "deplyo" in output, output

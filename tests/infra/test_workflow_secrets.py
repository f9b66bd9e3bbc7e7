"""No secret leaves a workflow: no saved plan or state is uploaded, no plan is printed
as JSON, no sensitive (or every) Terraform output is printed; every action runs on
Node 24."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.infra import tfconfig
from tests.infra.tools import REPO, edit

WORKFLOWS = REPO / ".github" / "workflows"
PLAN_OR_STATE = re.compile(r"tfplan|\.tfstate|\.terraform\b|\*\.tf\b")
OUTPUT = re.compile(r"terraform[ \t]+output((?:[ \t]+-[\w=-]+)*)(?:[ \t]+([A-Za-z_]\w*))?")
# The first major of each action whose action.yml says `using: node24` (read from the
# actions' repositories when pinning them).
NODE24_MAJORS = {
    "actions/checkout": 5,
    "actions/setup-python": 6,
    "hashicorp/setup-terraform": 4,
    "google-github-actions/auth": 3,
    "google-github-actions/setup-gcloud": 3,
    "actions/upload-artifact": 5,
    "actions/download-artifact": 5,
}


def steps(path: Path) -> list[dict[str, Any]]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [step for job in doc.get("jobs", {}).values() for step in job.get("steps", [])]


def sensitive_outputs(infra: Path) -> set[str]:
    config = tfconfig.load(infra)
    return {name for name, body in config.outputs.items() if body.get("sensitive") is True}


def leak_problems(path: Path, sensitive: set[str]) -> list[str]:
    problems = []
    for step in steps(path):
        name = step.get("name") or step.get("uses") or "a step"
        if "upload-artifact" in str(step.get("uses", "")) and PLAN_OR_STATE.search(
            str(step.get("with", {}).get("path", ""))
        ):
            problems.append(f"{path.name}: '{name}' uploads a Terraform plan or state")
        script = str(step.get("run", ""))
        if re.search(r"terraform\s+show\b", script):
            problems.append(f"{path.name}: '{name}' prints a plan or state (terraform show)")
        for flags, output in OUTPUT.findall(script):
            if not output:
                problems.append(f"{path.name}: '{name}' prints every Terraform output")
            elif output in sensitive:
                problems.append(f"{path.name}: '{name}' prints the sensitive output {output}")
        if re.search(r"^\s*set\s+-[a-z]*x", script, re.MULTILINE) and "secrets." in str(step):
            problems.append(f"{path.name}: '{name}' traces a script that handles secrets (set -x)")
    return problems


def node_problems(path: Path) -> list[str]:
    problems = []
    for ref, major in re.findall(r"uses:\s*([\w.-]+/[\w.-]+)@[0-9a-f]{40}\s*#\s*v(\d+)", path.read_text(encoding="utf-8")):
        wanted = NODE24_MAJORS.get(ref)
        if wanted is None:
            problems.append(f"{path.name}: {ref}: unknown whether it runs on Node 24; add it to NODE24_MAJORS")
        elif int(major) < wanted:
            problems.append(f"{path.name}: {ref} v{major} runs on Node 20; v{wanted}+ runs on Node 24")
    return problems


@pytest.mark.parametrize("name", ["ci.yml", "deploy.yml", "retrain.yml"])
def test_no_workflow_leaks_a_plan_state_or_sensitive_output(name: str) -> None:
    assert leak_problems(WORKFLOWS / name, sensitive_outputs(REPO / "infra")) == []


@pytest.mark.parametrize("name", ["ci.yml", "deploy.yml", "retrain.yml"])
def test_every_action_runs_on_node_24(name: str) -> None:
    assert node_problems(WORKFLOWS / name) == []


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    target = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS, target)
    return target


def test_an_uploaded_plan_is_caught(broken: Path) -> None:
    edit(
        broken / "deploy.yml",
        "      - name: terraform apply (exactly the saved plan)\n",
        "      - uses: actions/upload-artifact@330a01c490aca151604b8cf639adc76d48f6c5d4 # v5.0.0\n"
        "        with:\n          name: plan\n          path: infra/tfplan\n"
        "      - name: terraform apply (exactly the saved plan)\n",
    )
    assert leak_problems(broken / "deploy.yml", set()) == [
        "deploy.yml: 'actions/upload-artifact@330a01c490aca151604b8cf639adc76d48f6c5d4' uploads a Terraform plan or state"
    ]


def test_a_printed_plan_or_sensitive_output_is_caught(broken: Path) -> None:
    edit(broken / "deploy.yml", "run: terraform apply tfplan\n",
         "run: |\n          terraform show -json tfplan\n          terraform output -raw token\n"
         "          terraform output -json\n          terraform apply tfplan\n")
    assert leak_problems(broken / "deploy.yml", {"token"}) == [
        "deploy.yml: 'terraform apply (exactly the saved plan)' prints a plan or state (terraform show)",
        "deploy.yml: 'terraform apply (exactly the saved plan)' prints the sensitive output token",
        "deploy.yml: 'terraform apply (exactly the saved plan)' prints every Terraform output",
    ]


def test_a_node_20_action_is_caught(broken: Path) -> None:
    text = (broken / "ci.yml").read_text(encoding="utf-8")
    (broken / "ci.yml").write_text(
        text.replace("actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1",
                     "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2", 1),
        encoding="utf-8",
    )
    assert node_problems(broken / "ci.yml") == [
        "ci.yml: actions/checkout v4 runs on Node 20; v5+ runs on Node 24"
    ]

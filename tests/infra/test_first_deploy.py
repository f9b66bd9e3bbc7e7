"""What a first deploy depends on, checked offline: the provider lock file step (which
this repository cannot take itself: its `terraform init` needs the registry), BigQuery
in the stack's region, Cloud Storage audit logs behind the checkov skip that cites them.

(The retrain workflow's job name from the Terraform outputs: test_dataset_version.py
and test_workflows.py; a first deploy with no model yet counting as reachable:
tests/e2e/test_smoke_script.py.)
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.infra import tfconfig
from tests.infra.tools import REPO

WORKFLOWS = REPO / ".github" / "workflows"
LOCK_STEP = "The provider lock file is committed"


def deploy_steps() -> list[dict[str, Any]]:
    return yaml.safe_load((WORKFLOWS / "deploy.yml").read_text(encoding="utf-8"))["jobs"]["deploy"]["steps"]


def run_lock_check(folder: Path) -> subprocess.CompletedProcess[str]:
    step = next(s for s in deploy_steps() if s.get("name") == LOCK_STEP)
    return subprocess.run(["bash", "-e", "-c", step["run"]], cwd=folder, capture_output=True, text=True, check=False)


def test_deploy_fails_first_with_the_lock_file_step_named(tmp_path: Path) -> None:
    names = [s.get("name", "") for s in deploy_steps()]
    init = next(i for i, n in enumerate(names) if n.startswith("terraform init"))
    assert names.index(LOCK_STEP) < init
    assert "-lockfile=readonly" in deploy_steps()[init]["run"]
    missing = run_lock_check(tmp_path)
    assert missing.returncode == 1
    assert "terraform providers lock -platform=linux_amd64" in missing.stdout
    assert "commit infra/.terraform.lock.hcl" in missing.stdout and "infra/README.md, step 3" in missing.stdout
    (tmp_path / ".terraform.lock.hcl").write_text("# providers\n", encoding="utf-8")
    assert run_lock_check(tmp_path).returncode == 0


def test_the_readme_makes_the_lock_file_step_explicit() -> None:
    readme = (REPO / "infra" / "README.md").read_text(encoding="utf-8")
    for folder in ("infra/.terraform.lock.hcl", "infra/bootstrap/.terraform.lock.hcl"):
        assert folder in readme
    assert "terraform providers lock -platform=linux_amd64" in readme
    assert readme.count("git add .terraform.lock.hcl") >= 2


def test_bigquery_follows_the_region(config: tfconfig.TfConfig) -> None:
    assert config.variables["bigquery_location"]["default"] is None
    assert config.locals["bigquery_location"] == "${coalesce(var.bigquery_location, var.region)}"
    dataset = config.resource("google_bigquery_dataset", "events")
    assert dataset["location"] == "${local.bigquery_location}"
    assert config.locals["firestore_location"] == "${coalesce(var.firestore_location, var.region)}"


def test_the_audit_log_skip_is_backed_by_the_audit_config() -> None:
    storage = (REPO / "infra" / "storage.tf").read_text(encoding="utf-8")
    assert "google_project_iam_audit_config.storage" in storage
    audit = tfconfig.load(REPO / "infra" / "bootstrap").resource("google_project_iam_audit_config", "storage")
    assert audit["service"] == "storage.googleapis.com"
    assert {c["log_type"] for c in audit["audit_log_config"]} == {"DATA_READ", "DATA_WRITE"}

"""The retrain job trains on the dataset version the Retrain workflow validated and
published: Terraform gives it MOVIEREC_DATASET_VERSION=validated, its account may read
datasets/ and the workflow's account write it, and the bootstrap hands the workflow the
bucket. The behaviour itself (publish, download, sha256 refusal) runs on the emulators
in tests/retraining/test_published_dataset.py."""

from __future__ import annotations

from pathlib import Path

from movierec.pipelines.datasets import LATEST_VALIDATED, PREFIX
from movierec.settings import Settings
from tests.infra import tfconfig
from tests.infra.tools import REPO, edit


def dataset_version_problems(config: tfconfig.TfConfig) -> list[str]:
    problems = []
    env = config.locals["jobs"]["retrain"]["env"]
    if env.get("MOVIEREC_DATASET_VERSION") != "${var.dataset_version}":
        problems.append("the retrain job is not given MOVIEREC_DATASET_VERSION = var.dataset_version")
    default = config.variables.get("dataset_version", {}).get("default")
    if default != LATEST_VALIDATED:
        problems.append(f"var.dataset_version defaults to {default!r}, not {LATEST_VALIDATED!r}")
    if "MOVIEREC_DATASET_VERSION" in config.locals["jobs"]["daily"]["env"]:
        problems.append("the daily job trains nothing and should not name a dataset version")
    if f"{PREFIX}/" not in config.locals["bucket_readers"].get("retrain", []):
        problems.append(f"the retrain account cannot read {PREFIX}/")
    if config.locals["bucket_writers"].get("dispatch") != [f"{PREFIX}/"]:
        problems.append(f"the workflow's account does not write exactly {PREFIX}/")
    return problems


def test_the_retrain_job_trains_on_the_validated_version(config: tfconfig.TfConfig) -> None:
    assert dataset_version_problems(config) == []
    assert Settings.from_env({"MOVIEREC_DATASET_VERSION": LATEST_VALIDATED}).dataset_version == LATEST_VALIDATED


def test_a_job_that_downloads_its_own_copy_is_caught(infra_copy: Path) -> None:
    edit(infra_copy / "main.tf", "MOVIEREC_DATASET_VERSION = var.dataset_version\n", "")
    assert dataset_version_problems(tfconfig.load(infra_copy)) == [
        "the retrain job is not given MOVIEREC_DATASET_VERSION = var.dataset_version"
    ]


def test_the_bootstrap_hands_the_workflow_the_artifact_bucket(config: tfconfig.TfConfig) -> None:
    outputs = tfconfig.load(REPO / "infra" / "bootstrap").outputs["github_variables"]["value"]
    assert outputs["GCP_ARTIFACT_BUCKET"] == "${var.project_id}-${var.name_prefix}-artifacts"
    assert config.locals["artifact_bucket_name"] == (
        '${coalesce(var.artifact_bucket_name, "${var.project_id}-${var.name_prefix}-artifacts")}'
    )
    # The same for the job name: the bootstrap's value is infra/'s output retrain_job_name.
    assert outputs["GCP_RETRAIN_JOB"] == "${var.name_prefix}-retrain"
    job = config.resource("google_cloud_run_v2_job", "this")
    assert job["name"] == "${var.name_prefix}-${each.key}" and "retrain" in config.locals["jobs"]
    assert config.outputs["retrain_job_name"]["value"] == '${google_cloud_run_v2_job.this["retrain"].name}'

"""Least privilege, over the parsed Terraform of infra/ and infra/bootstrap.

The expected grants below are derived from the code paths of each workload (which
buckets and prefixes, tables, secrets and jobs it touches); a grant beyond them, or a
role that lets an account grant roles, fails. Each check also runs on a copy broken
on purpose.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from movierec.models.artifact import model_prefix
from movierec.pipelines.datasets import pointer_key, version_prefix
from movierec.reporting.drift import REPORT_PREFIX
from movierec.retraining.records import RUNS_PREFIX, SIGNALS_PREFIX
from tests.infra import tfconfig
from tests.infra.tools import REPO, edit

BUILD_DOC = "https://cloud.google.com/functions/docs/securing/build-custom-sa"

# Project-level roles each workload's code needs (everything narrower is granted on
# the resource in infra/iam.tf):
EXPECTED_PROJECT_ROLES: dict[str, set[str]] = {
    # serving: Firestore documents (read + create), no per-collection IAM exists
    "recommend": {"roles/datastore.user"},
    "feedback": {"roles/datastore.user"},
    # retrain: BigQuery query jobs (feedback), Firestore scan as the fallback source
    "retrain": {"roles/datastore.viewer", "roles/bigquery.jobUser"},
    # daily: Firestore scans (export, drift), BigQuery load and query jobs
    "daily": {"roles/datastore.viewer", "roles/bigquery.jobUser"},
    # Cloud Build: build logs (its other two roles are on the repository and the bucket)
    "build": {"roles/logging.logWriter"},
    "scheduler": set(),
    "dispatch": set(),
}
# Roles that can grant roles (to oneself too), impersonate other accounts or mint their keys.
GRANTING_ROLES = {
    "roles/owner",
    "roles/editor",
    "roles/resourcemanager.projectIamAdmin",
    "roles/iam.securityAdmin",
    "roles/iam.serviceAccountAdmin",
    "roles/iam.serviceAccountTokenCreator",
    "roles/iam.serviceAccountKeyAdmin",
    "roles/iam.workloadIdentityPoolAdmin",
    "roles/iam.roleAdmin",
    "roles/iam.organizationRoleAdmin",
}
# Prefixes of the artifact bucket each workload's code reads or writes.
EXPECTED_READERS = {"recommend": {"models/"}, "daily": {"models/"}, "retrain": {"datasets/"}}
EXPECTED_WRITERS = {
    "retrain": {"models/", "runs/", "retraining/", "mlflow/"},
    "daily": {"reports/"},
    # the Retrain workflow publishes the dataset it validated (`movierec data publish`)
    "dispatch": {"datasets/"},
}
EXPECTED_SECRETS = {"recommend": {"token"}, "feedback": {"token"}, "daily": {"alert-webhook-url"}}


def bootstrap_locals(folder: Path) -> dict[str, Any]:
    return tfconfig.load(folder).locals


def project_roles(bootstrap: dict[str, Any]) -> dict[str, set[str]]:
    return {sa: set(roles) for sa, roles in bootstrap["project_roles"].items()}


def iam_problems(main: tfconfig.TfConfig, bootstrap: dict[str, Any]) -> list[str]:
    problems = []
    roles = project_roles(bootstrap)
    for sa, expected in EXPECTED_PROJECT_ROLES.items():
        if roles.get(sa, set()) != expected:
            problems.append(f"{sa}: project roles {sorted(roles.get(sa, set()))}, expected {sorted(expected)}")
    for sa, granted in roles.items():
        if granted & GRANTING_ROLES:
            problems.append(f"{sa}: holds {sorted(granted & GRANTING_ROLES)}, which can grant roles")
    for kind in ("google_project_iam_member", "google_project_iam_binding", "google_project_iam_policy",
                 "google_service_account_iam_member", "google_service_account_iam_binding",
                 "google_iam_workload_identity_pool", "google_service_account"):
        if kind in main.resources:
            problems.append(f"infra/ manages {kind}: identities and IAM belong to infra/bootstrap")
    if set(bootstrap["service_accounts"]) != tfconfig.names_of(main.locals["service_accounts"]):
        problems.append("infra/ and infra/bootstrap name different service accounts")
    checks = (
        ("bucket_readers", EXPECTED_READERS),
        ("bucket_writers", EXPECTED_WRITERS),
        ("secret_readers", EXPECTED_SECRETS),
    )
    for name, expected in checks:
        actual = {sa: set(values) for sa, values in main.locals.get(name, {}).items()}
        if actual != expected:
            problems.append(f"local.{name} is {actual}, expected {expected}")
    for resource in ("artifact_readers", "artifact_writers"):
        grant = main.resources.get("google_storage_bucket_iam_member", {}).get(resource, {})
        if "startsWith" not in str(grant.get("condition")):
            problems.append(f"google_storage_bucket_iam_member.{resource} is not limited to prefixes")
    bucket_grants = main.resources.get("google_storage_bucket_iam_member", {})
    if set(bucket_grants) != {"artifact_readers", "artifact_writers", "build_source"}:
        problems.append(f"unexpected bucket grants: {sorted(bucket_grants)}")
    return problems


@pytest.fixture(scope="module")
def bootstrap() -> dict[str, Any]:
    return bootstrap_locals(REPO / "infra" / "bootstrap")


def test_each_workload_has_exactly_the_roles_its_code_uses(
    config: tfconfig.TfConfig, bootstrap: dict[str, Any]
) -> None:
    assert iam_problems(config, bootstrap) == []


def test_the_prefixes_are_the_ones_the_code_writes() -> None:
    written_by = {
        "retrain": [model_prefix("svd", "v1"), RUNS_PREFIX, SIGNALS_PREFIX],
        "daily": [f"{REPORT_PREFIX}/2026-01-01.html"],
        "dispatch": [version_prefix("ml-100k", "0" * 16) + "u.data", pointer_key("ml-100k")],
    }
    read_by = {
        "recommend": [model_prefix("svd", "v1")],
        "retrain": [version_prefix("ml-100k", "0" * 16) + "manifest.json", pointer_key("ml-100k")],
    }
    for expected, used in ((EXPECTED_WRITERS, written_by), (EXPECTED_READERS, read_by)):
        for sa, keys in used.items():
            for key in keys:
                assert any(key.startswith(p) for p in expected[sa]), (sa, key)


def test_the_deploy_account_cannot_grant_itself_roles(bootstrap: dict[str, Any]) -> None:
    deploy = project_roles(bootstrap)["deploy"]
    assert deploy and not deploy & GRANTING_ROLES
    assert not any(role.startswith("roles/iam.") and role != "roles/iam.serviceAccountViewer" for role in deploy)


def test_the_build_account_has_the_documented_roles(config: tfconfig.TfConfig, infra_dir: Path) -> None:
    build_source = config.resource("google_storage_bucket_iam_member", "build_source")
    assert build_source["role"] == "roles/storage.objectAdmin"
    assert "google_storage_bucket.function_source" in build_source["bucket"]
    writer = config.resource("google_artifact_registry_repository_iam_member", "build_writer")
    assert writer["role"] == "roles/artifactregistry.writer"
    assert "google_artifact_registry_repository.functions" in writer["repository"]
    fn = config.resource("google_cloudfunctions2_function", "this")
    assert "google_artifact_registry_repository.functions" in fn["build_config"][0]["docker_repository"]
    assert BUILD_DOC in (infra_dir / "iam.tf").read_text(encoding="utf-8")
    assert BUILD_DOC in (infra_dir / "bootstrap" / "main.tf").read_text(encoding="utf-8")


def test_the_retrain_workflow_account_can_only_run_that_job(config: tfconfig.TfConfig) -> None:
    grant = config.resource("google_cloud_run_v2_job_iam_member", "dispatch")
    assert set(re.findall(r'"(roles/[^"]+)"', grant["for_each"])) == {"roles/run.invoker", "roles/run.viewer"}
    assert 'google_cloud_run_v2_job.this["retrain"]' in grant["name"]
    assert 'workload["dispatch"]' in grant["member"]


def test_each_function_and_job_mounts_only_its_own_secrets(config: tfconfig.TfConfig) -> None:
    fn = config.resource("google_cloudfunctions2_function", "this")
    job = config.resource("google_cloud_run_v2_job", "this")
    secret_blocks = [
        *[b for b in fn["service_config"][0]["dynamic"] if "secret_environment_variables" in b],
        *[b for b in job["template"][0]["template"][0]["containers"][0]["dynamic"] if "env" in b],
    ]
    mounted = [next(iter(b.values()))["for_each"] for b in secret_blocks]
    assert "${local.secret_env_of[each.key]}" in mounted
    assert all("active_secret_env" not in m for m in mounted), mounted


@pytest.fixture
def bootstrap_copy(tmp_path: Path) -> Path:
    target = tmp_path / "bootstrap"
    shutil.copytree(REPO / "infra" / "bootstrap", target, ignore=shutil.ignore_patterns(".terraform"))
    return target


def test_a_deploy_account_that_could_make_itself_owner_is_caught(
    config: tfconfig.TfConfig, bootstrap_copy: Path
) -> None:
    edit(bootstrap_copy / "main.tf", '      "roles/run.admin",\n',
         '      "roles/run.admin",\n      "roles/resourcemanager.projectIamAdmin",\n')
    assert iam_problems(config, bootstrap_locals(bootstrap_copy)) == [
        "deploy: holds ['roles/resourcemanager.projectIamAdmin'], which can grant roles"
    ]


def test_a_daily_job_that_could_overwrite_live_pointers_is_caught(
    infra_copy: Path, bootstrap: dict[str, Any]
) -> None:
    edit(infra_copy / "main.tf", '    daily    = ["reports/"]', '    daily    = ["reports/", "models/"]')
    problems = iam_problems(tfconfig.load(infra_copy), bootstrap)
    assert len(problems) == 1 and problems[0].startswith("local.bucket_writers is"), problems


def test_a_function_reading_the_webhook_secret_is_caught(
    infra_copy: Path, bootstrap: dict[str, Any]
) -> None:
    edit(infra_copy / "main.tf", '    recommend = ["token"]', '    recommend = ["token", "alert-webhook-url"]')
    problems = iam_problems(tfconfig.load(infra_copy), bootstrap)
    assert len(problems) == 1 and problems[0].startswith("local.secret_readers is"), problems


def test_project_iam_in_the_deployed_folder_is_caught(
    infra_copy: Path, bootstrap: dict[str, Any]
) -> None:
    (infra_copy / "escalate.tf").write_text(
        'resource "google_project_iam_member" "me" {\n  project = var.project_id\n'
        '  role    = "roles/owner"\n  member  = "serviceAccount:x@y"\n}\n',
        encoding="utf-8",
    )
    assert iam_problems(tfconfig.load(infra_copy), bootstrap) == [
        "infra/ manages google_project_iam_member: identities and IAM belong to infra/bootstrap"
    ]

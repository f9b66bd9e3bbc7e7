"""Offline checks of infra/: it parses, checkov passes, and the pieces are wired together.

Each wiring check also runs on a copy of infra/ broken on purpose, to show that it
catches the mistake it is there for.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from movierec import events
from tests.infra import tfconfig
from tests.infra.tools import REPO, checkov, edit, failed_checks, run, tool

SETTINGS_PY = REPO / "movierec" / "settings.py"
TERRAFORM_INSTALL = "Terraform >= 1.5 from HashiCorp (see infra/README.md, Prerequisites)"
SKIP_COMMENT = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?")


def test_every_tf_file_parses(infra_dir: Path) -> None:
    files = sorted(infra_dir.glob("*.tf"))
    assert {"versions.tf", "variables.tf", "main.tf", "outputs.tf"} <= {f.name for f in files}
    for path in files:
        assert tfconfig.parse_file(path), f"{path.name} is empty"


def test_a_syntax_error_is_reported_with_the_file(infra_copy: Path) -> None:
    edit(
        infra_copy / "storage.tf",
        'resource "google_storage_bucket" "artifacts" {',
        'resource "google_storage_bucket" "artifacts" {{',
    )
    with pytest.raises(AssertionError, match=r"storage\.tf: not valid HCL2"):
        tfconfig.load(infra_copy)


def test_terraform_fmt_is_clean(infra_dir: Path) -> None:
    result = run(
        [
            tool("terraform", TERRAFORM_INSTALL),
            "fmt",
            "-check",
            "-recursive",
            "-diff",
            str(infra_dir),
        ]
    )
    assert result.returncode == 0, f"run `terraform fmt -recursive infra`:\n{result.stdout}"


def test_providers_are_pinned(config: tfconfig.TfConfig, infra_dir: Path) -> None:
    versions = tfconfig.parse_file(infra_dir / "versions.tf")["terraform"][0]
    providers = versions["required_providers"][0]
    assert providers["google"]["version"].startswith("~>"), providers
    assert all("version" in spec for spec in providers.values())
    assert "required_version" in versions


def test_variables_are_typed_described_and_validated(config: tfconfig.TfConfig) -> None:
    assert tfconfig.variable_problems(config) == []


def test_a_variable_without_validation_is_caught(infra_copy: Path) -> None:
    edit(
        infra_copy / "variables.tf",
        'variable "default_model" {',
        'variable "unchecked" {\n  type = string\n  description = "x"\n}\n\nvariable "default_model" {',
    )
    assert tfconfig.variable_problems(tfconfig.load(infra_copy)) == [
        "variable unchecked: no validation block"
    ]


def test_checkov_reports_no_failed_check(checkov_terraform: dict[str, Any]) -> None:
    assert checkov_terraform["summary"]["resource_count"] > 30
    assert failed_checks(checkov_terraform) == []


def test_every_checkov_skip_gives_a_reason(infra_dir: Path) -> None:
    skips = [
        (path.name, match.group(1), (match.group(2) or "").strip())
        for path in infra_dir.glob("*.tf")
        for match in SKIP_COMMENT.finditer(path.read_text(encoding="utf-8"))
    ]
    assert skips, "expected the documented skips (CMEK, access logs) to be found"
    assert [s for s in skips if len(s[2]) < 20] == [], (
        "each #checkov:skip=ID:reason needs a written reason"
    )


def test_checkov_fails_on_a_public_bucket(infra_copy: Path) -> None:
    edit(
        infra_copy / "storage.tf",
        'public_access_prevention    = "enforced"\n  force_destroy               = false',
        'public_access_prevention    = "inherited"\n  force_destroy               = false',
    )
    (infra_copy / "public.tf").write_text(
        'resource "google_storage_bucket_iam_member" "public" {\n'
        "  bucket = google_storage_bucket.artifacts.name\n"
        '  role   = "roles/storage.objectViewer"\n'
        '  member = "allUsers"\n}\n',
        encoding="utf-8",
    )
    failed = failed_checks(checkov(infra_copy, "terraform"))
    assert any(f.startswith("CKV_GCP_114 google_storage_bucket.artifacts") for f in failed), failed
    assert any(
        f.startswith("CKV_GCP_28 google_storage_bucket_iam_member.public") for f in failed
    ), failed
    problems = tfconfig.bucket_problems(tfconfig.load(infra_copy))
    assert "bucket artifacts: public_access_prevention is not 'enforced'" in problems
    assert "google_storage_bucket_iam_member.public grants a bucket to the public" in problems


def test_buckets_are_private_versioned_and_expire_old_versions(config: tfconfig.TfConfig) -> None:
    assert tfconfig.bucket_problems(config) == []


def test_unversioned_artifacts_are_caught(infra_copy: Path) -> None:
    edit(
        infra_copy / "storage.tf",
        "versioning {\n    enabled = true\n  }",
        "versioning {\n    enabled = false\n  }",
    )
    assert tfconfig.bucket_problems(tfconfig.load(infra_copy)) == [
        "artifact bucket: versioning is off"
    ]


def test_every_function_and_job_has_its_own_service_account(config: tfconfig.TfConfig) -> None:
    assert set(config.locals["functions"]) == {"recommend", "feedback"}
    assert set(config.locals["jobs"]) == {"retrain", "daily"}
    assert tfconfig.service_account_problems(config) == []


def test_a_dropped_service_account_is_caught(infra_copy: Path) -> None:
    edit(infra_copy / "main.tf", '"feedback", "retrain", "daily", "scheduler"', '"retrain", "daily", "scheduler"')
    assert tfconfig.service_account_problems(tfconfig.load(infra_copy)) == [
        "function 'feedback' runs as 'feedback', which local.service_accounts lacks"
    ]


def test_a_shared_service_account_is_caught(infra_copy: Path) -> None:
    edit(infra_copy / "main.tf", 'service_account = "daily"', 'service_account = "retrain"')
    problems = tfconfig.service_account_problems(tfconfig.load(infra_copy))
    assert problems == ["job 'daily' shares service account 'retrain' with job 'retrain'"]


def test_every_setting_the_code_reads_is_set_or_exempted(config: tfconfig.TfConfig) -> None:
    names = tfconfig.settings_env_names(SETTINGS_PY)
    # The reading is live: these are in Settings.from_env today.
    assert {"MOVIEREC_BACKEND", "MOVIEREC_TOKEN_SECRET", "GOOGLE_CLOUD_PROJECT"} <= names
    assert tfconfig.env_problems(config, SETTINGS_PY) == []
    functions = tfconfig.function_env_names(config)
    assert {"MOVIEREC_TOKEN_SECRET", "MOVIEREC_ALERT_WEBHOOK_URL"} <= functions["feedback"]


def test_a_removed_env_var_is_caught(infra_copy: Path) -> None:
    edit(
        infra_copy / "main.tf",
        "    MOVIEREC_BQ_DATASET         = google_bigquery_dataset.events.dataset_id\n",
        "",
    )
    problems = tfconfig.env_problems(tfconfig.load(infra_copy), SETTINGS_PY)
    assert len(problems) == 4, problems  # both functions and both jobs
    assert all("MOVIEREC_BQ_DATASET" in p for p in problems)


def test_a_new_setting_must_be_wired_or_exempted(config: tfconfig.TfConfig, tmp_path: Path) -> None:
    settings = tmp_path / "settings.py"
    settings.write_text(
        SETTINGS_PY.read_text(encoding="utf-8").replace(
            'dataset=env.get("MOVIEREC_DATASET", "ml-100k"),',
            'dataset=env.get("MOVIEREC_DATASET", "ml-100k"),\n            region=env.get("MOVIEREC_REGION"),',
        ),
        encoding="utf-8",
    )
    problems = tfconfig.env_problems(config, settings)
    assert len(problems) == 4 and all("MOVIEREC_REGION" in p for p in problems), problems


def test_every_scheduler_job_targets_an_existing_job(config: tfconfig.TfConfig) -> None:
    assert tfconfig.scheduler_problems(config) == []


def test_a_scheduler_pointing_nowhere_is_caught(infra_copy: Path) -> None:
    edit(
        infra_copy / "jobs.tf",
        "v2/${google_cloud_run_v2_job.this[each.key].id}:run",
        "v2/${google_cloud_run_v2_job.retired[each.key].id}:run",
    )
    problems = tfconfig.scheduler_problems(tfconfig.load(infra_copy))
    assert (
        "scheduler this: targets google_cloud_run_v2_job.retired, which does not exist" in problems
    )


def test_a_schedule_without_its_job_is_caught(infra_copy: Path) -> None:
    edit(
        infra_copy / "jobs.tf",
        'resource "google_cloud_scheduler_job" "this" {\n  for_each = local.jobs',
        'resource "google_cloud_scheduler_job" "this" {\n  for_each = merge(local.jobs, { nightly = {} })',
    )
    assert tfconfig.scheduler_problems(tfconfig.load(infra_copy)) == [
        "scheduler this: for_each differs from the job's, so some schedules have no job"
    ]


def test_secrets_referenced_exist(config: tfconfig.TfConfig) -> None:
    assert tfconfig.secret_problems(config) == []


def test_a_missing_secret_is_caught(infra_copy: Path) -> None:
    edit(
        infra_copy / "main.tf",
        '    alert-webhook-url = "${var.name_prefix}-alert-webhook-url"\n',
        "",
    )
    problems = tfconfig.secret_problems(tfconfig.load(infra_copy))
    assert problems == [
        "MOVIEREC_ALERT_WEBHOOK_URL reads secret 'alert-webhook-url', which local.secrets does not define",
        "daily reads secret 'alert-webhook-url', which local.secrets does not define",
    ]


def test_functions_are_private_unless_a_variable_says_otherwise(config: tfconfig.TfConfig) -> None:
    assert tfconfig.invoker_problems(config) == []


def test_a_public_default_is_caught(infra_copy: Path) -> None:
    text = (infra_copy / "variables.tf").read_text(encoding="utf-8")
    start = text.index('variable "feedback_invokers"')
    patched = text[:start] + text[start:].replace(
        "default     = []", 'default     = ["allUsers"]', 1
    )
    (infra_copy / "variables.tf").write_text(patched, encoding="utf-8")
    assert tfconfig.invoker_problems(tfconfig.load(infra_copy)) == [
        "function 'feedback': feedback_invokers lets someone in by default"
    ]


@pytest.mark.parametrize(
    ("table", "event"),
    [
        ("impressions", events.Impression),
        ("feedback", events.Feedback),
        ("assignments", events.Assignment),
    ],
)
def test_bigquery_schemas_hold_every_event_field(infra_dir: Path, table: str, event: type) -> None:
    schema = json.loads((infra_dir / "schemas" / f"{table}.json").read_text(encoding="utf-8"))
    columns = {field["name"]: field for field in schema}
    assert set(columns) == set(event.__dataclass_fields__), (
        f"{table}.json differs from movierec.events.{event.__name__}"
    )
    assert columns["ts"]["type"] == "TIMESTAMP"
    if table == "impressions":
        assert (columns["movie_ids"]["type"], columns["movie_ids"]["mode"]) == ("INT64", "REPEATED")
        assert (columns["scores"]["type"], columns["scores"]["mode"]) == ("FLOAT64", "REPEATED")


def test_event_tables_are_partitioned_by_day_and_clustered_by_experiment(
    config: tfconfig.TfConfig,
) -> None:
    table = config.resource("google_bigquery_table", "events")
    assert table["time_partitioning"][0] == {"type": "DAY", "field": "ts"}
    assert table["clustering"] == ["experiment_id"]
    assert set(
        config.locals["event_tables"]
        .strip("${}")
        .replace("toset([", "")
        .replace("])", "")
        .replace('"', "")
        .split(", ")
    ) == {"assignments", "impressions", "feedback"}

"""MLflow in the cloud, over the parsed Terraform: the retrain job mounts the mlflow/
prefix of the artifact bucket (Cloud Storage FUSE), its MLFLOW_TRACKING_URI is a SQLite
file on that mount, and its account may write that prefix; broken copies are caught.

The code side (the jobs log where Settings says, run files beside the SQLite file) is
tests/jobs/test_mlflow_store.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from movierec.settings import Settings
from tests.infra import tfconfig
from tests.infra.tools import edit

_LOCAL = re.compile(r"\$\{local\.([a-z_]+)\}")


def resolve(config: tfconfig.TfConfig, text: str) -> str:
    """``text`` with each ``${local.X}`` of a plain string local replaced by its value."""
    return _LOCAL.sub(lambda m: str(config.locals.get(m.group(1), m.group(0))), text)


def _dynamic(body: dict[str, Any], label: str) -> dict[str, Any]:
    for block in body.get("dynamic", []):
        if label in block:
            return block[label]
    return {}


def default_tracking_uri(config: tfconfig.TfConfig) -> str | None:
    """The retrain job's MLFLOW_TRACKING_URI when var.mlflow_tracking_uri is null."""
    expression = str(config.locals["jobs"]["retrain"]["env"].get("MLFLOW_TRACKING_URI", ""))
    match = re.fullmatch(r'\$\{coalesce\(var\.mlflow_tracking_uri, "(.+)"\)\}', expression)
    return resolve(config, match.group(1)) if match else None


def mlflow_problems(config: tfconfig.TfConfig) -> list[str]:
    problems = []
    jobs = config.locals["jobs"]
    if jobs["retrain"].get("mounts_mlflow") != "${var.mlflow_tracking_uri == null}":
        problems.append("the retrain job does not mount the MLflow store when no tracking server is set")
    if jobs["daily"].get("mounts_mlflow") is not False:
        problems.append("the daily job mounts the MLflow store; it trains nothing")
    template = config.resource("google_cloud_run_v2_job", "this")["template"][0]["template"][0]
    if template.get("execution_environment") != "EXECUTION_ENVIRONMENT_GEN2":
        problems.append("Cloud Storage volume mounts need execution_environment = EXECUTION_ENVIRONMENT_GEN2")
    volume = (_dynamic(template, "volumes").get("content") or [{}])[0]
    gcs = (volume.get("gcs") or [{}])[0]
    mount = (_dynamic(template["containers"][0], "volume_mounts").get("content") or [{}])[0]
    if "google_storage_bucket.artifacts.name" not in str(gcs.get("bucket")) or gcs.get("read_only") is not False:
        problems.append("no writable Cloud Storage volume of the artifact bucket on the jobs")
    only_dirs = [resolve(config, o).removeprefix("only-dir=") for o in gcs.get("mount_options", [])
                 if o.startswith("only-dir=")]
    writable = set(config.locals.get("bucket_writers", {}).get("retrain", []))
    if len(only_dirs) != 1 or f"{only_dirs[0]}/" not in writable:
        problems.append(
            f"the volume exposes {only_dirs or 'the whole bucket'}, not one prefix the retrain account "
            f"writes ({sorted(writable)}): mount with only-dir=<that prefix>"
        )
    if not volume or mount.get("name") != volume.get("name"):
        problems.append("the container mounts no volume of that name")
    mount_path = resolve(config, str(mount.get("mount_path", "")))
    uri = default_tracking_uri(config)
    if uri is None or not uri.startswith(f"sqlite:///{mount_path}/"):
        problems.append(
            f"MLFLOW_TRACKING_URI defaults to {uri!r}, not a SQLite file under the mount {mount_path!r} "
            "(MLflow 3 refuses its file store)"
        )
    else:
        artifacts = Settings.from_env({"MLFLOW_TRACKING_URI": uri}).mlflow_artifacts or ""
        if not artifacts.startswith(f"file://{mount_path}/"):
            problems.append(f"run files would go to {artifacts!r}, off the mount")
    if "local.jobs[\"retrain\"].env.MLFLOW_TRACKING_URI" not in str(config.outputs.get("mlflow_tracking_uri")):
        problems.append("output mlflow_tracking_uri does not report the retrain job's store")
    return problems


def test_the_retrain_job_keeps_mlflow_on_the_mounted_bucket(config: tfconfig.TfConfig) -> None:
    assert mlflow_problems(config) == []
    assert default_tracking_uri(config) == "sqlite:////mnt/mlflow/mlflow.db"


def test_a_file_store_uri_is_caught(infra_copy: Path) -> None:
    edit(infra_copy / "main.tf", '"sqlite:///${local.mlflow_mount}/mlflow.db"', '"file://${local.mlflow_mount}"')
    problems = mlflow_problems(tfconfig.load(infra_copy))
    assert len(problems) == 1 and "not a SQLite file under the mount" in problems[0], problems


def test_a_mount_of_the_whole_bucket_is_caught(infra_copy: Path) -> None:
    edit(infra_copy / "jobs.tf", '["only-dir=${local.mlflow_prefix}", "implicit-dirs"]', '["implicit-dirs"]')
    problems = mlflow_problems(tfconfig.load(infra_copy))
    assert len(problems) == 1 and "the whole bucket" in problems[0], problems


def test_a_mount_of_a_prefix_the_account_cannot_write_is_caught(infra_copy: Path) -> None:
    edit(infra_copy / "main.tf", '  mlflow_prefix = "mlflow"', '  mlflow_prefix = "tracking"')
    problems = mlflow_problems(tfconfig.load(infra_copy))
    assert len(problems) == 1 and "['tracking']" in problems[0], problems

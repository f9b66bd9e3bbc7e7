"""Experiment tracking: every training run logs parameters, metrics and its artifact to MLflow.

The client is explicit (``MlflowClient(tracking_uri)``), not MLflow's process-global
state, so a library call never changes where another caller logs.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)


def log_run(
    tracking_uri: str,
    experiment: str,
    run_name: str,
    *,
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    files: Mapping[str, bytes] | None = None,
    tags: Mapping[str, str] | None = None,
    artifact_location: str | None = None,
) -> str:
    """Create a finished run and return its id. ``files`` are stored as run artifacts."""
    client = MlflowClient(tracking_uri=tracking_uri)
    found = client.get_experiment_by_name(experiment)
    experiment_id = (
        found.experiment_id
        if found
        else client.create_experiment(experiment, artifact_location=artifact_location)
    )
    run = client.create_run(experiment_id, run_name=run_name, tags=dict(tags or {}))
    run_id = run.info.run_id
    flat = _flatten(params)
    client.log_batch(
        run_id,
        params=[Param(k, str(v)[:6000]) for k, v in flat.items()],
        metrics=[Metric(k.replace("@", "_at_"), float(v), 0, 0) for k, v in metrics.items() if _finite(v)],
    )
    if files:
        with tempfile.TemporaryDirectory() as tmp:
            for name, data in files.items():
                path = Path(tmp) / name
                path.write_bytes(data)
                client.log_artifact(run_id, str(path))
    client.set_terminated(run_id)
    return run_id


def _flatten(obj: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, name + "."))
        elif isinstance(value, list) and len(str(value)) > 500:
            continue  # trial histories belong in the manifest, not in MLflow params
        else:
            out[name] = value
    return out


def _finite(value: Any) -> bool:
    try:
        return float(value) == float(value) and abs(float(value)) != float("inf")
    except (TypeError, ValueError):
        return False

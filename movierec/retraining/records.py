"""The job's memory, kept in the artifact store: run records and the accumulated signals.

``runs/<run_id>.json`` holds one run (inputs, counts, metrics, gate decisions,
duration, status). The latest record with ``status == "completed"`` is the job's
state: where its feedback window ended and which signals table it wrote
(``retraining/signals/<run_id>.npz``, checksummed in the record). A run that failed
or crashed leaves no completed record, so the next run redoes its window.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from movierec.errors import ArtifactError
from movierec.models.artifact import read_npz, sha256_bytes, write_npz
from movierec.retraining.signals import SIGNAL_COLUMNS, empty_signals
from movierec.stores.ports import ArtifactNotFound, ArtifactStore

RUNS_PREFIX = "runs/"
SIGNALS_PREFIX = "retraining/signals/"
COMPLETED = "completed"
FAILED = "failed"


def new_run_id(now: datetime) -> str:
    """Sorts by start time (to the microsecond: two runs can start within one second);
    the random suffix separates runs of different machines started at the same instant."""
    return f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{secrets.token_hex(3)}"


def record_key(run_id: str) -> str:
    return f"{RUNS_PREFIX}{run_id}.json"


def write_record(store: ArtifactStore, record: dict[str, Any]) -> str:
    key = record_key(record["run_id"])
    store.write_bytes(key, json.dumps(record, indent=2, sort_keys=True, default=_json_default).encode(), "application/json")
    return key


def read_record(store: ArtifactStore, run_id: str) -> dict[str, Any]:
    try:
        return json.loads(store.read_bytes(record_key(run_id)))
    except ArtifactNotFound:
        raise ArtifactError(f"no run record {run_id!r} in {store.describe()}") from None


def list_runs(store: ArtifactStore) -> list[str]:
    return [k[len(RUNS_PREFIX) : -len(".json")] for k in store.list(RUNS_PREFIX) if k.endswith(".json")]


def last_completed(store: ArtifactStore) -> dict[str, Any] | None:
    for run_id in reversed(list_runs(store)):
        record = read_record(store, run_id)
        if record.get("status") == COMPLETED:
            return record
    return None


def save_signals(store: ArtifactStore, run_id: str, signals: pd.DataFrame) -> tuple[str, str]:
    """Returns (key, sha256)."""
    data = write_npz({c: signals[c].to_numpy() for c in SIGNAL_COLUMNS})
    key = f"{SIGNALS_PREFIX}{run_id}.npz"
    store.write_bytes(key, data)
    return key, sha256_bytes(data)


def load_signals(store: ArtifactStore, key: str | None, sha256: str | None) -> pd.DataFrame:
    if not key:
        return empty_signals()
    try:
        data = store.read_bytes(key)
    except ArtifactNotFound:
        raise ArtifactError(f"signals {key} of the last completed run are missing from {store.describe()}") from None
    if sha256 and sha256_bytes(data) != sha256:
        raise ArtifactError(f"signals {key} fail their checksum; refusing to train on them")
    arrays = read_npz(data)
    return pd.DataFrame({c: arrays[c] for c in SIGNAL_COLUMNS})


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")

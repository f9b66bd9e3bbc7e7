"""The job's memory, kept in the artifact store: run records and the accumulated signals.

``runs/<run_id>.json`` holds one run (:class:`RetrainRecord`: inputs, counts, metrics,
gate decisions, duration, status). The latest record with ``status == "completed"`` is
the job's state: where its feedback window ended and which signals table it wrote
(``retraining/signals/<run_id>.npz``, checksummed in the record). A run that failed
or crashed leaves no completed record, so the next run redoes its window.

The stored JSON is ``RetrainRecord.as_dict()``, and its layout is the one the job has
written from its first version (when the record was a hand-built dict), so records
and job state already in a store load with :meth:`RetrainRecord.from_dict`. To keep
it so: a field added later needs a default (older records lack it), and reading
ignores keys it does not know (a record written by newer code still loads). A change
that breaks either needs a format version in the record.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any, Final, Literal, TypeVar

import pandas as pd

from movierec.errors import ArtifactError
from movierec.jsonsafe import json_safe
from movierec.models.artifact import read_npz, sha256_bytes, write_npz
from movierec.retraining.gate import GateDecision, SanityReport
from movierec.retraining.signals import SIGNAL_COLUMNS, SignalReport, empty_signals
from movierec.stores.ports import ArtifactNotFound, ArtifactStore

RUNS_PREFIX = "runs/"
SIGNALS_PREFIX = "retraining/signals/"
Status = Literal["running", "completed", "failed"]
RUNNING: Final = "running"
COMPLETED: Final = "completed"
FAILED: Final = "failed"
Outcome = Literal["promoted", "refused", "unchanged"]
PROMOTED: Final = "promoted"
REFUSED: Final = "refused"
UNCHANGED: Final = "unchanged"

_T = TypeVar("_T")


@dataclass(frozen=True)
class RunSettings:
    """The job configuration a run used, flattened from RetrainConfig."""

    models: tuple[str, ...]
    tolerance: float
    coverage_floor: float
    k: int
    click_rating: float
    keep_versions: int
    slice_fraction: float
    seed: int
    tuning_trials: int


@dataclass(frozen=True)
class RunInputs:
    dataset: str
    base_ratings: int


@dataclass(frozen=True)
class Window:
    """The feedback read, ``[since, until)``; the next run starts at ``until``."""

    since: float
    until: float  # below requested_until when the warehouse lags behind the event log
    requested_until: float


@dataclass(frozen=True)
class FeedbackOrigin:
    name: str  # "warehouse" | "event_log"
    note: str = ""


@dataclass(frozen=True)
class StoredSignals(SignalReport):
    """What the window contributed, and where the signals table it produced is stored."""

    key: str
    sha256: str


@dataclass(frozen=True)
class TrainingCounts:
    training_ratings: int
    users: int
    items: int
    past_ratings: int
    slice_ratings: int


@dataclass(frozen=True)
class FitSeconds:
    candidate_fit: float
    live_fit: float
    refit: float


@dataclass(frozen=True)
class FamilyOutcome:
    """What one run did with one model family.

    An ``unchanged`` family was not retrained, so it has no metrics, sanity report,
    timings or gate; ``candidate_version`` is set only when the candidate went live.
    """

    decision: Outcome
    reasons: tuple[str, ...]
    live_version_before: str | None
    live_version_after: str | None
    candidate_version: str | None = None
    metric: str | None = None
    candidate_metrics: dict[str, float] | None = None
    live_metrics: dict[str, float] | None = None  # None: nothing was live to compare with
    sanity: SanityReport | None = None
    seconds: FitSeconds | None = None
    gate: GateDecision | None = None
    pruned: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> FamilyOutcome:
        return _build(
            cls,
            raw,
            reasons=tuple(raw.get("reasons") or ()),
            pruned=tuple(raw.get("pruned") or ()),
            sanity=_optional(SanityReport, raw.get("sanity")),
            seconds=_optional(FitSeconds, raw.get("seconds")),
            gate=_optional(GateDecision, raw.get("gate")),
        )


@dataclass(frozen=True)
class RetrainRecord:
    """One run of the weekly job; what a run has not reached yet is None."""

    run_id: str
    status: Status
    started_at: float
    config: RunSettings
    inputs: RunInputs
    models: dict[str, FamilyOutcome] = field(default_factory=dict)
    window: Window | None = None
    source: FeedbackOrigin | None = None
    signals: StoredSignals | None = None
    counts: TrainingCounts | None = None
    data_fingerprint: str | None = None
    finished_at: float | None = None
    duration_seconds: float | None = None
    error: str | None = None
    mlflow_run_id: str | None = None
    mlflow_error: str | None = None

    @property
    def promoted(self) -> dict[str, str]:
        """Family -> the version this run made live."""
        return {
            name: outcome.candidate_version
            for name, outcome in self.models.items()
            if outcome.decision == PROMOTED and outcome.candidate_version
        }

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> RetrainRecord:
        config = raw["config"]
        return _build(
            cls,
            raw,
            config=_build(RunSettings, config, models=tuple(config["models"])),
            inputs=_build(RunInputs, raw["inputs"]),
            models={name: FamilyOutcome.from_dict(m) for name, m in (raw.get("models") or {}).items()},
            window=_optional(Window, raw.get("window")),
            source=_optional(FeedbackOrigin, raw.get("source")),
            signals=_optional(StoredSignals, raw.get("signals")),
            counts=_optional(TrainingCounts, raw.get("counts")),
        )


def new_run_id(now: datetime) -> str:
    """Sorts by start time (to the microsecond: two runs can start within one second);
    the random suffix separates runs of different machines started at the same instant."""
    return f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{secrets.token_hex(3)}"


def record_key(run_id: str) -> str:
    return f"{RUNS_PREFIX}{run_id}.json"


def encode(record: RetrainRecord) -> bytes:
    """The record as stored; also what MLflow and ``movierec retrain --json`` get."""
    return json.dumps(json_safe(record.as_dict()), indent=2, sort_keys=True, allow_nan=False).encode()


def write_record(store: ArtifactStore, record: RetrainRecord) -> str:
    key = record_key(record.run_id)
    store.write_bytes(key, encode(record), "application/json")
    return key


def read_record(store: ArtifactStore, run_id: str) -> RetrainRecord:
    try:
        raw = json.loads(store.read_bytes(record_key(run_id)))
    except ArtifactNotFound:
        raise ArtifactError(f"no run record {run_id!r} in {store.describe()}") from None
    except ValueError:
        raise ArtifactError(f"run record {run_id!r} in {store.describe()} is not valid JSON") from None
    try:
        return RetrainRecord.from_dict(raw)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ArtifactError(f"run record {run_id!r} in {store.describe()} is not a run record: {exc!r}") from None


def list_runs(store: ArtifactStore) -> list[str]:
    return [k[len(RUNS_PREFIX) : -len(".json")] for k in store.list(RUNS_PREFIX) if k.endswith(".json")]


def last_completed(store: ArtifactStore) -> RetrainRecord | None:
    for run_id in reversed(list_runs(store)):
        record = read_record(store, run_id)
        if record.status == COMPLETED:
            return record
    return None


def save_signals(store: ArtifactStore, run_id: str, signals: pd.DataFrame) -> tuple[str, str]:
    """Returns (key, sha256)."""
    data = write_npz({c: signals[c].to_numpy() for c in SIGNAL_COLUMNS})
    key = f"{SIGNALS_PREFIX}{run_id}.npz"
    store.write_bytes(key, data)
    return key, sha256_bytes(data)


def load_signals(store: ArtifactStore, stored: StoredSignals | None) -> pd.DataFrame:
    """The signals table a run wrote (none before the first run), checksum verified."""
    if stored is None:
        return empty_signals()
    try:
        data = store.read_bytes(stored.key)
    except ArtifactNotFound:
        raise ArtifactError(f"signals {stored.key} of the last completed run are missing from {store.describe()}") from None
    if sha256_bytes(data) != stored.sha256:
        raise ArtifactError(f"signals {stored.key} fail their checksum; refusing to train on them")
    arrays = read_npz(data)
    return pd.DataFrame({c: arrays[c] for c in SIGNAL_COLUMNS})


def _build(cls: type[_T], raw: Mapping[str, Any], **parsed: Any) -> _T:
    """``cls`` from the keys of ``raw`` it declares (others are ignored), ``parsed`` overriding."""
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{**{k: v for k, v in raw.items() if k in known}, **parsed})


def _optional(cls: type[_T], raw: Mapping[str, Any] | None) -> _T | None:
    return None if raw is None else _build(cls, raw)

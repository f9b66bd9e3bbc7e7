"""The weekly run: logged feedback -> signals -> candidates -> gate -> safe publish -> run record.

One run, in order:

1. state: the last completed run record gives the window start and the signals so far;
2. read the feedback of ``[since, until)`` and fold it into the signals (``signals``);
3. training ratings = base ratings + signals, deduplicated and validated;
4. per model family (A and B by default): if the live version was trained on exactly
   these ratings (same data fingerprint), nothing to do; otherwise fit the candidate on
   the past of a temporal split, refit the live recipe on the same past, score both on
   the slice, refit the candidate on all ratings, run the sanity checks, apply the gate,
   and if it passes publish it (upload, verify, flip the live pointer:
   :func:`movierec.pipelines.publish.publish`, as ``movierec train`` does), then prune
   old versions;
5. write the run's :class:`~movierec.retraining.records.RetrainRecord` to
   ``runs/<run_id>.json`` (and log it to MLflow); only a completed record moves the
   window forward.

Idempotent for a window: a second run finds the same fingerprint live and promotes
nothing; a run that crashed before its record is redone by the next run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone

import pandas as pd

from movierec.errors import ConfigError
from movierec.models.artifact import ITEMS_FILE, items_file, read_manifest
from movierec.models.base import Trainer, TrainingData
from movierec.models.scoring import SCORERS, scorer_for
from movierec.models.svd import SurpriseSVD
from movierec.pipelines.publish import UploadNotVerified, prune, publish, read_pointer
from movierec.pipelines.tracking import log_run
from movierec.pipelines.train import PreparedData
from movierec.retraining import records
from movierec.retraining.compare import holdout_slice, live_recipe, score_on_slice
from movierec.retraining.gate import GatePolicy, decide, primary_metric, sanity_checks
from movierec.retraining.records import (
    PROMOTED,
    REFUSED,
    UNCHANGED,
    FamilyOutcome,
    FeedbackOrigin,
    FitSeconds,
    RetrainRecord,
    RunInputs,
    RunSettings,
    StoredSignals,
    TrainingCounts,
    Window,
)
from movierec.retraining.signals import SignalRules, fold_feedback, training_ratings
from movierec.retraining.sources import FeedbackSource
from movierec.selection.registry import BASELINE, CHALLENGER, make_trainer
from movierec.selection.tuned import TunedSVD
from movierec.stores.ports import ArtifactStore

log = logging.getLogger(__name__)

CandidateFactory = Callable[[str], Trainer]
MLFLOW_EXPERIMENT = "movierec-retrain"


@dataclass(frozen=True)
class RetrainConfig:
    models: tuple[str, ...] = (BASELINE, CHALLENGER)
    policy: GatePolicy = field(default_factory=GatePolicy)
    rules: SignalRules = field(default_factory=SignalRules)
    keep_versions: int = 5
    slice_fraction: float = 0.1
    seed: int = 42
    tuning_trials: int = 0  # 0: no Optuna search; N: the SVD family is tuned with N trials
    tracking_uri: str | None = None
    mlflow_artifacts: str | None = None

    def __post_init__(self) -> None:
        if not self.models:
            raise ConfigError("retraining needs at least one model family")
        if self.keep_versions < 2:
            raise ConfigError(f"keep_versions must be at least 2 (live + previous), got {self.keep_versions}")
        if self.tuning_trials < 0:
            raise ConfigError(f"--trials must be >= 0, got {self.tuning_trials}")


def default_candidates(seed: int, tuning_trials: int = 0) -> CandidateFactory:
    """The registry's trainers; with ``tuning_trials`` the SVD family runs an Optuna search."""

    def make(name: str) -> Trainer:
        if name == BASELINE:
            return TunedSVD(n_trials=tuning_trials, seed=seed) if tuning_trials else SurpriseSVD(seed=seed)
        return make_trainer(name, seed=seed)

    return make


def run_retrain(
    base: PreparedData,
    store: ArtifactStore,
    source: FeedbackSource,
    config: RetrainConfig,
    *,
    until: float | None = None,
    candidates: CandidateFactory | None = None,
    clock: Callable[[], float] = time.time,
) -> RetrainRecord:
    """One weekly run; raises (after recording a failed run) when a step fails."""
    started = clock()
    timer = time.perf_counter()
    candidates = candidates or default_candidates(config.seed, config.tuning_trials)
    record = RetrainRecord(
        run_id=records.new_run_id(datetime.fromtimestamp(started, timezone.utc)),
        status=records.RUNNING,
        started_at=started,
        config=_run_settings(config),
        inputs=RunInputs(base.dataset.name, len(base.training.ratings)),
    )
    try:
        state = records.last_completed(store)
        since = state.window.until if state and state.window else 0.0
        end = started if until is None else float(until)
        if end < since:
            raise ConfigError(
                f"--until {end} is before the end of the last completed run's window ({since}); "
                "that feedback was already used"
            )
        batch = source.read(since, end)
        previous = records.load_signals(store, state.signals if state else None)
        scale = base.training.rating_scale
        signals, report = fold_feedback(
            previous,
            batch.rows,
            base=base.training.ratings,
            known_items=base.dataset.movies["item_id"].to_numpy(),
            rating_scale=scale,
            rules=config.rules,
        )
        ratings = training_ratings(base.training.ratings, signals, rating_scale=scale, now=max(started, end))
        data = TrainingData(ratings, scale)
        past, recent = holdout_slice(ratings, config.slice_fraction)
        signals_key, signals_sha = records.save_signals(store, record.run_id, signals)
        record = replace(
            record,
            window=Window(since=since, until=batch.until, requested_until=end),
            source=FeedbackOrigin(batch.source, batch.note),
            signals=StoredSignals(**report.as_dict(), key=signals_key, sha256=signals_sha),
            counts=TrainingCounts(
                training_ratings=len(ratings),
                users=int(ratings["user_id"].nunique()),
                items=int(ratings["item_id"].nunique()),
                past_ratings=len(past),
                slice_ratings=len(recent),
            ),
            data_fingerprint=data.fingerprint,
        )
        for name in config.models:
            outcome = _retrain_family(name, data, past, recent, base, store, config, candidates, record.run_id)
            record = replace(record, models={**record.models, name: outcome})
        record = replace(record, status=records.COMPLETED)
    except Exception as exc:
        _finish(replace(record, status=records.FAILED, error=f"{type(exc).__name__}: {exc}"), timer, clock, store, config)
        raise
    return _finish(record, timer, clock, store, config)


def _retrain_family(
    name: str,
    data: TrainingData,
    past: pd.DataFrame,
    recent: pd.DataFrame,
    base: PreparedData,
    store: ArtifactStore,
    config: RetrainConfig,
    candidates: CandidateFactory,
    run_id: str,
) -> FamilyOutcome:
    policy = config.policy
    pointer = read_pointer(store, name)
    before = pointer.version if pointer else None
    live_manifest = read_manifest(store, name, pointer.version) if pointer else None
    if live_manifest and live_manifest.get("data_fingerprint") == data.fingerprint:
        reason = f"live version {before} was trained on exactly this data"
        return FamilyOutcome(UNCHANGED, (reason,), live_version_before=before, live_version_after=before)

    trainer = candidates(name)
    candidate = score_on_slice(trainer, past, recent, data.rating_scale, policy.k)
    live = (
        score_on_slice(live_recipe(live_manifest, seed=config.seed), past, recent, data.rating_scale, policy.k)
        if live_manifest
        else None
    )
    start = time.perf_counter()
    final = candidates(name).fit(data)
    refit_seconds = time.perf_counter() - start
    metric = primary_metric(SCORERS[final.kind].predicts_ratings, policy.k)
    final = replace(
        final,
        name=name,  # e.g. a tuned SVD is published in the svd family
        metrics={f"temporal_{k}": v for k, v in candidate.metrics.items()},
        params={**final.params, "trainer": type(trainer).__name__, "retrain_run": run_id},
        files={ITEMS_FILE: items_file(base.dataset.movies, final.arrays["item_ids"].tolist())},
    )
    sanity = sanity_checks(scorer_for(final.kind, final.arrays), data.ratings, k=policy.k, max_users=policy.sanity_users)
    live_metrics = live.metrics if live else None
    decision = decide(metric, candidate.metrics, live_metrics, sanity, policy)
    version: str | None = None
    pruned: tuple[str, ...] = ()
    if decision.promote:
        try:
            version = publish(store, final).version
        except UploadNotVerified as exc:
            decision = decide(metric, candidate.metrics, live_metrics, sanity, policy, checksums_ok=False)
            decision.reasons.append(str(exc))
        else:
            pruned = tuple(prune(store, name, config.keep_versions))
    log.info("retrain %s: %s %s", name, PROMOTED if decision.promote else REFUSED, "; ".join(decision.reasons))
    return FamilyOutcome(
        decision=PROMOTED if decision.promote else REFUSED,
        reasons=tuple(decision.reasons),
        live_version_before=before,
        live_version_after=version if decision.promote else before,
        candidate_version=version,
        metric=metric.name,
        candidate_metrics=candidate.metrics,
        live_metrics=live_metrics,
        sanity=sanity,
        seconds=FitSeconds(
            candidate_fit=candidate.fit_seconds,
            live_fit=live.fit_seconds if live else 0.0,
            refit=refit_seconds,
        ),
        gate=decision,
        pruned=pruned,
    )


def _finish(
    record: RetrainRecord,
    timer: float,
    clock: Callable[[], float],
    store: ArtifactStore,
    config: RetrainConfig,
) -> RetrainRecord:
    record = replace(record, finished_at=clock(), duration_seconds=time.perf_counter() - timer)
    if config.tracking_uri:
        try:
            record = replace(record, mlflow_run_id=_log_mlflow(record, config))
        except Exception as exc:  # tracking is a record of the run, never a reason to fail it
            log.warning("could not log run %s to MLflow: %s", record.run_id, exc)
            record = replace(record, mlflow_error=str(exc))
    try:
        records.write_record(store, record)
    except Exception:
        if record.status == records.COMPLETED:
            raise  # without its record the window does not advance: the run must not look done
        log.exception("could not write the record of failed run %s", record.run_id)
    return record


def _log_mlflow(record: RetrainRecord, config: RetrainConfig) -> str:
    metrics: dict[str, float] = {"duration_seconds": record.duration_seconds or 0.0}
    for key, part in (("signals", record.signals), ("counts", record.counts)):
        if part is not None:
            metrics.update({f"{key}.{k}": v for k, v in asdict(part).items() if isinstance(v, int | float)})
    for name, model in record.models.items():
        for side, values in (("candidate", model.candidate_metrics), ("live", model.live_metrics)):
            metrics.update({f"{name}.{side}.{k}": v for k, v in (values or {}).items()})
        metrics[f"{name}.promoted"] = float(model.decision == PROMOTED)
    window = asdict(record.window) if record.window else {}
    return log_run(
        config.tracking_uri or "",
        MLFLOW_EXPERIMENT,
        record.run_id,
        params={
            **asdict(record.config),
            "models": list(record.config.models),  # shown as in the stored JSON
            **{f"window.{k}": v for k, v in window.items()},
        },
        metrics=metrics,
        files={"run.json": records.encode(record)},
        tags={"status": record.status, **{f"decision.{n}": m.decision for n, m in record.models.items()}},
        artifact_location=config.mlflow_artifacts,
    )


def _run_settings(config: RetrainConfig) -> RunSettings:
    return RunSettings(
        models=tuple(config.models),
        tolerance=config.policy.tolerance,
        coverage_floor=config.policy.coverage_floor,
        k=config.policy.k,
        click_rating=config.rules.click_rating,
        keep_versions=config.keep_versions,
        slice_fraction=config.slice_fraction,
        seed=config.seed,
        tuning_trials=config.tuning_trials,
    )

"""`movierec retrain`: the weekly job (feedback -> candidates -> gate -> safe publish)."""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass

from movierec.cli.common import DataOptions, add_data_options, command, prepare
from movierec.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetrainOptions(DataOptions):
    models: str = "svd,ease"
    trials: int = 0
    tolerance: float = 0.02
    coverage_floor: float = 0.02
    click_rating: float = 4.0
    keep: int = 5
    until: float | None = None
    no_mlflow: bool = False
    json: bool = False


def run_retrain(options: RetrainOptions, settings: Settings) -> int:
    from movierec.retraining import job as retraining
    from movierec.retraining import records
    from movierec.retraining.gate import GatePolicy
    from movierec.retraining.signals import SignalRules
    from movierec.retraining.sources import feedback_source
    from movierec.selection.registry import parse_model_list
    from movierec.stores.factory import make_stores

    config = retraining.RetrainConfig(
        models=tuple(parse_model_list(options.models)),
        policy=GatePolicy(tolerance=options.tolerance, coverage_floor=options.coverage_floor),
        rules=SignalRules(click_rating=options.click_rating),
        keep_versions=options.keep,
        seed=options.seed_in(settings),
        tuning_trials=options.trials,
        tracking_uri=None if options.no_mlflow else settings.tracking_uri,
        mlflow_artifacts=None if options.no_mlflow else settings.mlflow_artifacts,
    )
    stores = make_stores(settings)
    warehouse = _warehouse_or_none(settings)
    try:
        source = feedback_source(warehouse, stores.events)
        record = retraining.run_retrain(prepare(options, settings), stores.artifacts, source, config, until=options.until)
    finally:
        if warehouse is not None:
            warehouse.close()
    if options.json:
        print(records.encode(record).decode())
        return 0
    window, origin, signals, counts = record.window, record.source, record.signals, record.counts
    assert window and origin and signals and counts, "a run that returns has read its window"
    print(
        f"run {record.run_id}: feedback [{window.since:.0f}, {window.until:.0f}) from "
        f"{origin.name}: {signals.events} events ({signals.ratings} ratings, "
        f"{signals.clicks} clicks, {signals.invalid} invalid) -> {signals.signals} signals, "
        f"{counts.training_ratings} training ratings"
    )
    for name, model in record.models.items():
        gate = model.gate
        live = "-" if gate is None or gate.live is None else f"{gate.live:.4f}"
        score = f" {gate.metric} {gate.candidate:.4f} vs live {live}" if gate else ""
        why = f" ({'; '.join(model.reasons)})" if model.reasons else ""
        print(f"  {name}: {model.decision}{score}; live {model.live_version_after or 'none'}{why}")
    print(
        f"done in {record.duration_seconds or 0.0:.1f} s; "
        f"record {records.record_key(record.run_id)} in {stores.artifacts.describe()}"
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    d = RetrainOptions
    p = sub.add_parser("retrain", help="weekly: learn from logged feedback, gate on offline quality, promote safely")
    add_data_options(p)
    p.add_argument("--models", default=d.models, help="model families to retrain (default: A and B)")
    p.add_argument("--trials", type=int, default=d.trials, help="Optuna trials for the SVD family (0: no search)")
    p.add_argument("--tolerance", type=float, default=d.tolerance, help="relative tolerance of the gate (default 0.02)")
    p.add_argument("--coverage-floor", type=float, default=d.coverage_floor, help="minimum catalogue coverage of top-10 lists")
    p.add_argument("--click-rating", type=float, default=d.click_rating, help="pseudo-rating of a click on an unrated movie")
    p.add_argument("--keep", type=int, default=d.keep, help="model versions kept per family (live and previous always)")
    p.add_argument("--until", type=float, default=d.until, help="end of the feedback window, epoch seconds (default: now)")
    p.add_argument("--no-mlflow", action="store_true", help="skip experiment tracking")
    p.add_argument("--json", action="store_true", help="print the run record")
    p.set_defaults(func=command(run_retrain, RetrainOptions))


def _warehouse_or_none(settings: Settings):
    """The warehouse, or None (read the event log) when it can't be opened right now."""
    from movierec.errors import MovierecError
    from movierec.stores.factory import make_warehouse

    warehouse = None
    try:
        warehouse = make_warehouse(settings)
        warehouse.ensure_schema()
        return warehouse
    except MovierecError as exc:
        if warehouse is not None:
            warehouse.close()
        log.warning("warehouse unavailable (%s); reading feedback from the event log", exc)
        return None

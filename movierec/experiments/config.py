"""Managing experiment configurations in the EventLog: create, show, stop.

One experiment runs at a time: assignment is sticky per experiment, and two running
experiments would each claim the same users. A new phase (e.g. new weights) is a new
experiment with a new salt; the old one is stopped first.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import replace

from movierec.errors import ConfigError
from movierec.events import DESIGNS, Experiment, Guardrail, Plan, Variant, default_margin
from movierec.experiments.assignment import validate_experiment
from movierec.models.artifact import live_version, read_manifest
from movierec.stores.ports import ArtifactStore, EventLog


def parse_variants(variants: str, weights: str | None) -> tuple[Variant, ...]:
    """``"A=svd,B=ease@20261126T...-abcd"`` and ``"50,50"`` -> variants (pinned version after @)."""
    specs = [s.strip() for s in variants.split(",") if s.strip()]
    if len(specs) < 2:
        raise ConfigError("an experiment needs at least two variants, e.g. --variants A=svd,B=ease")
    parsed = []
    for spec in specs:
        name, sep, model = spec.partition("=")
        if not sep or not name or not model:
            raise ConfigError(f"variant {spec!r} must look like NAME=MODEL or NAME=MODEL@VERSION")
        model_name, _, version = model.partition("@")
        parsed.append((name.strip(), model_name.strip(), version.strip() or None))
    raw_weights = [w.strip() for w in weights.split(",")] if weights else ["1"] * len(parsed)
    if len(raw_weights) != len(parsed):
        raise ConfigError(f"{len(parsed)} variants but {len(raw_weights)} weights")
    try:
        values = [float(w) for w in raw_weights]
    except ValueError:
        raise ConfigError(f"weights must be numbers, got {weights!r}") from None
    total = sum(values)
    if total <= 0 or any(v <= 0 for v in values):
        raise ConfigError("weights must be positive")
    return tuple(Variant(n, m, v, w / total) for (n, m, v), w in zip(parsed, values))


def parse_guardrail(spec: str) -> Guardrail:
    """``"rating"`` (the documented default margin) or ``"rating:0.01"`` / ``"rating:1%"``."""
    metric, sep, margin = (part.strip() for part in spec.partition(":"))
    if not metric:
        raise ConfigError(f"guardrail {spec!r} must look like METRIC or METRIC:MARGIN, e.g. rating:0.01")
    if not sep:
        return Guardrail(metric, default_margin(metric))
    try:
        value = float(margin[:-1]) / 100 if margin.endswith("%") else float(margin)
    except ValueError:
        raise ConfigError(f"guardrail {spec!r}: the margin must be a number such as 0.02 or 2%") from None
    if not (math.isfinite(value) and 0.0 < value < 1.0):
        raise ConfigError(f"guardrail {spec!r}: the margin is a relative drop in (0, 1), got {value!r}")
    return Guardrail(metric, value)


def parse_guardrail_baseline(spec: str) -> tuple[str, tuple[float, float | None]]:
    """``"rating=3.6:1.1"`` or ``"item_ctr=0.05"`` -> (metric, (mean, variance or None))."""
    metric, sep, values = (part.strip() for part in spec.partition("="))
    mean, _, variance = (part.strip() for part in values.partition(":"))
    if not sep or not metric or not mean:
        raise ConfigError(f"guardrail baseline {spec!r} must look like METRIC=MEAN or METRIC=MEAN:VARIANCE")
    try:
        return metric, (float(mean), float(variance) if variance else None)
    except ValueError:
        raise ConfigError(f"guardrail baseline {spec!r}: MEAN and VARIANCE must be numbers") from None


def create_experiment(
    events: EventLog,
    store: ArtifactStore,
    experiment_id: str,
    variants: tuple[Variant, ...],
    *,
    now: float,
    coverage: float = 1.0,
    salt: str | None = None,
    primary_metric: str = "ctr",
    guardrails: tuple[Guardrail, ...] = (),
    secondary_metrics: tuple[str, ...] = (),
    plan: Plan | None = None,
    design: str = "ab",
) -> Experiment:
    if design not in DESIGNS:
        raise ConfigError(f"design must be one of {', '.join(DESIGNS)}, got {design!r}")
    if design == "interleaved" and len(variants) != 2:
        raise ConfigError(f"an interleaved experiment merges exactly two variants, got {len(variants)}")
    if events.get_experiment(experiment_id) is not None:
        raise ConfigError(f"experiment {experiment_id!r} exists; a new phase needs a new id")
    running = [e.experiment_id for e in events.list_experiments() if e.status == "running"]
    if running:
        raise ConfigError(f"experiment {running[0]!r} is running; stop it first (movierec experiment stop)")
    for v in variants:
        if v.version is None:
            if live_version(store, v.model) is None:
                raise ConfigError(f"variant {v.name}: model {v.model!r} has no live version; train it first")
        else:
            read_manifest(store, v.model, v.version)
    experiment = Experiment(
        experiment_id=experiment_id,
        salt=salt or f"{experiment_id}-{secrets.token_hex(4)}",
        variants=variants,
        coverage=coverage,
        primary_metric=primary_metric,
        guardrails=guardrails,
        secondary_metrics=secondary_metrics,
        plan=plan,
        design="interleaved" if design == "interleaved" else "ab",
        created_at=now,
        started_at=now,
    )
    validate_experiment(experiment)
    events.put_experiment(experiment)
    return experiment


def stop_experiment(events: EventLog, experiment_id: str, *, now: float) -> Experiment:
    experiment = get_experiment(events, experiment_id)
    if experiment.status == "stopped":
        return experiment
    stopped = replace(experiment, status="stopped", stopped_at=now)
    events.put_experiment(stopped)
    return stopped


def get_experiment(events: EventLog, experiment_id: str | None) -> Experiment:
    """The named experiment, or (None) the running one, else the most recent."""
    if experiment_id is not None:
        found = events.get_experiment(experiment_id)
        if found is None:
            known = ", ".join(e.experiment_id for e in events.list_experiments()) or "none"
            raise ConfigError(f"unknown experiment {experiment_id!r} (known: {known})")
        return found
    experiments = events.list_experiments()
    if not experiments:
        raise ConfigError("no experiment exists; create one with `movierec experiment create`")
    running = [e for e in experiments if e.status == "running"]
    return max(running or experiments, key=lambda e: e.started_at)


def describe(experiment: Experiment) -> str:
    guardrails = ", ".join(f"{g.metric} (margin -{g.margin:.1%})" for g in experiment.guardrails)
    lines = [
        f"experiment {experiment.experiment_id} ({experiment.status})",
        f"  design {experiment.design}, salt {experiment.salt}, coverage {experiment.coverage:.0%}, "
        f"primary metric {experiment.primary_metric}",
        f"  guardrails {guardrails or 'none'}; secondary {', '.join(experiment.secondary_metrics) or 'none'}",
    ]
    for v in experiment.variants:
        lines.append(f"  {v.name}: {v.model}@{v.version or 'live'}  weight {v.weight:.2%}")
    plan = experiment.plan
    if plan is None:
        lines.append("  plan: none recorded (the analysis defaults apply)")
    else:
        line = f"  plan: MDE {plan.mde:+.0%}, alpha {plan.alpha:g}, power {plan.power:.0%}"
        if plan.users_per_variant is None:
            line += "; no baseline, so no sample size: the always-valid test uses its default tuning"
        else:
            line += (f", baseline {plan.baseline:.4g} (per-user variance {plan.baseline_variance:.4g})"
                     f" -> {plan.users_per_variant:,} users per variant, always-valid test tuned "
                     f"for {plan.total_users:,}")
        lines.append(line)
        for g in plan.guardrails:
            needed = "no sample size" if g.users_per_variant is None else f"{g.users_per_variant:,} users per variant"
            lines.append(f"  guardrail {g.metric}: baseline {g.baseline:.4g} (per-user variance "
                         f"{g.baseline_variance:.4g}) -> non-inferior with {plan.power:.0%} power at {needed}")
    return "\n".join(lines)

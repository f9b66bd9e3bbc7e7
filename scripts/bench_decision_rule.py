"""Calibration of the full decision rule (simulation, no I/O besides the report).

    .venv/bin/python scripts/bench_decision_rule.py [--json PATH] [--seed N] [--experiments N]

On the calibration user model with ratings (movierec.analysis.rule_calibration), the
experiment is planned for a +10% list-CTR lift (the recorded plan: users per variant
and the always-valid test's tuning), users arrive over 14 days, and the report is read
every day, stopping at the first "wins" or "loses":
  (a) A/A: how often the rule says "wins" / "loses" at any of the 14 looks
      (target: wins + loses <= alpha);
  (b) +10% lift: power of the rule vs the rule it replaced (all metrics' sequential
      p-values Holm-adjusted together), each with its binomial standard error.
The rule is run twice: the primary alone (secondary metrics never change the verdict)
and with a mean-rating guardrail at a 5% margin, whose own power limits the rule's.
Prints a markdown table, writes the numbers as JSON (stdout by default), exits 1 if a
check fails. (A separate script from bench_calibration.py, which checks the tests one
by one; this one checks the rule built from them.)
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict

import numpy as np

from movierec.analysis.config import AnalysisConfig
from movierec.analysis.plan import make_plan
from movierec.analysis.rule_calibration import (
    Rule,
    RuleCalibration,
    UserModel,
    calibration,
    count_decisions,
    draw_sums,
    new_rule,
    old_rule,
    two_arm,
    variant_data,
)
from movierec.events import Guardrail, Plan

DAYS = 14
CHUNKS = 20  # work units, spread over the workers


def build_rules(plan: Plan, config: AnalysisConfig) -> dict[str, Rule]:
    return {
        "new rule, primary only": new_rule(
            two_arm(plan=plan, secondary_metrics=("rating", "clicks_per_user")), config),
        "new rule, rating guardrail 5%": new_rule(
            two_arm(plan=plan, guardrails=(Guardrail("rating", 0.05),),
                    secondary_metrics=("clicks_per_user",)), config),
        "old rule (Holm over 3 metrics)": old_rule(config),
    }


def _chunk(job: tuple) -> dict[str, dict[str, int]]:
    """One worker's share of the experiments (rules are rebuilt: closures do not pickle)."""
    seed, plan, config, n, per_day, lift = job
    return count_decisions(np.random.default_rng(seed), build_rules(plan, config), n_experiments=n,
                           days=DAYS, users_per_day_per_arm=per_day, lift=lift)


def run(seed: np.random.SeedSequence, plan: Plan, config: AnalysisConfig, n: int, per_day: int,
        lift: float, workers: int) -> RuleCalibration:
    sizes = [n // CHUNKS + (i < n % CHUNKS) for i in range(CHUNKS)]
    jobs = [(s, plan, config, size, per_day, lift) for s, size in zip(seed.spawn(CHUNKS), sizes) if size]
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
        parts = list(pool.map(_chunk, jobs))
    total = {name: {k: sum(p[name][k] for p in parts) for k in ("wins", "loses")} for name in parts[0]}
    return calibration(total, n_experiments=n, days=DAYS, users_per_day_per_arm=per_day, lift=lift)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default="-", help="where to write the JSON report ('-': stdout)")
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--experiments", type=int, default=1000)
    parser.add_argument("--lift", type=float, default=0.10)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    seeds = np.random.SeedSequence(args.seed).spawn(3)
    started = time.perf_counter()

    # Plan on a pilot (historical) sample, as `experiment create --baseline` would.
    pilot = variant_data("pilot", draw_sums(np.random.default_rng(seeds[0]), UserModel(), 200_000, 1)[0]).ctr
    plan = make_plan("ctr", 2, mde=args.lift, baseline=pilot.mean, baseline_variance=pilot.variance)
    assert plan.users_per_variant is not None and plan.total_users is not None
    per_day = math.ceil(plan.users_per_variant / DAYS)
    config = AnalysisConfig(mde=args.lift, tuning_parameter=plan.total_users,
                            planned_users_per_variant=plan.users_per_variant)
    aa = run(seeds[1], plan, config, args.experiments, per_day, 0.0, args.workers)
    ab = run(seeds[2], plan, config, args.experiments, per_day, args.lift, args.workers)
    elapsed = time.perf_counter() - started

    checks = []
    for r in aa.rates:
        false = r.wins + r.loses
        checks.append((f"(a) A/A, {DAYS} daily looks, {r.rule}: wins + loses", false,
                       math.sqrt(false * (1 - false) / r.n_experiments), "<= 0.05",
                       false <= 0.05 or r.rule.startswith("old")))
    for r in ab.rates:
        checks.append((f"(b) +{args.lift:.0%} lift, {DAYS} daily looks, {r.rule}: power (wins)", r.wins,
                       r.wins_se, "informational", True))
    new, old = ab.rates[0].wins, ab.rates[2].wins
    # Both rules ran on the same experiments, so this SE (independent samples) is conservative.
    checks.append(("(b) power gain, new (primary only) - old", new - old,
                   math.hypot(ab.rates[0].wins_se, ab.rates[2].wins_se), "> 0", new > old))

    print(f"plan: +{args.lift:.0%} on CTR at baseline {pilot.mean:.4f} -> {plan.users_per_variant:,} "
          f"users per variant ({per_day:,} a day for {DAYS} days), tuning {plan.total_users:,}\n")
    print("| check | value | SE | target | ok |")
    print("|---|---|---|---|---|")
    for name, value, se, target, ok in checks:
        print(f"| {name} | {value:.4f} | {se:.4f} | {target} | {'yes' if ok else 'NO'} |")
    print(f"\nseed {args.seed}, {args.experiments} experiments per run, {elapsed:.0f} s")
    report = {
        "seed": args.seed,
        "seconds": round(elapsed, 1),
        "plan": asdict(plan),
        "aa": asdict(aa),
        "ab": asdict(ab),
        "checks": [{"check": n, "value": v, "se": se, "target": t, "ok": ok} for n, v, se, t, ok in checks],
    }
    text = json.dumps(report, indent=2)
    if args.json == "-":
        print(text)
    else:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return 0 if all(ok for *_, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())

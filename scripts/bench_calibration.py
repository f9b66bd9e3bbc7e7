"""Calibration benchmark of the A/B statistics engine (simulation, no I/O besides the report).

    .venv/bin/python scripts/bench_calibration.py [--json PATH] [--seed N]

Checks, on a realistic per-user click/impression model (see
movierec.stats.calibration):
  (a) A/A false positive rate of the CTR delta-method test at alpha 0.05 in [0.04, 0.06];
  (b) peeking daily for 14 days: sequential FPR <= 0.05, naive repeated tests above 0.05;
  (c) power at the sample size from power.py for a +5% CTR lift is 0.80 +/- 0.03;
  (d) SRM: a 10% loss of treatment users is flagged; balanced false alarms <= 0.002;
  (e) SRM read daily for 14 days: sequential false alarms <= 0.002 (the chi-square read
      daily, for contrast, is not), and its power for a 10% and a 2% loss of users;
  (f) CUPED on list CTR and clicks per user (pre-exposure habits as the covariate):
      variance reduction, A/A false positives in [0.04, 0.06], power gain at the same n;
  (g) guardrail non-inferiority read daily: false claims at the margin <= 0.05, power at
      the sample size planned by power.sequential_non_inferiority_sample_size.
Every rate is printed with its standard error (binomial, paired or bootstrap).
Prints a markdown table, writes the numbers as JSON (stdout by default) and
exits 1 if any check fails. Runs in about three minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict

import numpy as np

from movierec.stats.calibration import (
    DEFAULT_MODEL,
    aa_false_positive_rate,
    binomial_se,
    daily_srm_alarm_rates,
    draw_sums,
    non_inferiority_claim_rate,
    peeking_false_positive_rates,
    power_at_planned_size,
    srm_rates,
    to_stats,
)
from movierec.stats.calibration_cuped import CupedResult, cuped_gains
from movierec.stats.power import non_inferiority_required_n, sequential_non_inferiority_sample_size

# (name, value, target, ok, standard error)
Check = tuple[str, float, str, bool, float]


def srm_daily_section(rng: np.random.Generator) -> tuple[list[Check], dict[str, object]]:
    """(e) A/A and broken splits read every day for 14 days."""
    days, small, large = 14, 2000, 20_000  # users per day: 28k and 280k in total
    aa = daily_srm_alarm_rates(rng, 100_000, days, small)
    lost10 = daily_srm_alarm_rates(rng, 20_000, days, small, mismatch=0.10)
    lost2 = daily_srm_alarm_rates(rng, 20_000, days, small, mismatch=0.02)
    lost2_large = daily_srm_alarm_rates(rng, 20_000, days, large, mismatch=0.02)

    def se(rate: float, runs: int) -> float:
        return binomial_se(rate, runs)

    checks: list[Check] = [
        ("(e) SRM 14 daily looks, A/A, sequential: false alarms", aa.sequential, "<= 0.002",
         aa.sequential <= 0.002, se(aa.sequential, aa.n_experiments)),
        ("(e) SRM 14 daily looks, A/A, chi-square read daily (contrast)", aa.chi_square_daily,
         "informational", True, se(aa.chi_square_daily, aa.n_experiments)),
        ("(e) SRM daily, 10% of treatment lost, 28k users: sequential power", lost10.sequential,
         ">= 0.99", lost10.sequential >= 0.99, se(lost10.sequential, lost10.n_experiments)),
        ("(e) SRM daily, 2% lost, 28k users: sequential power", lost2.sequential,
         "informational", True, se(lost2.sequential, lost2.n_experiments)),
        ("(e) SRM daily, 2% lost, 28k users: one chi-square look at day 14", lost2.chi_square_final,
         "informational", True, se(lost2.chi_square_final, lost2.n_experiments)),
        ("(e) SRM daily, 2% lost, 280k users: sequential power", lost2_large.sequential,
         ">= 0.80", lost2_large.sequential >= 0.80,
         se(lost2_large.sequential, lost2_large.n_experiments)),
        ("(e) SRM daily, 2% lost, 280k users: one chi-square look at day 14",
         lost2_large.chi_square_final, "informational", True,
         se(lost2_large.chi_square_final, lost2_large.n_experiments)),
    ]  # fmt: skip
    report = {"aa": asdict(aa), "lost_10pct": asdict(lost10), "lost_2pct": asdict(lost2),
              "lost_2pct_large": asdict(lost2_large)}  # fmt: skip
    return checks, {"srm_daily": report}


def _cuped_checks(result: CupedResult, label: str) -> list[Check]:
    runs, n = result.n_experiments, result.users_per_arm
    reduction, model = result.variance_reduction, result.variance_reduction_model
    gain = result.power_cuped - result.power_plain
    return [
        (f"(f) CUPED {label}: variance reduction of the lift estimator (A/A runs)",
         reduction.value, "> 0", reduction.value > 0, reduction.se),
        (f"(f) CUPED {label}: variance reduction, model (1 - Var_adj/Var)", model.value,
         "informational", True, model.se),
        (f"(f) CUPED {label}: A/A FPR", result.fpr_cuped, "in [0.04, 0.06]",
         0.04 <= result.fpr_cuped <= 0.06, binomial_se(result.fpr_cuped, runs)),
        (f"(f) {label}: A/A FPR without CUPED (same runs)", result.fpr_plain, "informational",
         True, binomial_se(result.fpr_plain, runs)),
        (f"(f) {label}: power at n = {n} per arm, +10%, without CUPED", result.power_plain,
         "informational", True, binomial_se(result.power_plain, runs)),
        (f"(f) CUPED {label}: power at the same n", result.power_cuped, "informational", True,
         binomial_se(result.power_cuped, runs)),
        (f"(f) CUPED {label}: power gain (paired)", gain, "> 0", gain > 0, result.power_gain_se),
        (f"(f) {label}: always-valid test's power at the same n, without CUPED",
         result.power_sequential_plain, "informational", True,
         binomial_se(result.power_sequential_plain, runs)),
        (f"(f) CUPED {label}: always-valid test's power at the same n",
         result.power_sequential_cuped, "informational", True,
         binomial_se(result.power_sequential_cuped, runs)),
    ]  # fmt: skip


def cuped_section(rng: np.random.Generator) -> tuple[list[Check], dict[str, object]]:
    """(f) Variance reduction, calibration and power of CUPED on two metrics."""
    ctr = cuped_gains(rng, 2000, metric="ctr")
    clicks = cuped_gains(rng, 2000, metric="clicks_per_user")
    checks = _cuped_checks(ctr, "list CTR") + _cuped_checks(clicks, "clicks per user")
    return checks, {"cuped": {"ctr": asdict(ctr), "clicks_per_user": asdict(clicks)}}


def non_inferiority_section(rng: np.random.Generator) -> tuple[list[Check], dict[str, object]]:
    """(g) The guardrail check of CTR at a 5% margin, read daily for 14 days."""
    margin, days, runs = 0.05, 14, 1000
    pilot = to_stats(draw_sums(rng, DEFAULT_MODEL, 200_000, 1)[0])
    n = 2.0 * non_inferiority_required_n(pilot.mean, pilot.variance, margin)
    for _ in range(2):  # the tuning parameter is the planned total, which depends on n
        planned = sequential_non_inferiority_sample_size(
            pilot.mean, pilot.variance, margin, tuning_parameter=2.0 * n
        )
        n = float(planned) if planned is not None else n
    per_day = math.ceil(n / days)
    false_claims = non_inferiority_claim_rate(rng, runs, days, per_day, margin=margin)
    power = non_inferiority_claim_rate(rng, runs, days, per_day, margin=margin, true_lift=0.0)
    checks: list[Check] = [
        ("(g) guardrail -5%, 14 daily looks: claims when exactly 5% worse", false_claims.claimed,
         "<= 0.05", false_claims.claimed <= 0.05, binomial_se(false_claims.claimed, runs)),
        (f"(g) guardrail -5%: power with no change at planned n = {per_day * days} per arm",
         power.claimed, ">= 0.77", power.claimed >= 0.77, binomial_se(power.claimed, runs)),
    ]  # fmt: skip
    return checks, {"non_inferiority": {"false_claims": asdict(false_claims), "power": asdict(power)}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default="-", help="where to write the JSON report ('-': stdout)")
    parser.add_argument("--seed", type=int, default=20240611)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()

    aa = aa_false_positive_rate(rng, n_experiments=2000, users_per_arm=2000)
    peek = peeking_false_positive_rates(rng, n_experiments=2000, days=14, users_per_day_per_arm=300)
    power = power_at_planned_size(rng, n_experiments=2000, relative_lift=0.05)
    srm = srm_rates(rng, n_seeds=20_000, users=20_000)

    checks = [
        ("(a) A/A FPR, CTR delta-method Welch test", aa.fpr, "in [0.04, 0.06]",
         0.04 <= aa.fpr <= 0.06, binomial_se(aa.fpr, aa.n_experiments)),
        ("(a) A/A FPR, naive impression-level z test (for contrast)", aa.fpr_naive_impressions,
         "informational", True, binomial_se(aa.fpr_naive_impressions, aa.n_experiments)),
        ("(b) 14 daily peeks, sequential test FPR", peek.fpr_sequential, "<= 0.05",
         peek.fpr_sequential <= 0.05, binomial_se(peek.fpr_sequential, peek.n_experiments)),
        ("(b) 14 daily peeks, naive repeated t tests FPR", peek.fpr_naive, "> 0.05",
         peek.fpr_naive > 0.05, binomial_se(peek.fpr_naive, peek.n_experiments)),
        (f"(c) power at planned n = {power.users_per_arm} per arm, +5% CTR", power.power,
         "0.80 +/- 0.03", abs(power.power - 0.80) <= 0.03,
         binomial_se(power.power, power.n_experiments)),
        ("(d) SRM detection, 10% of treatment users lost", srm.detection_rate, ">= 0.99",
         srm.detection_rate >= 0.99, binomial_se(srm.detection_rate, srm.n_seeds)),
        ("(d) SRM false alarm rate, balanced split", srm.false_alarm_rate, "<= 0.002",
         srm.false_alarm_rate <= 0.002, binomial_se(srm.false_alarm_rate, srm.n_seeds)),
    ]
    sections: dict[str, object] = {}
    for section in (srm_daily_section, cuped_section, non_inferiority_section):
        rows, data = section(rng)
        checks += rows
        sections.update(data)
    elapsed = time.perf_counter() - started

    print("| check | value | SE | target | ok |")
    print("|---|---|---|---|---|")
    for name, value, target, ok, se in checks:
        print(f"| {name} | {value:.5f} | {se:.5f} | {target} | {'yes' if ok else 'NO'} |")
    print(f"\nseed {args.seed}, {elapsed:.0f} s")

    report = {
        "seed": args.seed,
        "seconds": round(elapsed, 1),
        "aa": asdict(aa),
        "peeking": asdict(peek),
        "power": asdict(power),
        "srm": asdict(srm),
        **sections,
        "checks": [
            {"check": name, "value": value, "se": se, "target": target, "ok": ok}
            for name, value, target, ok, se in checks
        ],
        "all_ok": all(ok for _, _, _, ok, _ in checks),
    }
    text = json.dumps(report, indent=2)
    if args.json == "-":
        print(text)
    else:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return 0 if report["all_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

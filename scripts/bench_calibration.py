"""Calibration benchmark of the A/B statistics engine (simulation, no I/O besides the report).

    .venv/bin/python scripts/bench_calibration.py [--json PATH] [--seed N]

Checks, on a realistic per-user click/impression model (see
movierec.stats.calibration):
  (a) A/A false positive rate of the CTR delta-method test at alpha 0.05 in [0.04, 0.06];
  (b) peeking daily for 14 days: sequential FPR <= 0.05, naive repeated tests above 0.05;
  (c) power at the sample size from power.py for a +5% CTR lift is 0.80 +/- 0.03;
  (d) SRM: a 10% loss of treatment users is flagged; balanced false alarms <= 0.002.
Prints a markdown table, writes the numbers as JSON (stdout by default) and
exits 1 if any check fails. Runs in about a minute on two cores.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict

import numpy as np

from movierec.stats.calibration import (
    aa_false_positive_rate,
    binomial_se,
    peeking_false_positive_rates,
    power_at_planned_size,
    srm_rates,
)


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
    elapsed = time.perf_counter() - started

    print("| check | value | binomial SE | target | ok |")
    print("|---|---|---|---|---|")
    for name, value, target, ok, se in checks:
        print(f"| {name} | {value:.4f} | {se:.4f} | {target} | {'yes' if ok else 'NO'} |")
    print(f"\nseed {args.seed}, {elapsed:.0f} s")

    report = {
        "seed": args.seed,
        "seconds": round(elapsed, 1),
        "aa": asdict(aa),
        "peeking": asdict(peek),
        "power": asdict(power),
        "srm": asdict(srm),
        "checks": [
            {"check": name, "value": value, "binomial_se": se, "target": target, "ok": ok}
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

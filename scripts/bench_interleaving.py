"""Interleaving against A/B on the traffic simulator: users needed for 80% power, calibration.

    .venv/bin/python scripts/bench_interleaving.py [--runs 400] [--aa-runs 2000] [--json PATH]

What is simulated is what `movierec simulate` does over HTTP, without the HTTP (as in
bench_cuped_simulation.py): the ms75 split of MovieLens 100K (seed 42); the rankers
trained on its 75%; each user's top-10 list from each ranker (training items excluded,
as served); sessions per user and day Poisson(1) for 7 days; clicks from the
position-based ClickModel on the user's held-out ratings (the ground truth). Users are
drawn with replacement from the 943, so an experiment may have more users than MovieLens.

* A/B: half the users see A's lists, half B's; the test is Welch's on the list CTR
  (clicks per list, users the unit), fixed horizon, alpha 0.05.
* Interleaved: every user sees, per session, the team-draft merge of A's and B's lists
  (movierec.experiments.interleaving, a fresh request id per session); the test is the
  one-sample t test of the per-user preference (movierec.stats.interleaving), alpha 0.05.

For each pair of rankers and each design, power is measured at a grid of user counts
(``--runs`` experiments per point, binomial standard errors); the users needed for 80%
power are interpolated on log(users) between the two grid points around 0.8, with a
standard error by the delta method from the power's standard errors and the local slope.
A/A (A interleaved with itself, ``--aa-runs`` experiments of 300 users): the
fixed-horizon and sign tests' false-positive rates at 0.05, and the always-valid test's
when looked at after each of the 7 days. The expected CTR of each ranker and the expected
preference (ground truth, no sampling) give the direction each design should find.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from movierec.data.loaders import load_movielens
from movierec.experiments.interleaving import team_draft
from movierec.models.base import TrainingData
from movierec.models.ease import EASE
from movierec.models.popular import MostPopular
from movierec.models.scoring import scorer_for
from movierec.models.svd import SurpriseSVD
from movierec.pipelines.train import PreparedData, hold_out
from movierec.simulation.traffic import ClickModel
from movierec.stats.frequentist import two_sample_test
from movierec.stats.interleaving import PreferenceStats, interleaving_test
from movierec.stats.statistics import RatioStats

TOP_N, DAYS, RATE, MERGES = 10, 7, 1.0, 128
PAIRS = (("popular", "ease"), ("svd", "ease"), ("ease", "ease_l2_5000"), ("ease", "ease_l2_1500"))
AB_GRID = tuple(20 * 2 ** k for k in range(13))  # 20 .. 81,920
IL_GRID = tuple(10 * 2 ** k for k in range(11))  # 10 .. 10,240


def rankers(train: PreparedData) -> dict[str, object]:
    trainers = {"popular": MostPopular(), "svd": SurpriseSVD(seed=1), "ease": EASE(l2=500.0),
                "ease_l2_1500": EASE(l2=1500.0), "ease_l2_5000": EASE(l2=5000.0)}
    out = {}
    for name, trainer in trainers.items():
        artifact = trainer.fit(train.training)
        out[name] = scorer_for(artifact.kind, artifact.arrays)
    return out


class Pair:
    """Per user: each ranker's click probabilities by rank, and MERGES team-draft merges."""

    def __init__(self, lists: dict[str, dict[int, list[int]]], a: str, b: str, users: np.ndarray,
                 truth: dict[int, dict[int, float]], model: ClickModel, rng: np.random.Generator) -> None:
        def probs(items: list[int], u: int) -> np.ndarray:
            p = model.click_probabilities([truth[u].get(m) for m in items])
            return np.pad(p, (0, TOP_N - len(p)))

        self.ab = {s: np.array([probs(lists[s][u], u) for u in users]) for s in (a, b)}
        self.a, self.b = a, b
        merged_p = np.zeros((len(users), MERGES, TOP_N))
        merged_b = np.zeros((len(users), MERGES, TOP_N), dtype=bool)
        for i, u in enumerate(users):
            for k in range(MERGES):
                m = team_draft(lists[a][u], lists[b][u], TOP_N, f"{u}:{rng.integers(1 << 62)}")
                merged_p[i, k] = probs(list(m.item_ids), u)
                merged_b[i, k, : len(m.teams)] = np.array(m.teams) == 1
        self.merged_p, self.merged_b = merged_p, merged_b

    def truth(self) -> tuple[float, float, float]:
        """Expected clicks per list of A and B, and expected preference per list (B - A)."""
        ctr_a, ctr_b = (float(self.ab[s].sum(axis=1).mean()) for s in (self.a, self.b))
        pref = float((self.merged_p * np.where(self.merged_b, 1.0, -1.0)).sum(axis=2).mean())
        return ctr_a, ctr_b, pref

    def ab_test(self, rng: np.random.Generator, n_users: int) -> tuple[bool, float]:
        half = n_users // 2
        arms = []
        for side in (self.a, self.b):
            p = self.ab[side][rng.integers(0, len(self.ab[side]), half)]
            lists = rng.poisson(RATE * DAYS, half)
            clicks = rng.binomial(lists[:, None], p).sum(axis=1).astype(float)
            keep = lists > 0
            m, d = clicks[keep], lists[keep].astype(float)
            arms.append(RatioStats(int(keep.sum()), m.sum(), (m * m).sum(), d.sum(), (d * d).sum(), (m * d).sum()))
        result = two_sample_test(arms[0], arms[1])
        return result.p_value < 0.05, result.lift_rel

    def preferences(self, rng: np.random.Generator, n_users: int, days: int = DAYS) -> np.ndarray:
        """Per user and day, the preference B - A of that day's sessions; users x days."""
        users = rng.integers(0, len(self.merged_p), n_users)
        sessions = rng.poisson(RATE, (n_users, days))
        user_of = np.repeat(np.repeat(users, days), sessions.ravel())
        day_of = np.repeat(np.tile(np.arange(days), n_users), sessions.ravel())
        row_of = np.repeat(np.repeat(np.arange(n_users), days), sessions.ravel())
        k = rng.integers(0, MERGES, len(user_of))
        clicks = rng.random((len(user_of), TOP_N)) < self.merged_p[user_of, k]
        signed = (clicks * np.where(self.merged_b[user_of, k], 1, -1)).sum(axis=1)
        any_click = clicks.sum(axis=1)
        out = np.zeros((n_users, days))
        seen = np.zeros((n_users, days))
        np.add.at(out, (row_of, day_of), signed)
        np.add.at(seen, (row_of, day_of), any_click)
        return np.stack([out, seen])

    def interleaving_test(self, rng: np.random.Generator, n_users: int) -> tuple[bool, float]:
        pref, seen = self.preferences(rng, n_users)
        clicked = seen.sum(axis=1) > 0
        result = interleaving_test(PreferenceStats.of(pref.sum(axis=1)[clicked]), tuning_parameter=n_users)
        return result.error is None and result.p_value < 0.05, result.mean


def rate(values: list[bool]) -> tuple[float, float]:
    p = float(np.mean(values))
    return p, math.sqrt(max(p * (1 - p), 1e-4) / len(values))


def users_for_power(curve: list[tuple[int, float, float]], target: float = 0.8) -> tuple[float | None, float | None]:
    """Interpolated users at ``target`` power on log(users), with a delta-method standard error."""
    for (n0, p0, s0), (n1, p1, s1) in itertools.pairwise(curve):
        if p0 < target <= p1:
            slope = (p1 - p0) / (math.log(n1) - math.log(n0))
            w = (target - p0) / (p1 - p0)
            log_n = math.log(n0) + w * (math.log(n1) - math.log(n0))
            se_log = math.hypot((1 - w) * s0, w * s1) / slope
            return math.exp(log_n), math.exp(log_n) * se_log
    if curve and curve[0][1] >= target:
        return float(curve[0][0]), None
    return None, None


def power_curve(test, grid: tuple[int, ...], runs: int, rng: np.random.Generator):
    curve, signs = [], []
    for n in grid:
        outcomes = [test(rng, n) for _ in range(runs)]
        p, se = rate([sig for sig, _ in outcomes])
        curve.append((n, p, se))
        signs.append(float(np.mean([est for _, est in outcomes])))
        if p >= 0.95:
            break
    return curve, signs


def calibration(pair: Pair, rng: np.random.Generator, runs: int, n_users: int) -> dict[str, tuple[float, float]]:
    fixed, sign, daily = [], [], []
    for _ in range(runs):
        pref, seen = pair.preferences(rng, n_users)
        cum_pref, cum_seen = pref.cumsum(axis=1), seen.cumsum(axis=1)
        looks = []
        for day in range(DAYS):
            clicked = cum_seen[:, day] > 0
            result = interleaving_test(PreferenceStats.of(cum_pref[clicked, day]), tuning_parameter=n_users)
            looks.append(result.error is None and result.always_valid_p_value < 0.05)
        fixed.append(result.error is None and result.p_value < 0.05)
        sign.append(result.sign_test_p_value < 0.05)
        daily.append(any(looks))
    return {"fixed_horizon_fpr": rate(fixed), "sign_test_fpr": rate(sign), "always_valid_daily_looks_fpr": rate(daily)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--movielens-dir", default=os.environ.get("MOVIELENS_DIR"))
    parser.add_argument("--runs", type=int, default=400, help="experiments per grid point")
    parser.add_argument("--aa-runs", type=int, default=2000)
    parser.add_argument("--aa-users", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if not args.movielens_dir:
        print("give --movielens-dir or set MOVIELENS_DIR to the ml-100k folder", file=sys.stderr)
        return 2
    start = time.perf_counter()
    data = load_movielens("ml-100k", Path(args.movielens_dir))
    train, test = hold_out(PreparedData(data, TrainingData(data.ratings, data.rating_scale), None), seed=42)
    truth: dict[int, dict[int, float]] = {}
    for user, item, rating in test[["user_id", "item_id", "rating"]].itertuples(index=False):
        truth.setdefault(int(user), {})[int(item)] = float(rating)
    users = np.array(sorted(truth))
    scorers = rankers(train)
    lists = {name: {int(u): [int(m) for m in s.recommend(int(u), TOP_N).item_ids] for u in users}  # type: ignore[attr-defined]
             for name, s in scorers.items()}
    rng = np.random.default_rng(args.seed)
    model = ClickModel()
    out: dict[str, object] = {"protocol": {
        "data": "ml-100k ms75 (seed 42)", "days": DAYS, "sessions_per_day": RATE, "top_n": TOP_N,
        "alpha": 0.05, "runs_per_point": args.runs, "aa_runs": args.aa_runs, "aa_users": args.aa_users,
        "rankers": {"popular": "MostPopular", "svd": "SurpriseSVD(seed=1)", "ease": "EASE(l2=500)",
                    "ease_l2_1500": "EASE(l2=1500)", "ease_l2_5000": "EASE(l2=5000)"}}}
    pairs = {}
    for a, b in PAIRS:
        pair = Pair(lists, a, b, users, truth, model, rng)
        ab_curve, ab_lifts = power_curve(pair.ab_test, AB_GRID, args.runs, rng)
        il_curve, il_prefs = power_curve(pair.interleaving_test, IL_GRID, args.runs, rng)
        ab_n, ab_se = users_for_power(ab_curve)
        il_n, il_se = users_for_power(il_curve)
        ctr_a, ctr_b, pref = pair.truth()
        pairs[f"{a}_vs_{b}"] = {
            "true_clicks_per_list": {a: ctr_a, b: ctr_b}, "true_lift_rel": ctr_b / ctr_a - 1,
            "true_preference_per_list": pref,
            "ab_curve": ab_curve, "ab_mean_lift_rel_at_largest_n": ab_lifts[-1],
            "interleaving_curve": il_curve, "interleaving_mean_preference_at_largest_n": il_prefs[-1],
            "ab_users_80": (ab_n, ab_se), "interleaving_users_80": (il_n, il_se),
            "ratio": None if ab_n is None or il_n is None else ab_n / il_n,
            "directions_agree": bool(np.sign(ab_lifts[-1]) == np.sign(il_prefs[-1])),
        }
        print(f"{a} vs {b}: true lift {ctr_b / ctr_a - 1:+.3f}, true preference {pref:+.4f}; "
              f"users for 80% power: A/B {ab_n} (se {ab_se}), interleaving {il_n} (se {il_se})", flush=True)
    out["pairs"] = pairs
    same = Pair(lists, "svd", "svd", users, truth, model, rng)
    out["aa"] = calibration(same, rng, args.aa_runs, args.aa_users)
    print("A/A:", out["aa"])
    out["seconds"] = round(time.perf_counter() - start, 1)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    fpr, se = out["aa"]["fixed_horizon_fpr"]  # type: ignore[index]
    return 0 if abs(fpr - 0.05) <= 3 * se else 1


if __name__ == "__main__":
    sys.exit(main())

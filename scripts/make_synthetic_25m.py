"""A seeded synthetic ratings set shaped like MovieLens 25M, for scale benchmarks only.

    .venv/bin/python scripts/make_synthetic_25m.py --out /tmp/movierec-synthetic-25m [--scale 1.0] [--seed 0]

Shape (published MovieLens 25M statistics, GroupLens README and Harper & Konstan 2015):
162,541 users, 59,047 rated movies, 25,000,095 ratings; every user has at least 20
ratings, median 71 and mean 153.8 per user; the most-rated movie has 81,491 ratings,
the median movie 6, the mean 423.4; half-star ratings 0.5-5 with mean 3.53.

- User activity: 20 + a log-normal, mu = ln 51 (median 71) and sigma from the mean
  (153.8), capped at the published maximum of 32,202, rescaled to the exact total.
- Item popularity: Zipf-Mandelbrot weights C / (rank + q)^s with (s, q) fitted so the
  top share and the median count match the published ones.
- Taste: users and movies fall into 20 clusters; 60% of a user's ratings are drawn from
  their cluster's movies (by popularity), the rest from the whole catalogue, so models
  have structure to find. Ratings follow MovieLens 25M's half-star histogram.

Writes ``ratings.npz`` (user_id, item_id, rating, timestamp) and ``movies.csv``
(item_id, title, genres) into ``--out``, which must not be inside the repository: the
output is never committed. ``--scale 0.01`` makes a 1% version (same shape) for tests
of the benchmark itself.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import brentq

USERS, MOVIES, RATINGS = 162_541, 59_047, 25_000_095
MIN_PER_USER, MEDIAN_PER_USER, MEAN_PER_USER, MAX_PER_USER = 20, 71, 153.8, 32_202
TOP_MOVIE, MEDIAN_MOVIE = 81_491, 6
CLUSTERS, IN_CLUSTER = 20, 0.6
HALF_STARS = np.arange(1, 11) / 2
# MovieLens 25M rating histogram (shares of 0.5, 1.0, ..., 5.0 stars)
STAR_SHARES = np.array([1.57, 3.07, 1.60, 6.59, 5.09, 19.60, 12.64, 26.62, 8.51, 14.71])
REPO = Path(__file__).resolve().parents[1]


def user_activity(rng: np.random.Generator, n_users: int, total: int, n_items: int) -> np.ndarray:
    mu = np.log(MEDIAN_PER_USER - MIN_PER_USER)
    sigma = np.sqrt(2 * (np.log(MEAN_PER_USER - MIN_PER_USER) - mu))
    counts = MIN_PER_USER + rng.lognormal(mu, sigma, n_users)
    cap = min(MAX_PER_USER, n_items // 2)
    counts = np.minimum(counts * (total - MIN_PER_USER * n_users) / (counts - MIN_PER_USER).sum() + 0, cap)
    counts = np.maximum(np.floor(counts).astype(np.int64), MIN_PER_USER)
    short = total - counts.sum()  # rounding: spread the remainder over users below the cap
    room = np.flatnonzero(counts < cap)
    counts[rng.choice(room, size=abs(int(short)), replace=True)] += np.sign(short)
    return np.clip(counts, MIN_PER_USER, cap)


def item_weights(n_items: int) -> tuple[np.ndarray, dict[str, float]]:
    """Zipf-Mandelbrot weights whose top share and median count match MovieLens 25M's.

    The curve is fitted at full size; a scaled-down catalogue takes it at evenly spaced ranks.
    """
    ranks = np.arange(1, MOVIES + 1, dtype=np.float64)

    def shares(s: float, q: float) -> np.ndarray:
        w = (ranks + q) ** -s
        return w / w.sum()

    def q_for(s: float) -> float:  # the offset giving the published top share for exponent s
        return brentq(lambda q: shares(s, q)[0] - TOP_MOVIE / RATINGS, 1e-6, 1e6)

    s = brentq(lambda s: shares(s, q_for(s))[MOVIES // 2] - MEDIAN_MOVIE / RATINGS, 0.8, 4.0)
    q = q_for(s)
    picked = shares(s, q)[np.round(np.linspace(0, MOVIES - 1, n_items)).astype(np.int64)]
    return picked / picked.sum(), {"zipf_s": s, "zipf_q": q}


def draw(rng: np.random.Generator, counts: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(user, item) pairs, distinct per user: each user's ratings by taste cluster and popularity."""
    n_users, n_items = len(counts), len(weights)
    user_cluster = rng.integers(CLUSTERS, size=n_users)
    item_cluster = rng.integers(CLUSTERS, size=n_items)
    cluster_items = [np.flatnonzero(item_cluster == c) for c in range(CLUSTERS)]
    cluster_cdf = [np.cumsum(weights[i]) / weights[i].sum() for i in cluster_items]
    global_cdf = np.cumsum(weights)
    users = np.repeat(np.arange(n_users), counts)
    items = np.empty(0, dtype=np.int64)
    need_users = users
    kept_users = np.empty(0, dtype=np.int64)
    for attempt in range(30):
        picks = np.empty(len(need_users), dtype=np.int64)
        local = rng.random(len(need_users)) < (IN_CLUSTER if attempt < 20 else 0.0)
        u = rng.random(len(need_users))
        picks[~local] = np.minimum(np.searchsorted(global_cdf, u[~local] * global_cdf[-1]), n_items - 1)
        if attempt >= 20:  # the heaviest users run out of popular movies: fill uniformly
            picks[~local] = rng.integers(n_items, size=int((~local).sum()))
        for c in range(CLUSTERS):
            rows = np.flatnonzero(local & (user_cluster[need_users] == c))
            pos = np.minimum(np.searchsorted(cluster_cdf[c], u[rows]), len(cluster_items[c]) - 1)
            picks[rows] = cluster_items[c][pos]
        all_users = np.concatenate([kept_users, need_users])
        all_items = np.concatenate([items, picks])
        _, first = np.unique(all_users * n_items + all_items, return_index=True)
        first.sort()
        kept_users, items = all_users[first], all_items[first]
        missing = counts - np.bincount(kept_users, minlength=n_users)
        if not missing.any():
            break
        need_users = np.repeat(np.arange(n_users), missing)
    return kept_users, items


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="output folder, outside the repository")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of users, movies and ratings")
    args = parser.parse_args()
    out = args.out.resolve()
    if out == REPO or REPO in out.parents:
        parser.error(f"{out} is inside the repository; the synthetic data is never committed")
    start = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    n_users, n_items, total = (max(50, round(x * args.scale)) for x in (USERS, MOVIES, RATINGS))
    total = max(total, MIN_PER_USER * n_users)
    counts = user_activity(rng, n_users, total, n_items)
    weights, fit = item_weights(n_items)
    users, items = draw(rng, counts, weights)
    rank_to_item = rng.permutation(n_items)  # popularity rank -> item position: ids carry no order
    item_pos = rank_to_item[items]
    movie_ids = np.sort(rng.choice(np.arange(1, 4 * n_items), size=n_items, replace=False))
    ratings = rng.choice(HALF_STARS, size=len(users), p=STAR_SHARES / STAR_SHARES.sum())
    timestamps = rng.integers(789_652_009, 1_574_327_703, size=len(users))  # MovieLens 25M's span
    out.mkdir(parents=True, exist_ok=True)
    np.savez(
        out / "ratings.npz",
        user_id=(users + 1).astype(np.int64),
        item_id=movie_ids[item_pos].astype(np.int64),
        rating=ratings.astype(np.float64),
        timestamp=timestamps.astype(np.int64),
    )
    pd.DataFrame(
        {"item_id": movie_ids, "title": [f"Synthetic movie {i}" for i in movie_ids], "genres": "Drama"}
    ).to_csv(out / "movies.csv", index=False)
    per_user = np.bincount(users, minlength=n_users)
    per_item = np.bincount(item_pos, minlength=n_items)
    stats = {
        "seed": args.seed,
        "scale": args.scale,
        "users": int(n_users),
        "movies_rated": int((per_item > 0).sum()),
        "ratings": len(users),
        "per_user": {"min": int(per_user.min()), "median": float(np.median(per_user)), "mean": float(per_user.mean()), "max": int(per_user.max())},
        "per_movie": {"median": float(np.median(per_item)), "mean": float(per_item.mean()), "max": int(per_item.max())},
        "mean_rating": float(ratings.mean()),
        **fit,
        "seconds": time.perf_counter() - start,
    }
    (out / "stats.json").write_text(json.dumps(stats, indent=2))
    print(json.dumps(stats, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

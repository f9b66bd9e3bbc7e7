"""Hash assignment: deterministic, uniform, weight-proportional, and coverage only adds users."""

import hashlib
from collections import Counter

import numpy as np
import pytest
from scipy.stats import chi2_contingency, chisquare

from movierec.errors import ConfigError
from movierec.events import Experiment, Variant
from movierec.experiments.assignment import assign_variant, bucket_of, variant_draw

USERS = range(100_000)


def _experiment(coverage=1.0, weights=(1.0, 1.0), salt="exp-2024-svd-vs-ease"):
    variants = tuple(
        Variant(name=f"v{i}", model="svd", version=None, weight=w) for i, w in enumerate(weights)
    )
    return Experiment(experiment_id="e1", salt=salt, variants=variants, coverage=coverage)


def test_bucket_is_the_documented_sha256_rule():
    for user_id in (0, 1, 42, 943, 10**12):
        digest = hashlib.sha256(f"my-salt:{user_id}".encode()).digest()
        assert bucket_of("my-salt", user_id) == int.from_bytes(digest[:8], "big") % 10_000
    # Pinned so that any other implementation (SQL, JavaScript) can be checked against it.
    assert (bucket_of("my-salt", 42), bucket_of("my-salt", 943)) == (9145, 7616)
    assert variant_draw("my-salt", 42) == pytest.approx(0.6715524252487461, abs=1e-15)


def test_assignment_is_deterministic_and_depends_on_the_salt():
    exp = _experiment(coverage=0.5)
    first = [assign_variant(exp, u) for u in range(2000)]
    assert first == [assign_variant(exp, u) for u in range(2000)]
    other = _experiment(coverage=0.5, salt="another-salt")
    same = sum(a == b for a, b in zip(first, (assign_variant(other, u) for u in range(2000)),
                                      strict=True))
    assert same < 1000  # independent salts agree on ~25% of (variant, bucket) pairs at most


def test_buckets_are_uniform_over_100k_users():
    counts = np.bincount([bucket_of("uniformity", u) for u in USERS], minlength=10_000)
    assert chisquare(counts).pvalue > 0.001
    coarse = np.bincount([bucket_of("uniformity", u, 100) for u in USERS], minlength=100)
    assert chisquare(coarse).pvalue > 0.001


def test_variant_draw_is_independent_of_the_bucket():
    table = np.zeros((10, 4), dtype=int)
    for u in range(40_000):
        table[bucket_of("indep", u) // 1000, int(variant_draw("indep", u) * 4)] += 1
    assert chi2_contingency(table).pvalue > 0.001


def test_raising_coverage_only_adds_users_with_the_same_variant():
    users = range(20_000)
    previous = None
    for coverage in (0.0, 0.05, 0.1, 0.3, 0.57, 0.9, 1.0):
        exp = _experiment(coverage=coverage, weights=(1.0, 2.0, 1.0))
        current = {u: assign_variant(exp, u)[0] for u in users}
        inside = {u for u, v in current.items() if v is not None}
        assert abs(len(inside) / len(users) - coverage) < 4 * np.sqrt(0.25 / len(users))
        if previous is not None:
            prev_inside = {u for u, v in previous.items() if v is not None}
            assert prev_inside <= inside
            assert all(current[u] == previous[u] for u in prev_inside)
        previous = current
    assert None not in previous.values()  # coverage 1.0: everyone


@pytest.mark.parametrize("coverage", [1.0, 0.4])
def test_variant_shares_match_weights(coverage):
    weights = (1.0, 1.0, 2.0)
    exp = _experiment(coverage=coverage, weights=weights)
    counts = Counter(assign_variant(exp, u)[0] for u in range(60_000))
    inside = sum(n for name, n in counts.items() if name is not None)
    observed = [counts[f"v{i}"] for i in range(3)]
    expected = [inside * w / sum(weights) for w in weights]
    assert chisquare(observed, expected).pvalue > 0.001


def test_returned_bucket_is_the_coverage_bucket():
    exp = _experiment(coverage=0.25)
    for u in range(500):
        name, bucket = assign_variant(exp, u)
        assert bucket == bucket_of(exp.salt, u)
        assert (name is not None) == (bucket < 2500)


@pytest.mark.parametrize(
    ("experiment", "match"),
    [
        (_experiment(weights=(1.0, 0.0)), "weights must be positive"),
        (_experiment(weights=(1.0, -2.0)), "weights must be positive"),
        (_experiment(weights=()), "no variants"),
        (_experiment(coverage=1.5), "coverage"),
        (_experiment(salt=""), "empty salt"),
        (
            Experiment(
                "e1",
                "s",
                (Variant("a", "svd", None, 1.0), Variant("a", "ease", None, 1.0)),
            ),
            "duplicate variant names",
        ),
    ],
)
def test_invalid_experiments_raise_config_error(experiment, match):
    with pytest.raises(ConfigError, match=match):
        assign_variant(experiment, 1)


def test_user_id_must_be_an_integer():
    with pytest.raises(ConfigError, match="user_id"):
        assign_variant(_experiment(), "42")
    with pytest.raises(ConfigError, match="user_id"):
        bucket_of("s", True)

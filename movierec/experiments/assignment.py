"""Deterministic assignment of users to experiment variants, without state.

Two independent hashes of the user id decide everything, so any instance of the
service computes the same answer with no lookup:

1. The coverage bucket::

       bucket_of(salt, user_id) = int.from_bytes(sha256(f"{salt}:{user_id}")[:8], "big") % 10_000

   A user is in the experiment when ``bucket < round(coverage * 10_000)``;
   everyone else gets the default model (variant ``None``). Coverage therefore
   has a resolution of 0.01%.

2. The variant draw, a uniform number in [0, 1) from a second hash::

       u = (int.from_bytes(sha256(f"{salt}:{user_id}:variant")[:8], "big") >> 11) / 2**53

   The variants split [0, 1) in their listed order into ranges proportional
   to their weights, and the user gets the variant whose range holds u.

Because the variant does not depend on the coverage, raising coverage only adds
users (whose buckets were above the old threshold) and everyone already in
keeps their variant; lowering it only removes users. The variant draw is
independent of the bucket, so every coverage slice splits by the weights.

Changing the weights moves the range boundaries and so re-assigns users who are
already in the experiment, which mixes exposures and biases the comparison:
to change weights, start a new experiment (or a new phase) with a new salt.
Reordering the variants does the same.

sha256 is used for its uniformity and stability across languages and versions
(Python's ``hash`` is salted per process). 2**64 is not a multiple of 10,000;
the resulting modulo bias is below 1e-15 and is ignored.
"""

from __future__ import annotations

import hashlib
import math

from movierec.errors import ConfigError
from movierec.events import Experiment

N_BUCKETS = 10_000


def _hash64(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")


def _check_user_id(user_id: int) -> None:
    if isinstance(user_id, bool) or not isinstance(user_id, int):
        raise ConfigError(f"user_id must be an integer, got {user_id!r}")


def bucket_of(salt: str, user_id: int, n_buckets: int = N_BUCKETS) -> int:
    """The user's coverage bucket in [0, n_buckets) (see the module docstring)."""
    _check_user_id(user_id)
    if not isinstance(n_buckets, int) or n_buckets < 1:
        raise ConfigError(f"n_buckets must be a positive integer, got {n_buckets!r}")
    return _hash64(f"{salt}:{user_id}") % n_buckets


def variant_draw(salt: str, user_id: int) -> float:
    """The user's uniform draw in [0, 1) that picks the variant (53 random bits)."""
    _check_user_id(user_id)
    return (_hash64(f"{salt}:{user_id}:variant") >> 11) / float(1 << 53)


def validate_experiment(experiment: Experiment) -> None:
    """Raise ConfigError unless the experiment can assign users."""
    eid = experiment.experiment_id
    if not experiment.salt:
        raise ConfigError(f"experiment {eid!r} has an empty salt")
    if not experiment.variants:
        raise ConfigError(f"experiment {eid!r} has no variants")
    names = [v.name for v in experiment.variants]
    if len(set(names)) != len(names):
        raise ConfigError(f"experiment {eid!r} has duplicate variant names: {names}")
    for v in experiment.variants:
        if not (isinstance(v.weight, (int, float)) and math.isfinite(v.weight) and v.weight > 0):
            raise ConfigError(
                f"experiment {eid!r}: variant {v.name!r} has weight {v.weight!r}; "
                "weights must be positive numbers"
            )
    coverage = experiment.coverage
    if not (isinstance(coverage, (int, float)) and 0.0 <= coverage <= 1.0):
        raise ConfigError(f"experiment {eid!r}: coverage must be in [0, 1], got {coverage!r}")


def assign_variant(experiment: Experiment, user_id: int) -> tuple[str | None, int]:
    """(variant name, coverage bucket) of ``user_id`` in ``experiment``.

    The name is None when the user falls outside the experiment's coverage and
    should get the default model. The status of the experiment is not checked
    here: whether a stopped experiment still serves is the caller's decision.
    """
    validate_experiment(experiment)
    bucket = bucket_of(experiment.salt, user_id)
    if bucket >= round(experiment.coverage * N_BUCKETS):
        return None, bucket
    total = math.fsum(v.weight for v in experiment.variants)
    threshold = variant_draw(experiment.salt, user_id) * total
    cumulative = 0.0
    for variant in experiment.variants:
        cumulative += variant.weight
        if threshold < cumulative:
            return variant.name, bucket
    # Only reachable through float rounding of the cumulative sum at u ≈ 1.
    return experiment.variants[-1].name, bucket

"""What an undecided experiment still needs, and what its data already rule out.

Three numbers per treatment arm, each in users per variant:

* **the observed effect**: how many more users until the always-valid interval reaches
  the decision boundary *if the observed lift and its per-user variance hold*. With
  the sample grown by a factor f, the estimate's standard error is se/√f and the
  sequence's size n·f, so the half-width h(f) = halfwidth(se/√f, n·f) (which falls
  with f) must come down to the distance between the lift and the boundary: |δ̂| for
  the primary (the boundary is 0), δ̂ + m for a guardrail to pass its margin m (or
  −m − δ̂ to fail it when the lift is already beyond it). The smallest such growth is
  found by bisection over whole users.
* **the planned MDE**: the users per variant at which the sequence detects the plan's
  MDE with the plan's power at the control's *observed* variance
  (:func:`movierec.analysis.plan.sequential_sample_size`), minus those there are.
* **what is ruled out**: the always-valid interval of the primary already excludes any
  lift below its lower end and above its upper end ("a drop worse than −4% is
  excluded") -- useful when the answer is "no big harm" rather than "a win".

These are projections, not promises: the observed lift of an early test is noisy and
tends to shrink; the boundary itself holds at every look whatever happens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from movierec.analysis.comparison import Comparison
from movierec.analysis.config import AnalysisConfig
from movierec.analysis.plan import PowerSummary
from movierec.analysis.roles import higher_is_better, label, margin_text
from movierec.stats.sequential import halfwidth, mixing_rho

_MAX_USERS = 10**12  # beyond this "never" is the honest answer


def more_users(distance: float, se: float, n: int, users: int, alpha: float, tuning: float) -> int | None:
    """More users per variant until the half-width is at most ``distance`` (None: never).

    ``se`` is the lift's standard error now, ``n`` the sequence's sample size now (both
    arms), ``users`` the users per variant now (the smaller arm), ``alpha`` the level of
    the interval and ``tuning`` its tuning parameter.
    """
    if not (distance > 0 and se > 0 and n >= 2 and users >= 1):
        return None
    rho = mixing_rho(alpha, tuning)

    def width(extra: int) -> float:
        size = max(2, round(n * (users + extra) / users))
        return halfwidth(se * math.sqrt(n / size), size, alpha, rho)

    if width(0) <= distance:
        return 0
    hi = 1
    while width(hi) > distance:
        hi *= 2
        if hi > _MAX_USERS:
            return None
    lo = hi // 2  # width(lo) > distance (or lo = 0, checked above)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if width(mid) <= distance else (mid, hi)
    return hi


@dataclass(frozen=True)
class Projection:
    """The keep-running numbers of one comparison (see the module docstring)."""

    variant: str
    metric: str
    role: str
    observed_more: int | None  # users per variant for the observed effect to decide
    goal: str  # what the observed effect would reach, in words
    mde_more: int | None = None  # primary only: users per variant for the plan's MDE
    ruled_out: tuple[float, float] | None = None  # primary only: the always-valid interval
    text: str = ""


def _distance(c: Comparison) -> tuple[float, str]:
    lift = c.lift_rel or 0.0
    if c.role != "guardrail":
        return abs(lift), "reaches the decision boundary"
    margin = c.margin or 0.0
    # Distances in the "good" direction: a drop of a more-is-better metric is negative.
    good = lift if higher_is_better(c.metric) else -lift
    if good > -margin:
        return good + margin, f"is shown within its {margin_text(margin)} margin"
    return -margin - good, f"is shown worse than its {margin_text(margin)} margin"


def project(
    c: Comparison, users_now: int, config: AnalysisConfig, power: PowerSummary | None = None
) -> Projection:
    """The keep-running numbers of an undecided comparison (``power`` for the primary)."""
    distance, goal = _distance(c)
    observed = (
        None if c.se_rel is None or c.lift_rel is None
        else more_users(distance, c.se_rel, c.n, users_now, c.alpha, config.tuning_parameter)
    )
    metric, lift = label(c.metric), c.lift_rel or 0.0
    if observed is None:
        first = (f"{c.variant}'s observed {lift:+.1%} on {metric} never decides at this variance"
                 if c.lift_rel is not None else f"{c.variant} has no lift on {metric} yet")
    else:
        first = (f"{c.variant}'s observed {lift:+.1%} on {metric} {goal} after about "
                 f"{observed:,} more users per variant (if the lift and its variance hold)")
    parts = [first]
    mde_more = None
    if power is not None and power.required_sequential is not None and power.users_per_variant > 0:
        required_users = math.ceil(users_now * power.required_sequential / power.users_per_variant)
        mde_more = max(0, required_users - users_now)
        parts.append(f"a {config.mde:+.0%} lift (the plan's MDE) needs about {mde_more:,} more")
    ruled_out = c.seq_ci_rel if c.role == "primary" else None
    if ruled_out is not None:
        lo, hi = ruled_out
        excluded = []
        if -1.0 < lo < 0:
            excluded.append(f"a drop worse than {lo:+.1%}")
        elif lo >= 0:
            excluded.append(f"a lift below {lo:+.1%}")
        excluded.append(f"a gain above {hi:+.1%}" if hi > 0 else f"a lift above {hi:+.1%}")
        # Below -100% the bound excludes nothing: a rate cannot fall further.
        tail = " (no drop is excluded yet)" if lo <= -1.0 else ""
        parts.append("the data already rule out " + " and ".join(excluded) + tail)
    return Projection(c.variant, c.metric, c.role, observed, goal, mde_more, ruled_out, "; ".join(parts))

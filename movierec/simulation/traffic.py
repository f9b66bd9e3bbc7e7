r"""A traffic simulator: MovieLens users ask the running functions for recommendations
over real HTTP, click with a documented probability and rate some of what they click.

Click model (a position-based model, Richardson et al. 2007; Craswell et al. 2008):

.. math::
    P(\text{click on the item at rank } k) = \underbrace{k^{-\eta}}_{\text{examined}}
        \times \underbrace{a(r_{ui})}_{\text{attractive}}

where :math:`r_{ui}` is the rating user :math:`u` gave the movie in the *held-out*
part of MovieLens (data the served models never saw) and :math:`a` rises with it:
``attraction`` maps 5 -> 0.6, 4 -> 0.35, 3 -> 0.12, 2 -> 0.04, 1 -> 0.02; a movie the
user never rated attracts with ``unrated`` (0.02): we do not know they would dislike
it, only that they did not choose it. A clicked movie the user had rated is rated
with that value with probability ``rate_probability``.

Sessions arrive per user and day as Poisson(``sessions_per_day``). Everything random
comes from one seeded generator, so a run is reproducible given the served models.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import requests

RATING_ATTRACTION: dict[int, float] = {5: 0.6, 4: 0.35, 3: 0.12, 2: 0.04, 1: 0.02}


@dataclass(frozen=True)
class ClickModel:
    position_decay: float = 0.7  # eta: examination probability k^-eta
    attraction: Mapping[int, float] = field(default_factory=lambda: dict(RATING_ATTRACTION))
    unrated: float = 0.02
    rate_probability: float = 0.5

    def click_probabilities(self, ratings: list[float | None]) -> np.ndarray:
        """P(click) for items at ranks 1..len(ratings), given the user's held-out ratings."""
        examine = np.arange(1, len(ratings) + 1, dtype=float) ** -self.position_decay
        attract = np.array(
            [self.unrated if r is None else self.attraction[min(5, max(1, math.ceil(r)))] for r in ratings]
        )
        return examine * attract


@dataclass(frozen=True)
class SimulationConfig:
    users: int = 300
    days: int = 7
    sessions_per_day: float = 1.0
    top_n: int = 10
    seed: int = 7
    concurrency: int = 8
    timeout: float = 30.0


@dataclass
class SimulationSummary:
    sessions: int = 0
    impressions: Counter = field(default_factory=Counter)  # per variant
    clicks: Counter = field(default_factory=Counter)
    ratings: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)  # per status
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, counter: str, key: object) -> None:
        with self._lock:  # sessions run on several threads
            getattr(self, counter)[key] += 1

    def lines(self) -> list[str]:
        out = [f"{self.sessions} sessions"]
        for variant in sorted(self.impressions):
            shown, clicked = self.impressions[variant], self.clicks[variant]
            ctr = clicked / (shown * 1.0) if shown else 0.0
            out.append(
                f"  variant {variant}: {shown} recommendations, {clicked} clicks "
                f"({ctr:.3f} per recommendation), {self.ratings[variant]} ratings"
            )
        if self.errors:
            out.append(f"  errors: {dict(self.errors)}")
        return out


@dataclass(frozen=True)
class Session:
    day: int
    user_id: int
    draws: np.ndarray  # uniform numbers fixed up front: clicks don't depend on thread timing


def _choose(rng: np.random.Generator, user_ids: np.ndarray, config: SimulationConfig) -> np.ndarray:
    return rng.choice(user_ids, size=min(config.users, len(user_ids)), replace=False)


def simulated_users(user_ids: np.ndarray, config: SimulationConfig) -> list[int]:
    """The users a run with ``config`` simulates (the same draw as :func:`plan_sessions`)."""
    return sorted(int(u) for u in _choose(np.random.default_rng(config.seed), user_ids, config))


def plan_sessions(user_ids: np.ndarray, config: SimulationConfig) -> list[Session]:
    rng = np.random.default_rng(config.seed)
    chosen = _choose(rng, user_ids, config)
    sessions = []
    for day in range(config.days):
        counts = rng.poisson(config.sessions_per_day, size=len(chosen))
        for user, count in zip(chosen, counts):
            sessions += [Session(day, int(user), rng.random(2 * config.top_n)) for _ in range(count)]
    order = rng.permutation(len(sessions))
    return sorted((sessions[i] for i in order), key=lambda s: s.day)  # shuffled within each day


def run_session(
    http: requests.Session,
    url: str,
    session: Session,
    truth: Mapping[int, Mapping[int, float]],
    model: ClickModel,
    config: SimulationConfig,
    summary: SimulationSummary,
) -> None:
    response = http.get(f"{url}/recommend", params={"user_id": session.user_id, "top_n": config.top_n}, timeout=config.timeout)
    if response.status_code != 200:
        summary.count("errors", response.status_code)
        return
    rec = response.json()
    variant = rec["variant"]
    summary.count("impressions", variant)
    known = truth.get(session.user_id, {})
    shown = [item["movie_id"] for item in rec["items"]]
    ratings = [known.get(m) for m in shown]
    clicks = session.draws[: len(shown)] < model.click_probabilities(ratings)
    for rank in np.flatnonzero(clicks):
        events: list[tuple[str, float | None]] = [("click", None)]
        rating = ratings[rank]
        if rating is not None and session.draws[config.top_n + rank] < model.rate_probability:
            events.append(("rating", float(rating)))
        for kind, value in events:
            body = {
                "request_id": rec["request_id"],
                "token": rec["token"],
                "user_id": session.user_id,
                "movie_id": shown[rank],
                "type": kind,
                "value": value,
            }
            status = http.post(f"{url}/feedback", json=body, timeout=config.timeout).status_code
            if status in (200, 201):
                summary.count("clicks" if kind == "click" else "ratings", variant)
            else:
                summary.count("errors", status)


def simulate(
    url: str,
    truth: Mapping[int, Mapping[int, float]],
    config: SimulationConfig,
    model: ClickModel | None = None,
) -> SimulationSummary:
    """Drive ``config.users`` simulated users for ``config.days`` days against ``url``."""
    model = model or ClickModel()
    summary = SimulationSummary()
    sessions = plan_sessions(np.array(sorted(truth)), config)
    summary.sessions = len(sessions)
    local = threading.local()

    def one(session: Session) -> None:
        if not hasattr(local, "http"):
            local.http = requests.Session()
        run_session(local.http, url, session, truth, model, config, summary)

    with ThreadPoolExecutor(max_workers=config.concurrency) as pool:
        for day in range(config.days):
            list(pool.map(one, [s for s in sessions if s.day == day]))
    return summary

"""Team-draft interleaving: one list merged from two rankers, each item credited to one.

Radlinski, Kurup & Joachims 2008, "How does clickthrough data reflect retrieval
quality?" (CIKM), section 5; its sensitivity against A/B metrics is measured by
Chapelle, Joachims, Radlinski & Yue 2012, "Large-scale validation and analysis of
interleaved search evaluation" (ACM TOIS 30(1)).

Two teams, A and B, each with a ranked list, pick players in rounds::

    while the merged list is shorter than n and some ranker has an item left:
        first = A if coin(request_id, round) == 0 else B      (a fair coin per round)
        for team in (first, the other):
            item = team's highest-ranked item not yet in the merged list
            if there is one and the list is shorter than n:
                append item, credited to team

An item both rankers would place goes to whichever team picks it first; the other
team then takes its next item. When one ranker's list runs out, the other keeps
picking alone, so a list shorter than ``n`` only shortens the merged list when both
are used up. Within one round each team adds one item, so the teams' sizes never
differ by more than one and, by the coin, neither team is favoured by position: under
a user who clicks at random, a click is credited to A or B with probability 1/2 each.
A click on an item is a vote for the team it is credited to; per user, the preference
is (clicks credited to B) - (clicks credited to A) (:mod:`movierec.stats.interleaving`).

The coin of round r is the low bit of ``sha256(f"{seed}:{r}")``, with the request id as
the seed, so a request can be replayed exactly on any machine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from movierec.errors import ConfigError


@dataclass(frozen=True)
class Interleaved:
    """The merged list, best first; ``teams[i]`` is 0 (first ranker) or 1 (second) for item i."""

    item_ids: tuple[int, ...]
    teams: tuple[int, ...]


def coin(seed: str, round_: int) -> int:
    """The fair coin of round ``round_``: 0 means the first ranker picks first."""
    return hashlib.sha256(f"{seed}:{round_}".encode()).digest()[-1] & 1


def team_draft(first: Sequence[int], second: Sequence[int], n: int, seed: str) -> Interleaved:
    """Merge two ranked lists of item ids into at most ``n`` items (see the module docstring)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ConfigError(f"n must be a non-negative integer, got {n!r}")
    lists = (list(first), list(second))
    cursors = [0, 0]
    items: list[int] = []
    teams: list[int] = []
    taken: set[int] = set()
    round_ = 0
    while len(items) < n and any(c < len(ranked) for c, ranked in zip(cursors, lists)):
        lead = coin(seed, round_)
        for team in (lead, 1 - lead):
            ranked = lists[team]
            while cursors[team] < len(ranked) and ranked[cursors[team]] in taken:
                cursors[team] += 1
            if cursors[team] < len(ranked) and len(items) < n:
                item = ranked[cursors[team]]
                items.append(item)
                teams.append(team)
                taken.add(item)
        round_ += 1
    return Interleaved(tuple(items), tuple(teams))

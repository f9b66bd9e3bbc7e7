"""Team-draft interleaving on hand-made lists whose merge is worked out by hand.

The coins of the seeds used: "b" -> 0, 1, 0, 1, ...; "c" -> 0, 0, 0, 1, 1, 1;
"f" -> 1, 1, 0, 1, 1, 0 (0: the first ranker picks first in that round).
"""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest

from movierec.errors import ConfigError
from movierec.experiments.interleaving import coin, team_draft


def test_coin_is_the_low_bit_of_sha256_of_seed_and_round() -> None:
    for seed in ("b", "c", "f", "req-123"):
        for r in range(8):
            assert coin(seed, r) == hashlib.sha256(f"{seed}:{r}".encode()).digest()[-1] & 1
    assert [coin("b", r) for r in range(4)] == [0, 1, 0, 1]
    assert [coin("c", r) for r in range(6)] == [0, 0, 0, 1, 1, 1]
    assert [coin("f", r) for r in range(6)] == [1, 1, 0, 1, 1, 0]


def test_disjoint_lists_alternate_by_the_coin() -> None:
    # rounds of "f": B first, B first, A first
    merged = team_draft([1, 2, 3], [10, 20, 30], 6, "f")
    assert merged.item_ids == (10, 1, 20, 2, 3, 30)
    assert merged.teams == (1, 0, 1, 0, 0, 1)


def test_an_item_both_rank_goes_to_the_team_that_picks_it_first() -> None:
    # "c": A picks first in rounds 0-2. Round 0: A takes 1, B's best (1) is taken -> B takes 3.
    # Round 1: A's next not taken is 2, B's is 5. Round 2: A has 4, B has 6.
    merged = team_draft([1, 2, 3, 4], [1, 3, 5, 6], 6, "c")
    assert merged.item_ids == (1, 3, 2, 5, 4, 6)
    assert merged.teams == (0, 1, 0, 1, 0, 1)


def test_identical_lists_keep_their_order_and_split_credit_by_the_coin() -> None:
    # Ties between the rankers everywhere: the list is theirs, the credit the coin's.
    merged = team_draft([7, 8, 9, 10], [7, 8, 9, 10], 4, "f")
    assert merged.item_ids == (7, 8, 9, 10)
    assert merged.teams == (1, 0, 1, 0)  # rounds 0 and 1 both led by B
    credit = Counter(t for seed in range(2000) for t in team_draft([1, 2], [1, 2], 1, str(seed)).teams)
    assert abs(credit[0] - 1000) < 4 * 500 ** 0.5  # a fair coin: 1000 +- 4 sd


def test_a_short_list_runs_out_and_the_other_ranker_keeps_picking() -> None:
    merged = team_draft([1], [10, 20, 30, 40], 4, "b")
    assert merged.item_ids == (1, 10, 20, 30)
    assert merged.teams == (0, 1, 1, 1)


def test_top_n_larger_than_both_lists_gives_their_union_once() -> None:
    merged = team_draft([1, 2, 3], [3, 2, 9], 10, "b")
    assert sorted(merged.item_ids) == [1, 2, 3, 9]
    # Round 0 (A first): A 1, B 3. Round 1 (B first): B 2; A's 2 and 3 are taken, A is out.
    # Round 2: B alone, 9.
    assert merged.item_ids == (1, 3, 2, 9)
    assert merged.teams == (0, 1, 1, 1)


def test_n_cuts_the_list_in_the_middle_of_a_round() -> None:
    merged = team_draft([1, 2, 3], [10, 20, 30], 3, "b")
    assert merged.item_ids == (1, 10, 20)
    assert merged.teams == (0, 1, 1)


def test_empty_lists_and_zero_n() -> None:
    assert team_draft([], [], 5, "x").item_ids == ()
    assert team_draft([1, 2], [3], 0, "x").item_ids == ()
    only_b = team_draft([], [4, 5], 5, "x")
    assert only_b.item_ids == (4, 5) and only_b.teams == (1, 1)


def test_the_same_seed_replays_the_same_merge() -> None:
    a, b = list(range(50)), list(range(49, -1, -1))
    assert team_draft(a, b, 20, "req-9") == team_draft(a, b, 20, "req-9")


@pytest.mark.parametrize("n", [-1, 1.5, True])
def test_bad_n_is_a_config_error(n: object) -> None:
    with pytest.raises(ConfigError, match="non-negative integer"):
        team_draft([1], [2], n, "x")  # type: ignore[arg-type]

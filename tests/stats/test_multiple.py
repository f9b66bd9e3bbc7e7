"""Holm and Benjamini–Hochberg adjustments on examples worked by hand."""

import pytest

from movierec.errors import ConfigError
from movierec.stats.multiple import adjust_p_values

P = [0.01, 0.04, 0.03, 0.005]


def test_holm_by_hand():
    # sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 → max(0.04, 0.06) = 0.06
    result = adjust_p_values(P, "holm")
    assert result.p_values == pytest.approx((0.03, 0.06, 0.06, 0.02))
    assert result.reject == (True, False, False, True)


def test_benjamini_hochberg_by_hand():
    # sorted p·m/rank: 0.02, 0.02, 0.04, 0.04, then the running minimum from the top
    result = adjust_p_values(P, "bh")
    assert result.p_values == pytest.approx((0.02, 0.04, 0.04, 0.02))
    assert result.reject == (True, True, True, True)


def test_bh_never_stricter_than_holm():
    ps = [0.001, 0.2, 0.013, 0.04, 0.6, 0.009, 0.03]
    holm, bh = adjust_p_values(ps, "holm"), adjust_p_values(ps, "bh")
    assert all(b <= h + 1e-15 for b, h in zip(bh.p_values, holm.p_values, strict=True))


def test_empty_and_invalid():
    assert adjust_p_values([], "bh").p_values == ()
    with pytest.raises(ConfigError, match="method"):
        adjust_p_values(P, "bonferroni")
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        adjust_p_values([0.5, 1.2], "holm")

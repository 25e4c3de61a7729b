"""Wilson intervals and ranking."""

from __future__ import annotations

import pytest

from coach.mining.models import Rate
from coach.mining.stats import TOO_FEW, rank, rate_fields, wilson_interval


def test_wilson_interval_matches_the_textbook_values():
    # Newcombe (1998), example: 81 of 263 -> 0.2553 to 0.3662
    low, high = wilson_interval(81, 263)
    assert low == pytest.approx(0.2553, abs=1e-4) and high == pytest.approx(0.3662, abs=1e-4)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0
    assert wilson_interval(0, 0) is None


def test_ranking_uses_the_lower_bound_and_leaves_small_groups_unranked():
    sure = Rate(**rate_fields(40, 50))      # 0.80, well supported
    lucky = Rate(**rate_fields(4, 4))       # 1.00 but four calls
    weak = Rate(**rate_fields(6, 12))
    ranked = rank([lucky, weak, sure], min_calls=5)
    assert ranked == [sure, weak, lucky]
    assert (sure.rank, weak.rank, lucky.rank) == (1, 2, None) and lucky.note == TOO_FEW and sure.note is None

"""Scorecard metrics on hand-made timelines."""

from coach.scorecard import interruptions, silences, talk_ratio


def test_talk_ratio():
    assert talk_ratio([("agent", 0, 6), ("debtor", 6, 10)]) == 0.6
    assert talk_ratio([]) is None


def test_interruptions_count_agent_talking_over_debtor():
    turns = [("debtor", 0, 5), ("agent", 3, 6), ("debtor", 6, 8), ("agent", 8.1, 9)]
    assert interruptions(turns) == 1


def test_long_silences():
    turns = [("agent", 0, 2), ("debtor", 12, 13), ("agent", 13.5, 14)]
    assert silences(turns, 8) == [(2, 10)]

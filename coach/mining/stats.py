"""Rates with honest uncertainty: a 4-in-5 success rate and an 80-in-100 one are not the same news."""

from __future__ import annotations

from scipy.stats import binomtest

TOO_FEW = "too few calls"


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """The Wilson score interval of ``successes / trials`` (None without trials): unlike the normal
    approximation it stays inside [0, 1] and is sensible for small counts and rates near 0 or 1."""
    if trials <= 0:
        return None
    interval = binomtest(successes, trials).proportion_ci(confidence_level=confidence, method="wilson")
    return round(float(interval.low), 4), round(float(interval.high), 4)


def rate_fields(successes: int, trials: int) -> dict:
    """``calls``, ``successes``, ``rate``, ``low``, ``high`` for a :class:`~coach.mining.models.Rate`."""
    interval = wilson_interval(successes, trials)
    return {"calls": trials, "successes": successes, "rate": round(successes / trials, 4) if trials else None,
            "low": interval[0] if interval else None, "high": interval[1] if interval else None}


def rank(rates: list, min_calls: int) -> list:
    """Rank those with at least ``min_calls`` calls by the interval's lower bound (a rate that is high
    *and* well supported comes first); mark the others "too few calls". Returns them ranked first,
    then the rest by number of calls."""
    enough = sorted((r for r in rates if r.calls >= min_calls), key=lambda r: (-(r.low or 0.0), -r.calls))
    few = sorted((r for r in rates if r.calls < min_calls), key=lambda r: -r.calls)
    for position, item in enumerate(enough, start=1):
        item.rank, item.note = position, None
    for item in few:
        item.rank, item.note = None, TOO_FEW
    return enough + few

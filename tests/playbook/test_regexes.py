"""Playbook regexes: catastrophic shapes are refused at load, and every search has a time limit."""

from __future__ import annotations

import json
import re
import time

import pytest
import regex

from coach.playbook.regexes import PatternError, SafePattern, check_pattern
from tests import yaml_io
from tests.conftest import EXAMPLES


@pytest.mark.parametrize("pattern", [
    r"(a+)+$", r"(a*)*b", r"(\w+\s?)*$", r"(x+x+)+y", r"(.*,)*x", r"(\d+|\d+\.\d+)*$",  # nested quantifiers
    r"(a|aa)*$", r"^(a|b|ab)*c", r"(?:(?:yes|yes yes)(?:\s+|$))+$",  # overlapping alternatives under a star
    r"x(a?)*y", r"x(a|)+y",  # repeated groups that can match nothing
])
def test_catastrophic_shapes_are_refused(pattern):
    with pytest.raises(PatternError, match="backtrack catastrophically"):
        check_pattern(pattern)


@pytest.mark.parametrize("pattern", [
    r"x(\s+\w+)*", r"x(word )*", r"\b(a|b)+\b", r"x(ab|cd)*", r"\b(not|never)\s+(going to |gonna |be |get |getting )*(sue)",
    r"^(喂|嗯|啊|哦|对)*(对|是|我)?就是我", r"(是|是的)+", r"a++", r"\bf+u+c+k\w*", r"[a-z]{2,6}", r"(\d{1,3},)*\d+",
])
def test_ordinary_repetition_is_accepted(pattern):
    check_pattern(pattern)


def test_invalid_and_match_everything_patterns_are_refused():
    with pytest.raises(PatternError, match="not a valid regular expression"):
        check_pattern("(unclosed")
    with pytest.raises(PatternError, match="every utterance"):
        check_pattern(r"(debt)?")
    with pytest.raises(PatternError, match="every utterance"):
        check_pattern("  ")


def test_a_search_that_runs_out_of_time_is_no_match(caplog):
    pattern = SafePattern(r"(a|aa)*$", timeout=0.05)  # built directly: the load-time check would refuse it
    started = time.perf_counter()
    with caplog.at_level("WARNING"):
        assert pattern.search("a" * 5000 + "!") is None
    assert time.perf_counter() - started < 1.0
    assert "counted as no match" in caplog.text
    assert pattern.search("aa").group(0) == "aa"


def test_a_search_that_waited_for_the_cpu_gets_another_try(monkeypatch):
    """Under load the wall-clock timeout can pass while the process waits for a core; a veto lost
    that way raised false alarms. A search that spent little CPU time is tried again."""
    pattern = SafePattern(r"don.?t worry", timeout=0.05)
    real, calls = pattern._compiled.search, []

    def descheduled(text, timeout):
        calls.append(timeout)
        if len(calls) == 1:
            time.sleep(timeout)  # waiting, not computing
            raise TimeoutError("regex timed out")
        return real(text, timeout=timeout)

    monkeypatch.setattr(pattern, "_compiled", type("Compiled", (), {"search": staticmethod(descheduled)})())
    assert pattern.search("dont worry about that").group(0) == "dont worry"
    assert calls[1] > calls[0]


def _patterns(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("patterns", "unless", "ignore") and isinstance(value, list):
                yield from value
            else:
                yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


def _texts(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _texts(value)


@pytest.mark.parametrize("playbook_id", ["en-US-collections", "zh-CN-bank-collections"])
def test_shipped_patterns_pass_and_match_as_python_re_does(playbook_id):
    """The regex module reads the playbooks' re syntax the same way: same matches on every text the
    playbook and the bundled calls contain (the guarded search, whose timeout doubles a search's cost,
    on every text a pattern finds and one in eight of the others)."""
    from coach.text.normalize import normalize

    data = yaml_io.shipped_playbook(playbook_id)
    language = data["language"]
    texts = {normalize(t, language) for t in _texts(data)}
    for path in EXAMPLES.glob(f"{language}-*.json"):
        texts |= {normalize(u["text"], language) for u in json.loads(path.read_text(encoding="utf-8"))["utterances"]}
    patterns = sorted(set(_patterns(data)))
    assert patterns
    texts = sorted(texts)
    for pattern in patterns:
        check_pattern(pattern)
        plain, unguarded, safe = re.compile(pattern), regex.compile(pattern), SafePattern(pattern)
        for index, text in enumerate(texts):
            expected, got = plain.search(text), unguarded.search(text)
            assert (expected and expected.span()) == (got and got.span()), (pattern, text)
            if expected or index % 8 == 0:
                got = safe.search(text)
                assert (expected and expected.span()) == (got and got.span()), (pattern, text)


def test_built_regexes_get_the_same_limit():
    """What code builds from playbook words can use the same guard: the affirmation vocabulary of the
    shipped Chinese playbook (对, 对对, 对对对, ...) under a repetition backtracks exponentially on a
    long run of 对 with plain re."""
    pattern = SafePattern(r"^(?:(?:对对对|对对|对|嗯)\s*)+$", timeout=0.05)
    started = time.perf_counter()
    assert pattern.match("对" * 60 + "x") is None
    assert time.perf_counter() - started < 1.0
    assert pattern.match("对对 嗯").group(0) == "对对 嗯" and pattern.fullmatch("嗯嗯") is not None

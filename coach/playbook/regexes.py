"""Playbook regular expressions that cannot freeze anything.

Two guards, because neither is enough alone:

* at load, :func:`backtracking_risk` reads the parsed pattern and rejects the shapes that backtrack
  exponentially on ordinary text: a repeated group that contains another repetition and can end
  with what it starts with (``(a+)+``, ``(\\w+\\s?)*``), a repeated group that can match nothing
  (``(a?)*``), and alternatives under a repetition that can split the same text in two ways
  (``(a|aa)*``, ``(yes|yes yes)+``);
* at match time, every pattern runs with a time limit (the ``regex`` module's ``timeout``): a
  search that runs out counts as no match and is logged, so what slips past the static check can
  cost one utterance a few milliseconds, never the server.

Playbooks keep Python ``re`` syntax: a pattern must compile with ``re`` (the documented syntax) and is
then compiled by ``regex``, whose default (VERSION0) behaviour is ``re``'s.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from itertools import product

import regex

log = logging.getLogger(__name__)

try:  # Python 3.11+
    from re import _constants as C  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older Pythons
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

#: Seconds one search of one utterance may take before it counts as no match.
DEFAULT_TIMEOUT = 0.05
#: A repetition allowing more than this many rounds counts as unbounded for the checks.
_LARGE = 10
#: Finite languages larger than this are treated as infinite (the checks fall back to first characters).
_MAX_WORDS = 256

_REPEATS = {C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", C.MAX_REPEAT)}
_ZERO_WIDTH = {C.AT, C.ASSERT, C.ASSERT_NOT}
_CATEGORY_RE = {
    C.CATEGORY_DIGIT: r"\d", C.CATEGORY_NOT_DIGIT: r"\D", C.CATEGORY_SPACE: r"\s", C.CATEGORY_NOT_SPACE: r"\S",
    C.CATEGORY_WORD: r"\w", C.CATEGORY_NOT_WORD: r"\W",
    C.CATEGORY_LINEBREAK: r"\n", C.CATEGORY_NOT_LINEBREAK: r"[^\n]",
}
#: Characters every character-set comparison tries, besides those the pattern names itself.
_SAMPLES = "aZz09_ \t\n-.,!?'\"/\\中文é\x00"


class PatternError(ValueError):
    """A pattern that does not compile or could backtrack catastrophically; the message says why."""


def check_pattern(pattern: str) -> None:
    """Raise :class:`PatternError` unless ``pattern`` is valid ``re`` syntax, safe from catastrophic
    backtracking, and unable to match the empty string (which would match every utterance)."""
    if not pattern.strip():
        raise PatternError("an empty pattern matches every utterance")
    try:
        re.compile(pattern)
        parsed = sre_parse.parse(pattern)
    except re.error as exc:
        raise PatternError(f"not a valid regular expression: {exc}") from None
    try:
        regex.compile(pattern)
    except (regex.error, ValueError) as exc:  # pragma: no cover - re accepted it
        raise PatternError(f"not supported by the matcher: {exc}") from None
    reason = backtracking_risk(parsed)
    if reason:
        raise PatternError(f"can backtrack catastrophically: {reason}; rewrite it without nested or overlapping repetition")
    if re.fullmatch(pattern, ""):
        raise PatternError("matches the empty string, so it matches every utterance")


def backtracking_risk(parsed: object) -> str | None:
    """Why a parsed pattern (``re._parser.parse``) can backtrack exponentially, or None."""
    alphabet = _alphabet(parsed)
    for body in _large_repeat_bodies(parsed):
        first, nullable = _first(body)
        if nullable:
            return "a repeated group can match nothing (like (a?)*)"
        if _contains_large_repeat(body):
            last, _ = _last(body)
            if first.overlaps(last, alphabet):
                return ("nested quantifiers: a repeated group contains a repetition and can end with what it starts "
                        "with (like (a+)+ or (\\w+\\s?)*)")
        words = _words(body)
        if words is not None:
            if not _uniquely_decodable(words):
                return "overlapping alternatives under a repetition: the same text splits in more than one way (like (a|aa)*)"
            continue
        for branch in _top_branches(body):
            reason = _branch_overlap(branch, alphabet)
            if reason:
                return reason
    return None


#: How much more time a search gets when it ran out of time waiting for the CPU rather than computing.
RETRY_FACTOR = 20


@dataclass
class SafePattern:
    """A compiled playbook pattern whose searches give up after ``timeout`` seconds (as no match)."""

    source: str
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        self._compiled = regex.compile(self.source)

    def search(self, text: str) -> regex.Match | None:
        return self._run(self._compiled.search, text)

    def match(self, text: str) -> regex.Match | None:
        return self._run(self._compiled.match, text)

    def fullmatch(self, text: str) -> regex.Match | None:
        return self._run(self._compiled.fullmatch, text)

    def blank(self, text: str) -> str:
        """``text`` with every match replaced by a space; unchanged if the search runs out of time (the
        warning logged says "no match": nothing is hidden, so at worst a word is heard that need not be)."""
        blanked = self._run(lambda t, timeout: self._compiled.sub(" ", t, timeout=timeout), text)
        return text if blanked is None else blanked

    def _run(self, method, text: str):  # type: ignore[no-untyped-def]
        """The timeout is wall-clock: on a busy machine a search can run out of it while its process
        waits for a core, and a veto counted as no match then raises a false alarm (seen with five
        processes on two cores). A search that used under half its time on the CPU was waiting, not
        backtracking: it gets one more try with RETRY_FACTOR times the time."""
        began = time.thread_time()
        try:
            return method(text, timeout=self.timeout)
        except TimeoutError:
            if time.thread_time() - began < self.timeout / 2:
                try:
                    return method(text, timeout=self.timeout * RETRY_FACTOR)
                except TimeoutError:
                    pass
            log.warning("pattern %r gave up after %.0f ms on a %d-character utterance; counted as no match",
                        self.source[:80], self.timeout * 1000, len(text))
            return None


def compile_pattern(pattern: str, timeout: float = DEFAULT_TIMEOUT) -> SafePattern:
    return SafePattern(pattern, timeout)


# -- character sets --------------------------------------------------------------------------------


@dataclass
class _CharSet:
    """The characters an item can start (or end) with, as predicates over sample characters."""

    items: list
    any: bool = False

    def add(self, other: "_CharSet") -> None:
        self.any = self.any or other.any
        self.items.extend(other.items)

    def has(self, char: str) -> bool:
        return self.any or any(_item_matches(item, char) for item in self.items)

    def overlaps(self, other: "_CharSet", alphabet: str) -> bool:
        if not (self.any or self.items) or not (other.any or other.items):
            return False
        return any(self.has(c) and other.has(c) for c in alphabet)


def _item_matches(item: tuple, char: str) -> bool:
    op, av = item
    if op == C.LITERAL:
        return ord(char) == av
    if op == C.NOT_LITERAL:
        return ord(char) != av
    if op == C.ANY:
        return char != "\n"
    if op == C.IN:
        negate = any(o == C.NEGATE for o, _ in av)
        found = any(_class_member(o, a, char) for o, a in av if o != C.NEGATE)
        return found != negate
    return True  # anything else: assume it may


def _class_member(op: object, av: object, char: str) -> bool:
    if op == C.LITERAL:
        return ord(char) == av
    if op == C.RANGE:
        low, high = av  # type: ignore[misc]
        return low <= ord(char) <= high
    if op == C.CATEGORY:
        return re.fullmatch(_CATEGORY_RE.get(av, "."), char, re.DOTALL) is not None  # type: ignore[arg-type]
    return True


def _alphabet(parsed: object) -> str:
    chars = set(_SAMPLES)

    def visit(seq: object) -> None:
        for op, av in seq:  # type: ignore[attr-defined]
            if op in (C.LITERAL, C.NOT_LITERAL):
                chars.add(chr(av))
            elif op == C.IN:
                for o, a in av:
                    if o == C.LITERAL:
                        chars.add(chr(a))
                    elif o == C.RANGE:
                        chars.update((chr(a[0]), chr(a[1])))
            for child in _children(op, av):
                visit(child)

    visit(parsed)
    return "".join(sorted(chars))


# -- walking the parse tree ------------------------------------------------------------------------


def _children(op: object, av: object) -> list:
    if op in _REPEATS:
        return [av[2]]  # type: ignore[index]
    if op == C.SUBPATTERN:
        return [av[3]]  # type: ignore[index]
    if op == C.BRANCH:
        return list(av[1])  # type: ignore[index]
    if op in (C.ASSERT, C.ASSERT_NOT):
        return [av[1]]  # type: ignore[index]
    if op == getattr(C, "ATOMIC_GROUP", None):
        return [av]
    if op == C.GROUPREF_EXISTS:
        return [branch for branch in av[1:] if branch is not None]  # type: ignore[index]
    return []


def _large_repeat_bodies(seq: object):
    for op, av in seq:  # type: ignore[attr-defined]
        if op in (C.MAX_REPEAT, C.MIN_REPEAT) and (av[1] == C.MAXREPEAT or av[1] > _LARGE):
            yield av[2]  # possessive repeats never backtrack
        for child in _children(op, av):
            yield from _large_repeat_bodies(child)


def _contains_large_repeat(seq: object) -> bool:
    return any(True for _ in _large_repeat_bodies(seq))


def _top_branches(seq: object):
    """Alternations in ``seq`` not under another repetition (those get their own check)."""
    for op, av in seq:  # type: ignore[attr-defined]
        if op == C.BRANCH:
            yield av[1]
            for alternative in av[1]:
                yield from _top_branches(alternative)
        elif op == C.SUBPATTERN:
            yield from _top_branches(av[3])


def _first(seq: object, reverse: bool = False) -> tuple[_CharSet, bool]:
    """The characters ``seq`` can start with (end with, ``reverse``) and whether it can match nothing."""
    result = _CharSet([])
    items = list(seq)  # type: ignore[call-overload]
    for op, av in (reversed(items) if reverse else items):
        chars, nullable = _item_first(op, av, reverse)
        result.add(chars)
        if not nullable:
            return result, False
    return result, True


def _last(seq: object) -> tuple[_CharSet, bool]:
    return _first(seq, reverse=True)


def _item_first(op: object, av: object, reverse: bool) -> tuple[_CharSet, bool]:
    if op in (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN):
        return _CharSet([(op, av)]), False
    if op == C.SUBPATTERN:
        return _first(av[3], reverse)  # type: ignore[index]
    if op == getattr(C, "ATOMIC_GROUP", None):
        return _first(av, reverse)
    if op == C.BRANCH:
        chars, nullable = _CharSet([]), False
        for alternative in av[1]:  # type: ignore[index]
            c, n = _first(alternative, reverse)
            chars.add(c)
            nullable = nullable or n
        return chars, nullable
    if op in _REPEATS:
        chars, nullable = _first(av[2], reverse)  # type: ignore[index]
        return chars, nullable or av[0] == 0  # type: ignore[index]
    if op in _ZERO_WIDTH:
        return _CharSet([]), True
    return _CharSet([], any=True), True  # back-references, conditionals: assume the worst


def _branch_overlap(alternatives: list, alphabet: str) -> str | None:
    languages = [_words(a) for a in alternatives]
    if all(words is not None for words in languages):
        flat = [w for words in languages for w in words]  # type: ignore[union-attr]
        for i, a in enumerate(flat):
            for j, b in enumerate(flat):
                if i != j and b.startswith(a):
                    return ("overlapping alternatives under a repetition: one alternative begins with another "
                            "(like (yes|yes yes)+)")
        return None
    starts = [_first(a) for a in alternatives]
    for i, (a, a_null) in enumerate(starts):
        if a_null:
            return "an alternative under a repetition can match nothing (like (a|)*)"
        for b, _ in starts[i + 1 :]:
            if a.overlaps(b, alphabet):
                return "overlapping alternatives under a repetition: two alternatives can start alike (like (\\w+|\\d)*)"
    return None


# -- finite languages ------------------------------------------------------------------------------


def _words(seq: object) -> set[str] | None:
    """Every string ``seq`` matches, when that is a small finite set (assertions count as empty)."""
    words = {""}
    for op, av in seq:  # type: ignore[attr-defined]
        item = _item_words(op, av)
        if item is None:
            return None
        words = {a + b for a, b in product(words, item)}
        if len(words) > _MAX_WORDS:
            return None
    return words


def _item_words(op: object, av: object) -> set[str] | None:
    if op == C.LITERAL:
        return {chr(av)}  # type: ignore[arg-type]
    if op == C.IN:
        chars: set[str] = set()
        for o, a in av:  # type: ignore[attr-defined]
            if o == C.LITERAL:
                chars.add(chr(a))
            elif o == C.RANGE and a[1] - a[0] < 16:
                chars.update(chr(c) for c in range(a[0], a[1] + 1))
            else:
                return None
        return chars
    if op == C.SUBPATTERN:
        return _words(av[3])  # type: ignore[index]
    if op == C.BRANCH:
        out: set[str] = set()
        for alternative in av[1]:  # type: ignore[index]
            words = _words(alternative)
            if words is None:
                return None
            out |= words
        return out
    if op in _REPEATS:
        low, high, body = av  # type: ignore[misc]
        if high == C.MAXREPEAT or high > 4:
            return None
        inner = _words(body)
        if inner is None:
            return None
        out, current = set(), {""}
        for count in range(high + 1):
            if count >= low:
                out |= current
            current = {a + b for a, b in product(current, inner)}
            if len(out) + len(current) > _MAX_WORDS:
                return None
        return out
    if op in _ZERO_WIDTH:
        return {""}
    return None


def _uniquely_decodable(words: set[str]) -> bool:
    """Sardinas-Patterson: no string is a concatenation of these words in two ways."""
    if "" in words:
        return False

    def dangling(prefixes: set[str], whole: set[str]) -> set[str]:
        return {w[len(p):] for p in prefixes for w in whole if w.startswith(p)}

    current = dangling(words, words) - {""}
    seen: set[frozenset[str]] = set()
    while current:
        if "" in current or current & words:
            return False
        key = frozenset(current)
        if key in seen:
            return True
        seen.add(key)
        current = dangling(words, current) | dangling(current, words)
    return True

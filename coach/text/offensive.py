"""Offensive language in an utterance: a probability, the word that explains it, and what decided it.

Agent speech that insults or swears at the debtor is an S1 violation; debtor speech that does is a
hostile tone. Each language has two parts:

* a statistical model, a TF-IDF vectoriser and a linear classifier scored here with plain numpy:
  English, the model of the ``alt-profanity-check`` package (LinearSVC with sigmoid calibration, read
  from the package and reproduced exactly, 4 ms an utterance through scikit-learn, a few microseconds
  here); Chinese, character 1-3-grams and logistic regression trained on COLD by
  ``scripts/train_offensive_zh.py`` and shipped as ``data/offensive_zh.npz`` (arrays only, no pickle);
* a curated lexicon (``data/offensive_lexicon.yaml``) of insults a collector or a debtor uses on a
  person, which the models miss or cannot explain (profanity-check does not know "deadbeat"; COLD is
  about offence towards groups).

A lexicon hit sets the probability to at least ``LEXICON_PROBABILITY`` (noisy-or with the model) and
its term is the evidence. Otherwise the model decides; when it says offensive (``THRESHOLD``), the
evidence is the word or character n-gram that weighed most. The Chinese model learnt from a balanced
set of comments about race, region and gender, where a group's name or one charged character (骂, 骗)
already tips the balance; in a call offensive speech is far rarer, so its log-odds are shifted by
``ZH_PRIOR_SHIFT`` and it reads the text with the lexicon's benign phrases (垃圾短信, 不会骂) blanked. Detectors load once per process
(:meth:`OffensiveLanguageDetector.for_language`) and hold only read-only arrays, so one is shared by
every thread.
"""

from __future__ import annotations

import bisect
import importlib.metadata
import json
import logging
import math
import os
import re
import tempfile
import threading
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import yaml

from coach.errors import ConfigError, ModelUnavailableError
from coach.text.normalize import normalize

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
ZH_MODEL_PATH = DATA_DIR / "offensive_zh.npz"
LEXICON_PATH = DATA_DIR / "offensive_lexicon.yaml"
LANGUAGES = ("en", "zh")
THRESHOLD = 0.5
"""A probability at or above this is offensive."""
LEXICON_PROBABILITY = 0.9
"""A lexicon hit alone gives this probability; the model can only raise it."""
ZH_PRIOR_SHIFT = -2.0
"""Added to the Chinese model's log-odds: from COLD's 50% offensive to a prior of about 12%."""
METHOD_LEXICON = "lexicon"
METHOD_EN_MODEL = "profanity-check"
METHOD_ZH_MODEL = "cold-char-tfidf-lr"
#: Characters before a term in which a denial is looked for (the longest denial is shorter).
DENIAL_WINDOW = 80
#: Where a Chinese line breaks between clauses: punctuation, or the spaces a speech recogniser puts
#: between phrases (normalising drops both).
ZH_CLAUSE_BREAK = re.compile(r"[^\w']+")
#: What the listener patterns (``of_others_not_after``, ``of_others_not_before``) see at a clause break.
CLAUSE_MARK = "，"

_WHITE_SPACES = re.compile(r"\s\s+")  # what scikit-learn's char analyzer collapses
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern


@dataclass(frozen=True, slots=True)
class OffensiveScore:
    """How offensive one utterance is.

    ``probability`` is in [0, 1] (offensive at ``THRESHOLD`` and above); ``evidence`` is the offending
    word or phrase (normalised: lower case, simplified Chinese) when a lexicon term or the model's
    strongest feature explains it, else ``None``; ``method`` is what decided: ``"lexicon"``,
    ``"profanity-check"`` (English model) or ``"cold-char-tfidf-lr"`` (Chinese model).
    """

    probability: float
    evidence: str | None
    method: str
    #: The line (normalised) with the terms the lexicon excuses taken off the person on the line
    #: (:meth:`OffensiveLexicon.reading`), or None when it has none, or a hit.
    neutral: str | None = None


class LinearTextModel:
    """TF-IDF features and ``k`` linear classifiers with sigmoid calibration, averaged.

    Reproduces scikit-learn's ``TfidfVectorizer.transform`` (``analyzer`` "char" or "word" with the
    default token pattern and lower-casing, optional stop words and sublinear tf, l2 norm) followed by
    ``LogisticRegression.predict_proba`` (``k = 1``, ``a = -1``, ``b = 0``) or a binary
    ``CalibratedClassifierCV(method="sigmoid")`` over linear models: ``mean_k expit(-(a_k d_k + b_k))``
    with ``d_k = x . coef_k + intercept_k``.
    """

    def __init__(
        self, vocabulary: Sequence[str], idf: Any, coef: Any, intercept: Any, *,
        analyzer: Literal["char", "word"], ngram_range: tuple[int, int] = (1, 1), sublinear_tf: bool = False,
        stop_words: Iterable[str] = (), calibration: tuple[Any, Any] | None = None,
    ) -> None:
        self.terms = list(vocabulary)
        self.index = {term: i for i, term in enumerate(self.terms)}
        self.idf = np.asarray(idf, dtype=np.float64)
        self.coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
        self.intercept = np.atleast_1d(np.asarray(intercept, dtype=np.float64))
        k = self.coef.shape[0]
        a, b = calibration if calibration is not None else (-np.ones(k), np.zeros(k))
        self.a = np.atleast_1d(np.asarray(a, dtype=np.float64))
        self.b = np.atleast_1d(np.asarray(b, dtype=np.float64))
        if len(self.index) != len(self.terms) or self.idf.shape != (len(self.terms),) or self.coef.shape[1] != len(self.terms) \
                or not (self.intercept.shape == self.a.shape == self.b.shape == (k,)) or analyzer not in ("char", "word"):
            raise ValueError("inconsistent model arrays")
        self.analyzer = analyzer
        self.ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
        self.sublinear_tf = bool(sublinear_tf)
        self.stop_words = frozenset(stop_words)
        # How much each feature pushes towards "offensive", for the evidence (-a > 0 for a sane calibration).
        self._push = (-self.a[:, None] * self.coef).mean(axis=0)

    def analyze(self, text: str) -> list[str]:
        """The n-grams (char) or tokens (word) scikit-learn would extract, in its order."""
        text = text.lower()
        if self.analyzer == "word":
            return [t for t in _TOKEN.findall(text) if t not in self.stop_words]
        text = _WHITE_SPACES.sub(" ", text)
        low, high = self.ngram_range
        return [text[i : i + n] for n in range(low, high + 1) for i in range(len(text) - n + 1)]

    def transform(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The non-zero entries of the l2-normalised TF-IDF row: (feature indices, values)."""
        counts = Counter(i for i in map(self.index.get, self.analyze(text)) if i is not None)
        if not counts:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        indices = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        if self.sublinear_tf:
            tf = np.log(tf) + 1.0
        values = tf * self.idf[indices]
        return indices, values / np.sqrt(values @ values)

    def predict(self, text: str) -> tuple[float, str | None]:
        """(probability of the positive class, the feature that pushed hardest towards it or None)."""
        indices, values = self.transform(text)
        decision = self.coef[:, indices] @ values + self.intercept
        probability = float(np.mean(1.0 / (1.0 + np.exp(self.a * decision + self.b))))
        if not len(indices):
            return probability, None
        push = self._push[indices] * values
        best = int(np.argmax(push))
        return probability, (self.terms[indices[best]] if push[best] > 0 else None)

    def save(self, path: Path, **metadata: Any) -> None:
        """Arrays only (``np.load(..., allow_pickle=False)`` reads it back); ``metadata`` as JSON."""
        np.savez_compressed(
            path, vocabulary=np.asarray(self.terms, dtype=str), idf=self.idf, coef=self.coef,
            intercept=self.intercept, calibration_a=self.a, calibration_b=self.b,
            analyzer=np.asarray(self.analyzer), ngram_range=np.asarray(self.ngram_range),
            sublinear_tf=np.asarray(self.sublinear_tf), stop_words=np.asarray(sorted(self.stop_words), dtype=str),
            metadata=np.asarray(json.dumps(metadata, ensure_ascii=False)),
        )

    @classmethod
    def load(cls, path: Path) -> LinearTextModel:
        """Read a :meth:`save` file; a missing or unreadable one is a :class:`ModelUnavailableError`."""
        hint = "reinstall coach, or rebuild the file with `python scripts/train_offensive_zh.py`"
        if not path.is_file():
            raise ModelUnavailableError(f"offensive-language model {path} is missing", hint=hint)
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls(
                    [str(t) for t in data["vocabulary"]], data["idf"], data["coef"], data["intercept"],
                    analyzer=str(data["analyzer"]), ngram_range=tuple(data["ngram_range"]),
                    sublinear_tf=bool(data["sublinear_tf"]), stop_words=[str(t) for t in data["stop_words"]],
                    calibration=(data["calibration_a"], data["calibration_b"]),
                )
        except (OSError, ValueError, KeyError, IndexError, TypeError, EOFError, zipfile.BadZipFile) as exc:
            raise ModelUnavailableError(f"offensive-language model {path} is unreadable: {exc}", hint=hint) from exc


@dataclass(frozen=True)
class OfOthers:
    """Where an insult is said of someone else (the lexicon's ``of_others``): each pattern has an
    ``{insult}`` placeholder and a ``not_after`` (ending where a match starts, or None: the lexicon's
    ``of_others_not_after`` unless the pattern has its own); ``not_before`` (in the text after the
    insult) applies to all. Both say it is the person on the line after all."""

    patterns: list[tuple[str, re.Pattern[str] | None]]
    not_before: re.Pattern[str]


class OffensiveLexicon:
    """Curated terms, and benign phrases that contain them or mislead a model. Insults (a subset of
    the terms: what a person is called, not profanity) are no hit when said of someone else; soft
    insults ("stupid") are excused so too, and otherwise no hit of their own: the model reads them.

    :meth:`find` looks for terms in normalised text; :meth:`mask` blanks the benign phrases out of
    the text a model reads (raw or normalised: phrases match across punctuation, in any case).
    """

    def __init__(self, language: str, terms: Iterable[str], benign: Iterable[str] = (), *,
                 denial: str | None = None, denial_veto: str | None = None,
                 insults: Iterable[str] = (), soft_insults: Iterable[str] = (), of_others: OfOthers | None = None,
                 person: str = "person", people: str = "people") -> None:
        self.language = language
        self.person, self.people = person, people
        # Soft insults are excused as insults are, but otherwise left to the model, which also reads
        # them where a lawful kind of line clears it ("dumb question on my part").
        self._soft = {normalize(t, language) for t in soft_insults}
        self._insults = {normalize(t, language) for t in insults} | self._soft
        self._listed = {normalize(t, language) for t in terms} | self._insults
        plural = language == "en"
        self._terms = _alternation(sorted(self._listed), language, plural=plural)
        # Insults (not profanity) said of someone else: "some jerk stole your identity".
        insult_pattern = _alternation(sorted(self._insults), language, plural=plural)
        self._of_others = [
            (re.compile(p.replace("{insult}", f"(?P<insult>{insult_pattern.pattern})")), not_after)
            for p, not_after in of_others.patterns
        ] if of_others is not None and insult_pattern is not None else []
        self._of_others_not_before = of_others.not_before if of_others is not None else None
        # Inside a lookahead, so that overlapping phrases are all found (你妈妈 and 妈妈的 in 你妈妈的).
        benign_pattern = _alternation([normalize(t, language) for t in benign], language)
        self._benign = re.compile(f"(?=({benign_pattern.pattern}))", re.IGNORECASE) if benign_pattern else None
        self._denial = re.compile(f"(?:{denial})$") if denial else None
        self._denial_veto = re.compile(denial_veto) if denial_veto else None

    def find(self, text: str) -> str | None:
        """The first term in ``text`` (already normalised) outside a benign phrase, not denied and
        not an insult said of someone else, as it appears there."""
        return self.reading(text)[0]

    def reading(self, text: str, breaks: Sequence[int] = ()) -> tuple[str | None, str | None]:
        """What :meth:`find` gives, and ``text`` (normalised) with its excused terms (said of no one,
        of the speaker, or an insult said of someone else: "i'd be an idiot to promise that", "some
        jerk stole your identity") taken off the person on the line: an insult read as "person",
        anything else as nothing; None when there is nothing to take off, or a hit."""
        hit, excused = self._read(text, breaks)
        if hit is not None or not excused:
            return hit, None
        for start, end in reversed(excused):
            text = text[:start] + self._stand_in(text[start:end]) + text[end:]
        return None, text

    def _stand_in(self, term: str) -> str:
        """What an excused term is read as: an insult is a person (people, in the plural: "crooks"),
        anything else nothing ("go to hell" in "you told me to go to hell")."""
        singular = self._entry(term)
        if singular not in self._insults:
            return " "
        return self.person if singular == term else self.people

    def soft(self, word: str) -> bool:
        """Whether ``word`` (as said, any case) is a soft insult: one left to the model when not excused."""
        return self._entry(normalize(word, self.language)) in self._soft

    def _entry(self, term: str) -> str:
        """The listed word ``term`` is (without its plural ending)."""
        return next((term[:len(term) - n] for n in (0, 1, 2) if term[:len(term) - n] in self._listed), term)

    def _read(self, text: str, breaks: Sequence[int] = ()) -> tuple[str | None, list[tuple[int, int]]]:
        """The first hit, and the spans of the excused terms before it."""
        if self._terms is None:
            return None, []
        covers = self._benign_spans(text)
        others = self._said_of_others(text, breaks)
        excused: list[tuple[int, int]] = []
        for match in self._terms.finditer(text):
            if any(start <= match.start() and match.end() <= end for start, end in covers):
                continue
            if match.span() in others or self._denied(text, match.start(), match.end()):
                excused.append(match.span())
                continue
            if self._entry(match.group()) in self._soft:
                continue
            return match.group(), excused
        return None, excused

    def _said_of_others(self, text: str, breaks: Sequence[int] = ()) -> set[tuple[int, int]]:
        """The spans of insults said of someone other than the person on the line. ``breaks``: where
        clauses meet in ``text`` (offsets), shown to the listener patterns as :data:`CLAUSE_MARK`:
        "您放心，那些骗子..." is not said to 您. The patterns themselves read the text without them
        ("那是骗子，会冒充..." reads on)."""
        spans = set()
        for pattern, not_after in self._of_others:
            for match in pattern.finditer(text):
                before, after = text[:match.start()], text[match.end("insult"):]
                last = bisect.bisect_right(breaks, match.start())  # the breaks are in order
                if last:
                    cut = breaks[last - 1]
                    before = before[:cut] + CLAUSE_MARK + before[cut:]
                first = bisect.bisect_left(breaks, match.end("insult"))
                if first < len(breaks):
                    offset = breaks[first] - match.end("insult")
                    after = after[:offset] + CLAUSE_MARK + after[offset:]
                if not_after is not None and not_after.search(before.rstrip()):
                    continue  # "youre really some kind of idiot"
                if self._of_others_not_before.search(after):
                    continue  # "those deadbeats like you"
                spans.add(match.span("insult"))
        return spans

    def _denied(self, text: str, start: int, end: int) -> bool:
        """A term said of no one: "im not calling you a liar", "我们没有把您当老赖". Unless the
        denial is rhetorical: "你不是老赖谁是老赖", "你不是老赖吗"."""
        # the last words before the term only: searched from every start of a long line, the whole
        # line before each term made reading grow with its square (0.27 s for 5,000 characters)
        if self._denial is None or not self._denial.search(text[max(0, start - DENIAL_WINDOW):start].removesuffix(" ")):
            return False
        return not (self._denial_veto is not None and self._denial_veto.match(text[end:].lstrip()))

    def mask(self, text: str) -> str:
        """``text`` with every benign phrase replaced by one space."""
        merged: list[list[int]] = []
        for start, end in sorted(self._benign_spans(text)):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        for start, end in reversed(merged):
            text = text[:start] + " " + text[end:]
        return text

    def _benign_spans(self, text: str) -> list[tuple[int, int]]:
        return [match.span(1) for match in self._benign.finditer(text)] if self._benign else []

    @classmethod
    def load(cls, language: str, path: Path = LEXICON_PATH) -> OffensiveLexicon:
        try:
            entry = yaml.safe_load(path.read_text(encoding="utf-8"))[language]
            others = entry.get("of_others")
            not_after = entry.get("of_others_not_after")  # unless a pattern has its own ("": none)
            of_others = OfOthers(
                [(str(o["pattern"]), _compiled(o.get("not_after", not_after))) for o in others],
                re.compile(entry["of_others_not_before"]),
            ) if others else None
            return cls(language, [str(t) for t in entry["terms"]], [str(t) for t in entry.get("benign") or ()],
                       denial=entry.get("denial"), denial_veto=entry.get("denial_veto"),
                       insults=[str(t) for t in entry.get("insults") or ()],
                       soft_insults=[str(t) for t in entry.get("soft_insults") or ()], of_others=of_others,
                       person=str(entry.get("person") or "person"), people=str(entry.get("people") or "people"))
        except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError, re.error) as exc:
            raise ModelUnavailableError(
                f"offensive-language lexicon {path} has no usable {language!r} entry: {exc}",
                hint="reinstall coach",
            ) from exc


class OffensiveLanguageDetector:
    """Scores utterances of one language; get one with :meth:`for_language` (loaded once, thread-safe)."""

    _cache: ClassVar[dict[str, OffensiveLanguageDetector]] = {}
    _cache_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self, language: str, model: LinearTextModel, lexicon: OffensiveLexicon, model_method: str, *,
        prior_shift: float = 0.0,
    ) -> None:
        self.language = language
        self.model = model
        self.lexicon = lexicon
        self.model_method = model_method
        self.prior_shift = prior_shift

    @classmethod
    def for_language(cls, language: str) -> OffensiveLanguageDetector:
        """The shared detector for ``en`` or ``zh`` (``en-US``, ``zh-CN`` too), built on first use."""
        key = _language_key(language)
        with cls._cache_lock:
            if key not in cls._cache:
                cls._cache[key] = cls.load(key)
            return cls._cache[key]

    @classmethod
    def load(
        cls, language: str, *, model_path: Path | None = None, lexicon_path: Path = LEXICON_PATH,
    ) -> OffensiveLanguageDetector:
        """A new detector, not cached; ``model_path`` replaces the shipped Chinese model."""
        key = _language_key(language)
        lexicon = OffensiveLexicon.load(key, lexicon_path)
        if key == "zh":
            model = LinearTextModel.load(model_path or ZH_MODEL_PATH)
            return cls(key, model, lexicon, METHOD_ZH_MODEL, prior_shift=ZH_PRIOR_SHIFT)
        return cls(key, _cached_profanity_check_model(), lexicon, METHOD_EN_MODEL)

    def score(self, texts: list[str]) -> list[OffensiveScore]:
        """One :class:`OffensiveScore` per text, in order."""
        return [self._score_one(text) for text in texts]

    def _score_one(self, text: str) -> OffensiveScore:
        clean = normalize(text, self.language)
        if not clean:
            return OffensiveScore(0.0, None, self.model_method)
        # The Chinese model was trained on normalised text; profanity-check on raw text. A term the
        # lexicon excuses is read as "person" ("some idiot at the store charged you twice", "im such an
        # idiot, i read the wrong account": 0.89 and 0.99 as they are).
        term, neutral = self.lexicon.reading(clean, clause_breaks(text, clean) if self.language == "zh" else ())
        read = neutral if neutral is not None else clean if self.language == "zh" else text
        probability, feature = self.model.predict(self.lexicon.mask(read))
        if self.prior_shift:
            probability = _shift(probability, self.prior_shift)
        if term is not None:
            combined = 1.0 - (1.0 - LEXICON_PROBABILITY) * (1.0 - probability)
            return OffensiveScore(round(combined, 4), term, METHOD_LEXICON)
        evidence = feature if probability >= THRESHOLD else None
        return OffensiveScore(round(probability, 4), evidence, self.model_method, neutral)


def clause_breaks(text: str, clean: str) -> list[int]:
    """Where the clauses of a Chinese line ``text`` meet in ``clean`` (``normalize(text, "zh")``), as
    offsets; none when a clause normalised alone is not found there in order."""
    breaks, offset = [], 0
    for piece in (normalize(p, "zh") for p in ZH_CLAUSE_BREAK.split(text)):
        if not piece:
            continue
        start = clean.find(piece, offset)
        if start < 0:
            return []
        if offset:
            breaks.append(start)
        offset = start + len(piece)
    return breaks


def _alternation(phrases: list[str], language: str, *, plural: bool = False) -> re.Pattern[str] | None:
    """One pattern for all ``phrases``, longest first. Chinese words match anywhere; Latin words and
    phrases must not touch other letters or digits (with an optional plural "s"/"es"), and their
    words may be separated by any run of spaces or punctuation."""
    phrases = sorted(set(phrases) - {""}, key=lambda p: (-len(p), p))
    chinese = [re.escape(p) for p in phrases if language == "zh" and not p.isascii()]
    latin = [r"[\W_]+".join(map(re.escape, p.split())) for p in phrases if language != "zh" or p.isascii()]
    parts = ["|".join(chinese)] if chinese else []
    if latin:
        parts.append(r"(?<![a-z0-9])(?:" + "|".join(latin) + ")" + ("(?:s|es)?" if plural else "") + r"(?![a-z0-9])")
    return re.compile("|".join(parts)) if parts else None


def _compiled(pattern: str | None) -> re.Pattern[str] | None:
    return re.compile(pattern) if pattern else None


def _shift(probability: float, log_odds: float) -> float:
    p = min(max(probability, 1e-12), 1.0 - 1e-12)
    return 1.0 / (1.0 + (1.0 - p) / p * math.exp(-log_odds))


def _language_key(language: str) -> str:
    key = language.split("-")[0].split("_")[0].lower()
    if key not in LANGUAGES:
        raise ConfigError(f"no offensive-language detector for language {language!r}; languages: {', '.join(LANGUAGES)}")
    return key


#: Changes when what is read from alt-profanity-check changes, so older cached copies are not used.
PROFANITY_CHECK_CACHE_FORMAT = 1


def _cached_profanity_check_model(cache_dir: Path | None = None) -> LinearTextModel:
    """The ``alt-profanity-check`` model, read from the package once and then from the cache
    (``<cache>/models/profanity-check-<version>-sklearn-<version>-f<format>.npz``): the package unpickles it with
    joblib, which imports scikit-learn, over a second of every ``coach analyze`` start on a 2-core
    machine. A cached copy that cannot be read is read from the package again and replaced."""
    if cache_dir is None:
        from coach.config import get_settings

        cache_dir = get_settings().cache_dir
    try:
        version = importlib.metadata.version("alt-profanity-check")
    except importlib.metadata.PackageNotFoundError:
        return _profanity_check_model()  # raises the clear error
    from coach.embeddings import _library_version  # the one lookup of an installed version

    # the stop words come from the scikit-learn that unpickles the package's vectoriser
    learn = _library_version("scikit-learn")
    name = f"profanity-check-{version}-sklearn-{learn}-f{PROFANITY_CHECK_CACHE_FORMAT}.npz"
    cached = Path(cache_dir) / "models" / name
    if cached.is_file():
        try:
            return LinearTextModel.load(cached)
        except ModelUnavailableError as exc:
            log.warning("%s; reading alt-profanity-check again", exc)
    model = _profanity_check_model()
    temporary: Path | None = None
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=cached.parent, prefix=f".{cached.stem}.", suffix=".npz", delete=False) as handle:
            temporary = Path(handle.name)
        model.save(temporary, source=f"alt-profanity-check {version}")
        os.replace(temporary, cached)
    except OSError as exc:  # an unwritable cache only costs the next start the package's model again
        log.warning("cannot cache the English offensive-language model in %s (%s)", cached.parent, exc)
        if temporary is not None:
            temporary.unlink(missing_ok=True)
    return model


def _profanity_check_model() -> LinearTextModel:
    """The ``alt-profanity-check`` model as plain arrays (its own ``predict_prob`` takes 4 ms a call)."""
    hint = "pip install alt-profanity-check (a dependency of coach)"
    try:
        from profanity_check import profanity_check
    except ImportError as exc:
        raise ModelUnavailableError("the English offensive-language model needs alt-profanity-check", hint=hint) from exc
    try:
        vectorizer, model = profanity_check.vectorizer, profanity_check.model
        params = vectorizer.get_params()
        if (params["analyzer"], params["ngram_range"], params["norm"], params["token_pattern"], params["use_idf"]) != (
            "word", (1, 1), "l2", _TOKEN.pattern, True,
        ) or not params["lowercase"] or params["preprocessor"] or params["tokenizer"] or params["binary"]:
            raise ValueError(f"unexpected vectorizer settings {params}")
        if list(model.classes_) != [0, 1] or model.method != "sigmoid":
            raise ValueError("not a binary sigmoid-calibrated classifier")
        members = model.calibrated_classifiers_
        vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
        return LinearTextModel(
            vocabulary, vectorizer.idf_,
            np.vstack([m.estimator.coef_.ravel() for m in members]),
            np.array([float(np.ravel(m.estimator.intercept_)[0]) for m in members]),
            analyzer="word", sublinear_tf=params["sublinear_tf"], stop_words=vectorizer.get_stop_words() or (),
            calibration=(np.array([m.calibrators[0].a_ for m in members]), np.array([m.calibrators[0].b_ for m in members])),
        )
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
        raise ModelUnavailableError(
            f"alt-profanity-check's model has a shape this version of coach does not read: {exc}", hint=hint,
        ) from exc

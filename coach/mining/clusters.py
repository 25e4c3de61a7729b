"""What the playbook misses: what debtors say that no intent stands for, clustered into candidate
objections.

Every debtor utterance that is not an ordinary answer (:mod:`coach.mining.ordinary`) is embedded with
the engine's own embedder (the space the objection detector works in, so a cluster exported as an
intent is learned in the space it was found in) and clustered by density with scikit-learn's HDBSCAN:
no number of clusters to guess, and an utterance like no other stays noise instead of being forced
into a topic. Distinct wordings are clustered, so a topic is several ways of saying a thing, not many
copies of one sentence.

Known topics are clustered too, and then set aside: once the members that belong to a known intent
are taken out of a cluster (:func:`_without_known`), a cluster half or more of whose remaining members
some intent claimed (at :data:`LOW_CONFIDENCE` or more) is what the playbook already covers, whether
one intent or a mix of neighbours (promises next to refusals), unless the claims stand far from the
intents' examples (:data:`KNOWN_SIMILARITY`): a new topic the detector pins, confidently, on the
nearest intent ("will you delete the tradeline if i settle" as a settlement request). What remains is
mostly unclaimed, plus the utterances the detector pinned, for want of anything better, on whichever intents were nearest: a
topic the playbook lacks is ignored by the detector or scattered over several intents. This is
BERTopic's zero-shot idea (match known topics first, cluster the rest) with the playbook's own
detector as the matcher. One language at a time: English and Chinese never share a cluster."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse import vstack as sp_vstack
from sklearn.cluster import HDBSCAN
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.preprocessing import normalize as l2_normalize

from coach.analyzers.features import Features
from coach.engine import CoachEngine
from coach.mining.corpus import DEBTOR_SPEAKERS, Deadline, MinedCall
from coach.mining.keywords import class_tfidf
from coach.mining.models import Cluster, Member, Unclustered, UtteranceRef, WeekTally
from coach.mining.options import DEFAULT_MIN_CLUSTER_SIZE
from coach.mining.ordinary import OrdinaryAnswers

#: An intent event below this confidence does not claim its utterance.
LOW_CONFIDENCE = 0.5
#: A cluster in which intents claimed this share of the members is covered by the playbook, not news.
KNOWN_SHARE = 0.5
#: ... when the claims' median similarity to the nearest example of their intent is at least this. On
#: the development sets' debtor turns claimed at 0.5 or more, right claims have a median of 0.69 (en)
#: and 0.71 (zh), wrong ones 0.58 and 0.58, claims on turns that carry no objection 0.55 and 0.60.
KNOWN_SIMILARITY = 0.6
#: Fewest distinct wordings HDBSCAN may make a cluster of.
MIN_WORDINGS = 3
#: Above this many distinct wordings, they are projected (PCA) to REDUCED_DIMENSIONS before clustering.
REDUCE_ABOVE = 1000
REDUCED_DIMENSIONS = 48
#: Dimensions kept of lexical vectors (languages without an embedding model).
LEXICAL_DIMENSIONS = 100
#: HDBSCAN membership strength below which a wording counts as noise, not as the cluster's edge.
MIN_MEMBERSHIP = 0.1
#: Representative utterances shown per cluster.
REPRESENTATIVES = 5
#: Words in a cluster's label.
LABEL_WORDS = 3
#: Unclustered utterances listed per language (all are counted).
UNCLUSTERED_SHOWN = 30


@dataclass(frozen=True)
class Candidate:
    call: MinedCall
    utterance_id: int
    text: str
    #: The intent that claimed it with confidence (its top hint), if any.
    claimed: str | None
    #: The claim's similarity to the nearest of the intent's examples, in the mining engine's space
    #: (None: no claim, or a language without an embedding model, whose lexical scale differs).
    similarity: float | None = None


def candidates(calls: Iterable[MinedCall], language: str) -> list[Candidate]:
    """The debtor utterances of ``language``'s calls, with the intent (if any) that claimed each."""
    out = []
    for call in calls:
        if call.language != language:
            continue
        claims: dict[int, str] = {}
        for hit in call.intents:
            if hit.confidence >= LOW_CONFIDENCE:
                claims.setdefault(hit.utterance_id, hit.intent)
        for u in call.utterances:
            if u.speaker in DEBTOR_SPEAKERS and u.text.strip():
                out.append(Candidate(call, u.utterance_id, u.text, claims.get(u.utterance_id)))
    return out


@dataclass
class CandidateRows:
    """What one page of calls (one language) gives clustering: its debtor utterances that are not
    ordinary answers, and their vectors as the embedder gave them (float32), or, for a language
    without an embedding model, their lexical rows (sparse). Rows of several pages are put together
    with :meth:`joined` before clustering, which is global."""

    call_ids: list[str] = field(default_factory=list)
    utterance_ids: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    claimed: list[str | None] = field(default_factory=list)
    similarity: list[float | None] = field(default_factory=list)
    norms: list[str] = field(default_factory=list)
    dense: np.ndarray | None = None
    lexical: csr_matrix | None = None

    def __len__(self) -> int:
        return len(self.call_ids)

    @classmethod
    def joined(cls, parts: list[CandidateRows], rank: dict[str, int]) -> CandidateRows:
        """The rows of ``parts`` in one, ordered by their call's ``rank`` (stable: a call's utterances
        keep their order)."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls()
        call_ids = [c for p in parts for c in p.call_ids]
        order = sorted(range(len(call_ids)), key=lambda i: rank[call_ids[i]])

        def pick(values: list) -> list:
            return [values[i] for i in order]

        dense = lexical = None
        if all(p.dense is not None for p in parts):
            dense = np.concatenate([p.dense for p in parts])[order]
        else:
            lexical = sp_vstack([p.lexical for p in parts]).tocsr()[order]
        return cls(call_ids=pick(call_ids), utterance_ids=pick([u for p in parts for u in p.utterance_ids]),
                   texts=pick([t for p in parts for t in p.texts]), claimed=pick([c for p in parts for c in p.claimed]),
                   similarity=pick([s for p in parts for s in p.similarity]),
                   norms=pick([n for p in parts for n in p.norms]), dense=dense, lexical=lexical)


def page_candidates(calls: Iterable[MinedCall], engine: CoachEngine, ordinary: Callable[[], OrdinaryAnswers],
                    encode: Callable[[list[str]], Features] | None = None) -> CandidateRows:
    """The debtor utterances of ``calls`` in ``engine``'s language that may be a topic, embedded (a
    page's share of the embedding work). ``ordinary`` is called only when there is something to sort.
    The calls' intents are ``engine``'s (:func:`coach.mining.claims.claimed_again`); ``encode`` as there."""
    pool = candidates(calls, engine.language)
    if not pool:
        return CandidateRows()
    features = (encode or engine.space.encode)([c.text for c in pool])
    keep = ~ordinary().mask(features)
    rows = np.flatnonzero(keep)
    kept = [pool[i] for i in rows]
    claims = [c.claimed for c in kept]
    dense = None if features.dense is None else np.asarray(features.dense)[rows]
    similarity = _claim_similarities(engine, dense, claims)
    return CandidateRows(call_ids=[c.call.call_id for c in kept], utterance_ids=[c.utterance_id for c in kept],
                         texts=[c.text for c in kept], claimed=claims,
                         similarity=similarity, norms=[features.norms[i] for i in rows], dense=dense,
                         lexical=features.lexical[rows] if dense is None else None)


def _claim_similarities(engine: CoachEngine, dense: np.ndarray | None, claims: list[str | None]) -> list[float | None]:
    """How near each claimed utterance is to the nearest of its intent's examples, measured here, in
    this engine's space (events stored by another engine, another model or the lexical fallback, are
    on another scale); None without a claim or an embedding model. One product per intent."""
    found: list[float | None] = [None] * len(claims)
    examples = engine.detector.example_features
    if dense is None or examples.dense is None:
        return found
    labels = np.array(engine.detector.labels)
    for intent in {c for c in claims if c is not None}:
        rows = [i for i, c in enumerate(claims) if c == intent]
        columns = np.flatnonzero(labels == intent)
        if len(columns):
            best = (np.asarray(dense[rows], dtype=np.float32) @ np.asarray(examples.dense[columns], dtype=np.float32).T).max(axis=1)
            for i, value in zip(rows, best):
                found[i] = round(float(value), 3)
    return found


@dataclass
class Clustering:
    """One language's clusters, largest first, and what no intent claims and no cluster gathered."""

    clusters: list[Cluster]
    unclustered: Unclustered | None


def cluster_candidates(language: str, rows: CandidateRows, calls: dict[str, MinedCall], weeks: list[str], *,
                       min_cluster_size: int = DEFAULT_MIN_CLUSTER_SIZE, deadline: Deadline | None = None) -> Clustering:
    """The clusters of one language's candidate utterances (every page's, in the calls' order; ``calls``
    by id). Density clustering is global: it runs where the rows are gathered."""
    deadline = deadline or Deadline(None)
    if len(rows) < min_cluster_size:
        return Clustering([], unclustered(language, rows, set()))
    pool = [Candidate(calls[call_id], utterance_id, text, claimed, similarity)
            for call_id, utterance_id, text, claimed, similarity
            in zip(rows.call_ids, rows.utterance_ids, rows.texts, rows.claimed, rows.similarity, strict=True)]
    vectors = _vectors(Features(rows.texts, rows.norms, rows.dense, rows.lexical), np.ones(len(rows), dtype=bool))
    labels = _density_labels(vectors, rows.norms, min_cluster_size)
    deadline.check("clustering")
    groups: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        if label >= 0:
            groups[int(label)].append(index)
    # first take out the members that belong to a known intent, then judge what is left: the edge
    # of a known topic must not hide a new one (nor make a known one look new)
    trimmed = (_without_known(members, pool, vectors) for members in groups.values())
    missed = [members for members in trimmed if len(members) >= min_cluster_size and not _known(pool[i] for i in members)]
    missed.sort(key=lambda members: (-len(members), members[0]))
    reported = {i for members in missed for i in members}
    background = [pool[i].text for i in range(len(pool)) if i not in reported]
    keywords = class_tfidf([[pool[i].text for i in members] for members in missed], language, background=background)
    clusters = [_cluster(f"{language}-{number}", language, [pool[i] for i in members], vectors[members], words, weeks)
                for number, (members, words) in enumerate(zip(missed, keywords), start=1)]
    return Clustering(clusters, unclustered(language, rows, reported))


def unclustered(language: str, rows: CandidateRows, gathered: set[int]) -> Unclustered | None:
    """The rows no intent claims, less those at ``gathered`` (in a reported cluster), in the calls'
    order; None when there are none. Unclaimed lines of a group that reads as a known topic stay in:
    on a few calls the groups are coarse, and a new question sits among the known ones."""
    left = [Member(call_id=rows.call_ids[i], utterance_id=rows.utterance_ids[i], text=rows.texts[i])
            for i in range(len(rows)) if rows.claimed[i] is None and i not in gathered]
    if not left:
        return None
    return Unclustered(language=language, count=len(left), examples=left[:UNCLUSTERED_SHOWN])


def _density_labels(vectors: np.ndarray, norms: list[str], min_cluster_size: int) -> np.ndarray:
    """A cluster label per utterance (-1: noise). The distinct wordings are clustered, not the
    utterances: a sentence said word for word in many calls ("can you send me that in writing") is
    one point, so clusters gather different wordings of one topic instead of copies of one phrase.
    A wording repeated ``min_cluster_size`` times or more that joined no cluster is a cluster of its own."""
    first: dict[str, int] = {}
    for row, norm in enumerate(norms):
        first.setdefault(norm, row)
    distinct = list(first.values())
    # HDBSCAN finds no structure among a few dozen points with a large minimum cluster size: with few
    # wordings the minimum shrinks (to MIN_WORDINGS); the size reported is still counted in utterances.
    wordings = max(MIN_WORDINGS, min(min_cluster_size, len(distinct) // 20))
    if len(distinct) > wordings:
        points = vectors[distinct]
        if len(distinct) > REDUCE_ABOVE and points.shape[1] > REDUCED_DIMENSIONS:
            # HDBSCAN's neighbour search grows with the square of the points in hundreds of dimensions
            # (6,000 wordings: 20 s); on a PCA projection it takes a second or two
            dimensions = min(REDUCED_DIMENSIONS, len(distinct) - 1)
            points = l2_normalize(PCA(dimensions, random_state=0).fit_transform(points))
        model = HDBSCAN(min_cluster_size=wordings, min_samples=2, copy=True).fit(points)
        # a point attached only at a cluster's edge (far from everything, so nearest to it) stays noise
        found = np.where(model.probabilities_ >= MIN_MEMBERSHIP, model.labels_, -1)
    else:
        found = np.full(len(distinct), -1)
    by_wording = {norm: int(label) for norm, label in zip(first, found)}
    repeats = Counter(norms)
    next_label = max(by_wording.values(), default=-1) + 1
    for norm, label in by_wording.items():
        if label < 0 and repeats[norm] >= min_cluster_size:
            by_wording[norm] = next_label
            next_label += 1
    return np.array([by_wording[norm] for norm in norms])


def _known(members) -> bool:
    members = list(members)
    if sum(1 for c in members if c.claimed) < KNOWN_SHARE * len(members):
        return False
    similarities = [c.similarity for c in members if c.claimed and c.similarity is not None]
    return not similarities or float(np.median(similarities)) >= KNOWN_SIMILARITY


def _without_known(rows: list[int], pool: list[Candidate], vectors: np.ndarray) -> list[int]:
    """The cluster less the members that belong to a known intent: a member an intent claimed leaves
    when it is nearer the other utterances that intent claimed (anywhere in the calls) than the
    cluster's unclaimed core. Density clustering can join the edge of a known topic ("i already paid
    that") to a new one ("will paying this come off my credit report"); the detector's own claim,
    checked against its other claims, tells them apart. Only other wordings count (the same sentence
    in other calls proves nothing), and a claim that is the intent's only wording stays: with nothing
    to compare it with, it is more likely a misreading than a topic."""
    core = [i for i in rows if pool[i].claimed is None] or rows
    centre = l2_normalize(vectors[core].mean(axis=0, keepdims=True))[0]
    kept = []
    for i in rows:
        intent = pool[i].claimed
        if intent is not None:
            others = [j for j, c in enumerate(pool) if c.claimed == intent and c.text != pool[i].text]
            if others:
                known = l2_normalize(vectors[others].mean(axis=0, keepdims=True))[0]
                if vectors[i] @ known > vectors[i] @ centre:
                    continue
        kept.append(i)
    return kept


def _vectors(features: Features, keep: np.ndarray) -> np.ndarray:
    """Unit-length embeddings of the kept rows, so Euclidean distance ranks like cosine similarity.
    Where the language has no embedding model (``COACH_EMBEDDING_MODEL_ZH=none``), the lexical
    vectors, reduced by truncated SVD (latent semantic analysis) rather than made dense at their tens of
    thousands of dimensions."""
    if features.dense is not None:
        return l2_normalize(np.asarray(features.dense)[keep].astype(np.float64))
    lexical = features.lexical[np.flatnonzero(keep)]
    dimensions = min(LEXICAL_DIMENSIONS, lexical.shape[0] - 1, lexical.shape[1] - 1)
    if dimensions < 2:
        return l2_normalize(lexical.toarray().astype(np.float64))
    return l2_normalize(TruncatedSVD(dimensions, random_state=0).fit_transform(lexical))


def _cluster(cluster_id: str, language: str, found: list[Candidate], vectors: np.ndarray, keywords: list[str],
             weeks: list[str]) -> Cluster:
    centre = vectors.mean(axis=0)
    representatives: list[str] = []
    for index in np.argsort(-(vectors @ centre), kind="stable"):
        text = found[int(index)].text
        if text not in representatives:
            representatives.append(text)
        if len(representatives) == REPRESENTATIVES:
            break
    per_week: dict[str, WeekTally] = {w: WeekTally(week=w) for w in weeks}
    for candidate in found:
        tally = per_week[candidate.call.week]
        tally.utterances += 1
        tally.utterance_refs.append(UtteranceRef(call_id=candidate.call.call_id, utterance_id=candidate.utterance_id))
        if candidate.call.call_id not in tally.call_ids:
            tally.call_ids.append(candidate.call.call_id)
            tally.calls += 1
    first_week = min(c.call.week for c in found)
    return Cluster(
        id=cluster_id, label=" / ".join(keywords[:LABEL_WORDS]) or representatives[0][:40], language=language,
        size=len(found), calls=len({c.call.call_id for c in found}), keywords=keywords,
        representatives=representatives, claimed=dict(Counter(c.claimed for c in found if c.claimed).most_common()),
        weekly=list(per_week.values()), first_week=first_week, new=len(weeks) > 1 and first_week == weeks[-1],
        members=[Member(call_id=c.call.call_id, utterance_id=c.utterance_id, text=c.text) for c in found],
    )

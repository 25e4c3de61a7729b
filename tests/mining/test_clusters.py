"""What the playbook misses: the planted credit-report questions form one cluster in each language;
greetings, identity answers and acknowledgements form none."""

from __future__ import annotations

from coach.mining.ordinary import OrdinaryAnswers
from tests.mining.calls import EN_ACKS, EN_IDENTITY, EN_PLANTED, ZH_ACKS, ZH_IDENTITY, ZH_PLANTED


def planted_cluster(mined, language, planted):
    clusters = [c for c in mined.clusters if c.language == language]
    return max(clusters, key=lambda c: sum(m.text in planted for m in c.members))


def test_the_planted_topic_is_one_cluster_with_most_of_its_utterances_and_little_else(mined):
    for language, planted, word in (("en", EN_PLANTED, "credit"), ("zh", ZH_PLANTED, "征信")):
        cluster = planted_cluster(mined, language, planted)
        found = sum(m.text in planted for m in cluster.members)
        assert found >= 0.8 * len(planted), (language, [m.text for m in cluster.members])
        assert found >= 0.8 * cluster.size, (language, [m.text for m in cluster.members])
        assert word in cluster.keywords[:3] and word in cluster.label
        assert cluster.size == len(cluster.members) and cluster.id.startswith(f"{language}-")
        assert all(r in {m.text for m in cluster.members} for r in cluster.representatives)
        assert sum(w.utterances for w in cluster.weekly) == cluster.size


def test_ordinary_answers_form_no_cluster(mined):
    ordinary = {t.split("{")[0].strip() for t in EN_IDENTITY + EN_ACKS + ZH_IDENTITY + ZH_ACKS}
    for cluster in mined.clusters:
        assert not any(m.text.startswith(tuple(ordinary)) and len(m.text) < 25 for m in cluster.members), cluster.label


def test_a_topic_first_heard_in_the_last_week_is_new(mined):
    zh = planted_cluster(mined, "zh", ZH_PLANTED)
    en = planted_cluster(mined, "en", EN_PLANTED)
    assert zh.new and zh.first_week == mined.window.weeks[-1]
    assert not en.new and en.first_week == "2026-W43"


def test_the_ordinary_answer_filter_on_its_own(en_engine, zh_engine):
    english = ["hello", "yeah this is dana", "speaking", "uh huh", "what is this about", "three zero three one six",
               "will paying this take it off my credit report", "my landlord is selling the building and i have to move"]
    mask = OrdinaryAnswers(en_engine).mask(en_engine.space.encode(english))
    assert mask.tolist() == [True] * 6 + [False] * 2
    chinese = ["喂 哪位", "是我", "嗯嗯", "好的 你说吧", "这个会不会影响我征信 我要买房的"]
    assert OrdinaryAnswers(zh_engine).mask(zh_engine.space.encode(chinese)).tolist() == [True] * 4 + [False]


def test_wordings_are_clustered_not_copies_and_a_phrase_said_often_is_a_cluster_of_its_own():
    import numpy as np

    from coach.mining.clusters import _density_labels

    rng = np.random.default_rng(0)

    def wordings(count: int) -> np.ndarray:  # ways of saying one thing: close to one direction
        return rng.normal(size=(1, 384)) + rng.normal(scale=0.05, size=(count, 384))

    said_often = np.repeat(wordings(8), 10, axis=0)     # 8 wordings, each in 10 calls
    said_once = wordings(6)                              # another topic: 6 wordings, once each
    lone = np.repeat(wordings(1), 6, axis=0)             # one sentence, word for word in 6 calls
    vectors = np.vstack([said_often, said_once, lone])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    norms = [f"often {i // 10}" for i in range(80)] + [f"once {i}" for i in range(6)] + ["lone"] * 6
    labels = _density_labels(vectors, norms, min_cluster_size=5)
    groups = {int(label): set(np.flatnonzero(labels == label)) for label in set(labels)}
    assert -1 not in groups
    assert sorted(map(sorted, groups.values())) == [list(range(80)), list(range(80, 86)), list(range(86, 92))]


def test_a_cluster_mostly_claimed_by_known_intents_is_not_news():
    from coach.mining.clusters import Candidate, _known

    def members(*claims):
        return [Candidate(None, i, "x", claim) for i, claim in enumerate(claims)]  # type: ignore[arg-type]

    assert _known(members("promise_to_pay", "refuse_to_pay", "promise_to_pay", None))   # a mix of known intents
    assert not _known(members(None, None, "time_barred", "hostile", None))              # mostly unclaimed


def test_a_topic_the_detector_pins_far_from_an_intents_examples_is_news(en_engine):
    """Questions of what a settlement does to a credit report read as settlement requests or payments
    made, confidently, but far from those intents' examples: a topic the playbook lacks. Payments
    said in other words than its examples stay known."""
    import numpy as np

    from coach.mining.clusters import LOW_CONFIDENCE, Candidate, _claim_similarities, _known
    from tests.conftest import of_type, run_call

    def members(lines):
        hints = [of_type(run_call(en_engine, [("debtor", line)]), "intent")[0] for line in lines]
        claims = [h.intent if h.confidence >= LOW_CONFIDENCE else None for h in hints]
        similarities = _claim_similarities(en_engine, np.asarray(en_engine.space.encode(lines).dense), claims)
        assert similarities == [h.evidence_similarity for h in hints]  # the engine's own nearness, measured again
        return [Candidate(None, n, line, claim, similarity)  # type: ignore[arg-type]
                for n, (line, claim, similarity) in enumerate(zip(lines, claims, similarities))]

    reporting = members(["will you delete the tradeline if i settle", "will you remove the negative mark after i pay",
                         "does settling update my report to zero balance", "will the bureaus show this as settled or paid"])
    assert all(m.claimed for m in reporting) and not _known(reporting)
    assert _known(members(["i paid that back in march", "i already sent the money last week",
                           "we cleared that balance months ago", "my wife paid it off already"]))


def test_without_an_embedding_model_the_lexical_vectors_are_reduced_not_made_dense(zh_engine):
    import numpy as np

    from coach.analyzers.features import Features
    from coach.mining.clusters import _vectors

    texts = ["这个会不会影响我征信", "征信上的逾期记录什么时候能消掉", "我上周已经还过了啊", "我最近失业了 真的没钱还"] * 5
    lexical = zh_engine.space.encode(texts)
    features = Features(lexical.texts, lexical.norms, None, lexical.lexical)
    keep = np.ones(len(texts), dtype=bool)
    vectors = _vectors(features, keep)
    assert vectors.shape[0] == len(texts) and vectors.shape[1] < lexical.lexical.shape[1]
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    similarity = vectors @ vectors.T
    assert similarity[0, 4] > 0.99 and similarity[0, 2] < similarity[0, 4]   # the same text, another text


def test_what_no_intent_claims_and_no_cluster_gathered_is_listed_as_not_yet_a_topic():
    """On a few calls a new objection is said two or three times: no cluster holds it, so it is
    listed (with a count) instead of the trainer reading "no candidate objections"."""
    from coach.mining.clusters import CandidateRows, unclustered

    rows = CandidateRows(call_ids=["c1", "c1", "c2", "c3"], utterance_ids=[3, 5, 2, 4],
                         texts=["will this show on my credit report", "i lost my job", "is it on my credit file",
                                "we already talked about this"],
                         claimed=[None, "cannot_afford", None, None], similarity=[None, 0.7, None, None],
                         norms=["a", "b", "c", "d"])
    left = unclustered("en", rows, {3})  # the last one is in a cluster (or a group the playbook covers)
    assert left is not None and left.count == 2
    assert [(m.call_id, m.utterance_id, m.text) for m in left.examples] == [
        ("c1", 3, "will this show on my credit report"), ("c2", 2, "is it on my credit file")]
    assert unclustered("en", CandidateRows(), set()) is None

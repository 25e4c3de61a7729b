"""What the playbook misses: the planted credit-report questions form one cluster in each language;
greetings, identity answers and acknowledgements form none."""

from __future__ import annotations

from coach.mining.ordinary import OrdinaryAnswers
from tests.mining.calls import EN_ACKS, EN_IDENTITY, EN_PLANTED, ZH_ACKS, ZH_IDENTITY, ZH_PLANTED


def planted_cluster(mined, language, planted):
    clusters = [c for c in mined.clusters if c.language == language]
    best = max(clusters, key=lambda c: sum(m.text in planted for m in c.members))
    return best, clusters


def test_the_planted_topic_is_one_cluster_with_most_of_its_utterances_and_little_else(mined):
    for language, planted, word in (("en", EN_PLANTED, "credit"), ("zh", ZH_PLANTED, "征信")):
        cluster, clusters = planted_cluster(mined, language, planted)
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
    zh, _ = planted_cluster(mined, "zh", ZH_PLANTED)
    en, _ = planted_cluster(mined, "en", EN_PLANTED)
    assert zh.new and zh.first_week == mined.window.weeks[-1]
    assert not en.new and en.first_week == "2026-W43"


def test_the_ordinary_answer_filter_on_its_own(en_engine, zh_engine):
    english = ["hello", "yeah this is dana", "speaking", "uh huh", "what is this about", "three zero three one six",
               "will paying this take it off my credit report", "my landlord is selling the building and i have to move"]
    mask = OrdinaryAnswers(en_engine).mask(en_engine.space.encode(english))
    assert mask.tolist() == [True] * 6 + [False] * 2
    chinese = ["喂 哪位", "是我", "嗯嗯", "好的 你说吧", "这个会不会影响我征信 我要买房的"]
    assert OrdinaryAnswers(zh_engine).mask(zh_engine.space.encode(chinese)).tolist() == [True] * 4 + [False]

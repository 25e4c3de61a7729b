"""Closing the loop: a cluster exported as a new intent or as more examples of one, into a playbook
that `coach playbook check` accepts; nothing is written when something is wrong."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from coach.cli import main
from coach.errors import InputError, InvalidPlaybookError
from coach.mining.export import export_cluster
from coach.playbook import load_playbook
from coach.playbook.loader import builtin_playbooks
from tests.mining.calls import EN_PLANTED, ZH_PLANTED

SAY = ("I understand. Paying this account is reported as paid, but I can't tell you how a bureau will score it: "
       "the bureau decides that. Would you like the payment options?")


def planted(mined, language, lines):
    return max((c for c in mined.clusters if c.language == language),
               key=lambda c: sum(m.text in lines for m in c.members))


@pytest.fixture(scope="module")
def small_en_engine(small_en_book):
    """The English playbook cut down (tests/conftest.py): `coach playbook check` fits the whole exported
    playbook, minutes for a shipped one on two cores and seconds for this; the shipped one's export is
    tested without the fit (tests/mining/test_cli_mine.py)."""
    from coach.engine import CoachEngine

    return CoachEngine(small_en_book)


def test_a_cluster_becomes_a_new_intent_that_playbook_check_accepts(mined, small_en_engine, tmp_path):
    cluster = planted(mined, "en", EN_PLANTED)
    out = tmp_path / "en-credit.yaml"
    result = export_cluster(cluster, small_en_engine, out, as_intent="credit_report", name="Credit report worries",
                            response=f"  {SAY} ", folds=3)
    book = load_playbook(out)
    intent = book.intent("credit_report")
    assert book.id == "small-en-mined" and book.id != small_en_engine.playbook.id
    assert intent.name == "Credit report worries" and len(intent.examples) == result.examples_added >= 15
    assert set(intent.examples) <= {m.text for m in cluster.members}
    assert intent.responses[0].text == SAY and intent.responses[0].principle == ""
    [todo] = result.todo
    assert todo.startswith("intents/credit_report/responses/0 has no principle")
    assert out.read_text(encoding="utf-8").startswith("# small-en-mined: small-en@")
    assert "credit_report" not in result.before.per_intent and "credit_report" in result.after.per_intent
    assert result.before.method == result.after.method == "3-fold cross-validated"
    # 3 folds of the cluster's 15+ examples leave ~10 to learn from, beside 16 of every intent in the cut-down
    # playbook: most held-out lines come back (0.94 now), against none before
    assert result.after.per_intent["credit_report"] >= 0.7
    assert len(book.intents) == len(small_en_engine.playbook.intents) + 1
    checked = CliRunner().invoke(main, ["playbook", "check", str(out), "--folds", "3"])
    assert checked.exit_code == 0, checked.output
    assert "valid playbook small-en-mined" in checked.output and "credit_report" in checked.output


def test_mining_again_with_the_exported_playbook_no_longer_lists_the_topic(mined, mined_store, small_en_engine, tmp_path):
    """The trainer's loop: export a cluster as an intent, mine with the new playbook (``--playbook``):
    the calls were reviewed with the old one, so the new intent claims its topic when mining."""
    from coach.engine import CoachEngine
    from coach.mining import mine

    def planted_clusters(result):
        return [c for c in result.clusters if sum(m.text in EN_PLANTED for m in c.members) >= len(c.members) / 2]

    before = mine(mined_store, engines={"en": small_en_engine})
    assert planted_clusters(before), "the cut-down playbook misses the credit-report topic too"
    out = tmp_path / "en-credit.yaml"
    export_cluster(planted(mined, "en", EN_PLANTED), small_en_engine, out, as_intent="credit_report",
                   name="Credit report worries", response=SAY, evaluate=False)
    exported = CoachEngine(load_playbook(out))
    after = mine(mined_store, engines={"en": exported})
    assert planted_clusters(after) == []
    # every part reads the calls with the new playbook: the intents table counts the new intent, and
    # what the agents answered it is tallied, though the stored reviews never heard of it
    [credit] = [f for f in after.intents if f.intent == "credit_report"]
    assert credit.name == "Credit report worries" and credit.calls >= 5
    assert "credit_report" not in {f.intent for f in before.intents}
    assert "credit_report" in {r.intent for r in after.responses}


def test_a_cluster_adds_examples_to_an_existing_intent(mined, zh_engine, tmp_path):
    cluster = planted(mined, "zh", ZH_PLANTED)
    out = tmp_path / "zh.yaml"
    result = export_cluster(cluster, zh_engine, out, into_intent="request_validation", playbook_id="zh-credit",
                            evaluate=False)
    book = load_playbook(out)
    before = zh_engine.playbook.intent("request_validation").examples
    assert book.intent("request_validation").examples[: len(before)] == before
    assert len(book.intent("request_validation").examples) == len(before) + result.examples_added
    assert result.action == "more_examples" and result.before is None and book.id == "zh-credit"
    # the same export edited into the shipped file keeps its comments and gives the same playbook
    source = builtin_playbooks()["zh-CN-bank-collections"]
    kept = tmp_path / "zh-kept.yaml"
    export_cluster(cluster, zh_engine, kept, into_intent="request_validation", playbook_id="zh-credit",
                   evaluate=False, source=source)
    written = kept.read_text(encoding="utf-8")
    assert all(line.strip() in written for line in source.read_text(encoding="utf-8").splitlines()
               if line.strip().startswith("#"))
    assert load_playbook(kept).model_dump() == book.model_dump()


def test_bad_exports_say_why_and_write_nothing(mined, en_engine, zh_engine, tmp_path):
    cluster = planted(mined, "en", EN_PLANTED)
    out = tmp_path / "x.yaml"
    cases = [
        ({"as_intent": "Credit Report", "response": SAY}, "not an intent id"),
        ({"as_intent": "cannot_afford", "response": SAY}, "already has an intent"),
        ({"into_intent": "no_such_intent"}, "has no intent"),
        ({}, "one of the two"),
        ({"as_intent": "a", "into_intent": "cannot_afford"}, "one of the two"),
    ]
    for options, message in cases:
        with pytest.raises(InputError, match=message):
            export_cluster(cluster, en_engine, out, evaluate=False, **options)
    with pytest.raises(InputError, match="is in 'en' but playbook"):
        export_cluster(cluster, zh_engine, out, as_intent="credit_report", response=SAY, evaluate=False)
    with pytest.raises(InvalidPlaybookError, match="id"):  # the patched playbook would not validate
        export_cluster(cluster, en_engine, out, as_intent="credit_report", response=SAY, playbook_id="bad/id",
                       evaluate=False)
    shipped = builtin_playbooks()["en-US-collections"]
    before = shipped.read_bytes()
    with pytest.raises(InputError, match="shipped playbook"):
        export_cluster(cluster, en_engine, shipped, as_intent="credit_report", response=SAY, evaluate=False)
    assert shipped.read_bytes() == before
    assert list(tmp_path.iterdir()) == []
    out.write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="already exists"):
        export_cluster(cluster, en_engine, out, as_intent="credit_report", response=SAY, evaluate=False)
    assert out.read_text(encoding="utf-8") == "mine"
    folder = tmp_path / "patches.yaml"
    folder.mkdir()
    with pytest.raises(InputError, match="is a folder"):  # --overwrite or not
        export_cluster(cluster, en_engine, folder, as_intent="credit_report", response=SAY, evaluate=False,
                       overwrite=True)


def test_a_cluster_too_small_for_an_intent_can_still_add_examples(mined, en_engine, tmp_path):
    cluster = planted(mined, "en", EN_PLANTED).model_copy()
    cluster.members = cluster.members[:8]
    with pytest.raises(InputError, match="needs at least 15"):
        export_cluster(cluster, en_engine, tmp_path / "small.yaml", as_intent="credit_report", response=SAY,
                       evaluate=False)
    result = export_cluster(cluster, en_engine, tmp_path / "small.yaml", into_intent="time_barred", evaluate=False)
    assert result.examples_added == 8


def test_a_new_intent_without_what_to_say_is_refused_and_nothing_is_written(mined, en_engine, tmp_path):
    """A placeholder response would reach agents on live calls: the export asks for the words instead."""
    cluster = planted(mined, "en", EN_PLANTED)
    out = tmp_path / "en-credit.yaml"
    for response in (None, "", "   "):
        with pytest.raises(InputError, match="needs what the agent should say") as refused:
            export_cluster(cluster, en_engine, out, as_intent="credit_report", response=response, evaluate=False)
        assert "--response" in str(refused.value) and "--into-intent" in refused.value.hint
    # a placeholder given as the response: the playbook does not validate, so nothing is written
    with pytest.raises(InvalidPlaybookError) as invalid:
        export_cluster(cluster, en_engine, out, as_intent="credit_report", response="TODO: ask legal what to say",
                       evaluate=False)
    [(field, message)] = invalid.value.problems
    assert field.endswith(".responses.0.text") and message.startswith("starts with TODO")
    assert list(tmp_path.iterdir()) == []
    # with the words and why they work, nothing is left to do
    result = export_cluster(cluster, en_engine, out, as_intent="credit_report", response=SAY,
                            principle="Answer the worry honestly, then bring the call back to a plan.", evaluate=False)
    assert result.todo == [] and load_playbook(out).intent("credit_report").responses[0].principle.startswith("Answer")

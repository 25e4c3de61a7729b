"""The call store on real databases: what coaches and the API rely on."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timezone

import pytest

from coach.config import Settings
from coach.errors import InputError, NotFoundError, StorageError
from coach.storage import CallFilter, CallStore, NewCall, Viewer
from coach.transcript import load_call
from tests.conftest import run_call

CARD = "4111 1111 1111 1111"


@pytest.fixture(scope="module")
def violations_events(en_engine):
    call = load_call("examples/en-violations.json")
    return list(en_engine.analyze(call))


@pytest.fixture(scope="module")
def hardship_events(en_engine):
    return list(en_engine.analyze(load_call("examples/en-hardship.json")))


def new_call(call_id: str, **extra) -> NewCall:
    base = {"language": "en", "playbook": "en-US-collections@1", "source": "cli"}
    return NewCall(call_id=call_id, **(base | extra))


def test_a_reviewed_call_round_trips(store, violations_events):
    store.save_call(new_call("v1", agent_id="a7", team="north"), violations_events,
                    outcome={"kind": "refusal"}, summary="Debtor refused.")
    detail = store.get_call("v1")
    utterances = [e for e in violations_events if e.type == "utterance"]
    assert [u.utterance_id for u in detail.utterances] == [e.utterance_id for e in utterances]
    assert detail.status == "complete" and detail.outcome == "refusal" and detail.summary == "Debtor refused."
    compliance = [e for e in violations_events if e.type == "compliance"]
    assert detail.violation_count == len(compliance) > 0
    assert detail.worst_severity == min(e.severity for e in compliance)
    stored = store.events("v1")
    assert [e["type"] for e in stored] == [e.type for e in violations_events]
    assert store.scorecard("v1")["score"] == detail.score is not None
    assert [e["rule_id"] for e in store.events("v1", types=["compliance"])] == [e.rule_id for e in compliance]


def test_lists_filter_by_agent_team_language_violation_outcome_and_date(store, violations_events, hardship_events):
    store.save_call(new_call("v1", agent_id="a7", team="north", started_at=datetime(2026, 11, 2, 15, tzinfo=timezone.utc)),
                    violations_events, outcome={"kind": "refusal"})
    store.save_call(new_call("h1", agent_id="a8", team="south", started_at=datetime(2026, 11, 9, 15, tzinfo=timezone.utc)),
                    hardship_events, outcome={"kind": "promise_to_pay"})

    def ids(**filters) -> list[str]:
        return sorted(c.id for c in store.list_calls(CallFilter(**filters)))

    assert ids() == ["h1", "v1"]
    assert ids(agent_id="a7") == ["v1"]
    assert ids(team="south") == ["h1"]
    assert ids(language="zh") == []
    rule = next(e.rule_id for e in violations_events if e.type == "compliance")
    assert ids(violation=rule) == ["v1"]
    assert ids(violation=rule.lower()) == ["v1"]  # typed in lower case (rule ids are upper case)
    assert ids(violation="s1") == (["v1"] if any(e.type == "compliance" and e.severity == "S1" for e in violations_events) else [])
    assert ids(outcome="promise_to_pay") == ["h1"]
    assert ids(date_from=date(2026, 11, 5)) == ["h1"]
    assert ids(date_to=date(2026, 11, 5)) == ["v1"]
    assert len(store.list_calls(CallFilter(limit=1))) == 1


def test_lists_show_calls_newest_first_by_when_they_took_place(store, hardship_events):
    """An imported call from March sits among March's calls, not among the day it was stored; a call
    whose start is not known counts from when it was stored."""
    store.save_call(new_call("nov", started_at=datetime(2026, 11, 20, 9, tzinfo=timezone.utc)), hardship_events)
    store.save_call(new_call("march", started_at=datetime(2026, 3, 2, 9, tzinfo=timezone.utc)), hardship_events)
    store.save_call(new_call("unknown"), hardship_events)  # stored now, after November
    assert [c.id for c in store.list_calls()] == ["unknown", "nov", "march"]
    assert [c.id for page in store.call_pages(page_size=2) for c in page] == ["unknown", "nov", "march"]


def test_agents_see_their_calls_coaches_their_team_trainers_all(store, violations_events, hardship_events):
    store.save_call(new_call("v1", agent_id="a7", team="north"), violations_events)
    store.save_call(new_call("h1", agent_id="a8", team="south"), hardship_events)
    agent = Viewer(name="ann", role="agent", agent_id="a7", team="north")
    coach = Viewer(name="cho", role="coach", team="south")
    trainer = Viewer(name="tom", role="trainer")
    assert [c.id for c in store.list_calls(viewer=agent)] == ["v1"]
    assert [c.id for c in store.list_calls(viewer=coach)] == ["h1"]
    assert sorted(c.id for c in store.list_calls(viewer=trainer)) == ["h1", "v1"]
    with pytest.raises(NotFoundError):
        store.get_call("h1", viewer=agent)
    with pytest.raises(NotFoundError):
        store.events("v1", viewer=coach)
    assert store.get_call("h1", viewer=coach).id == "h1"


def test_an_agent_of_one_team_does_not_see_another_teams_agent_with_the_same_id(store, violations_events):
    """Agent ids are chosen by each team: b22 of south must not see north's b22 (or a call a north
    coach filed under that id). A call filed under no team is still the agent's."""
    store.save_call(new_call("north-b22", agent_id="b22", team="north"), violations_events)
    store.save_call(new_call("south-b22", agent_id="b22", team="south"), violations_events)
    store.save_call(new_call("teamless-b22", agent_id="b22"), violations_events)
    south_agent = Viewer(name="b22", role="agent", agent_id="b22", team="south")
    assert sorted(c.id for c in store.list_calls(viewer=south_agent)) == ["south-b22", "teamless-b22"]
    with pytest.raises(NotFoundError):
        store.get_call("north-b22", viewer=south_agent)
    # a token made without --team is no key to every team's b22 (an attacker read north's and south's calls)
    teamless_agent = Viewer(name="b22", role="agent", agent_id="b22")
    assert [c.id for c in store.list_calls(viewer=teamless_agent)] == ["teamless-b22"]


def test_a_live_call_is_kept_batch_by_batch_even_if_it_never_finishes(store, en_engine):
    events = run_call(en_engine, [("agent", "Hi, this is Sam from Acme Recovery."), ("debtor", "I already paid this last month."),
                                  ("agent", "Thanks, let me check that for you.")], call_id="live1")
    store.begin_call(new_call("live1", source="live"))
    body = [e for e in events if e.type != "scorecard"]
    store.append_events("live1", body[:3])
    store.append_events("live1", body[3:])
    # the connection drops here: no finish
    detail = store.get_call("live1")
    assert detail.status == "live"
    assert len(detail.utterances) == 3
    assert [e["type"] for e in store.events("live1")] == [e.type for e in body]
    store.append_events("live1", [e for e in events if e.type == "scorecard"])
    store.finish_call("live1", status="interrupted", outcome={"kind": "dispute"}, summary="s")
    detail = store.get_call("live1")
    assert detail.status == "interrupted" and detail.score is not None and detail.outcome == "dispute"


def test_the_same_file_is_recognised_and_ids_are_unique(store, hardship_events):
    store.save_call(new_call("h1", content_hash="ab" * 32), hardship_events)
    assert store.find_by_hash("ab" * 32) == "h1"
    assert store.find_by_hash("cd" * 32) is None
    with pytest.raises(InputError, match="already stored"):
        store.save_call(new_call("h1"), hardship_events)
    with pytest.raises(InputError, match="already stored"):
        store.begin_call(new_call("h1", source="live"))


def _failing_at_the_fifth_event(monkeypatch, error: Exception) -> None:
    """Writes fail half-way through a call's events, with ``error``."""
    from coach.storage import store as store_module

    calls = {"n": 0}
    real = store_module.Redactor.redact

    def failing(self, event):
        calls["n"] += 1
        if calls["n"] == 5:
            raise error
        return real(self, event)

    monkeypatch.setattr(store_module.Redactor, "redact", failing)


def _kept_audio(settings, name: str, content: bytes = b"fLaC"):
    """A recording kept for the review page's player, as ``audio/<name>`` in the data folder."""
    audio = settings.data_dir / "audio" / name
    audio.parent.mkdir(parents=True, exist_ok=True)
    audio.write_bytes(content)
    return audio


def test_a_failed_write_leaves_nothing_half_written(store, hardship_events, monkeypatch):
    _failing_at_the_fifth_event(monkeypatch, RuntimeError("disk full"))
    with pytest.raises(RuntimeError):
        store.save_call(new_call("h1"), hardship_events)
    with pytest.raises(NotFoundError):
        store.get_call("h1")
    assert store.list_calls() == []


def test_personal_data_is_masked_before_it_is_stored(store, en_engine):
    events = run_call(en_engine, [("agent", "Can I have the card number please?"), ("debtor", f"sure it is {CARD}")])
    store.save_call(new_call("p1"), events)
    detail = store.get_call("p1")
    assert "1111 1111 1111 1111" not in detail.utterances[1].text and "1111" in detail.utterances[1].text
    assert not any("4111 1111" in str(e) for e in store.events("p1"))
    assert [r.kind for r in detail.redactions if r.field == "utterance.text"] == ["card"]
    assert all(CARD.replace(" ", "") not in r.digest for r in detail.redactions)


def test_redaction_can_be_switched_off(database_url, tmp_path, en_engine):
    store = CallStore(database_url, Settings(data_dir=tmp_path, redact_pii=False))
    events = run_call(en_engine, [("debtor", f"my card is {CARD}")])
    store.save_call(new_call("p2"), events)
    assert CARD in store.get_call("p2").utterances[0].text
    store.close()


def test_notes_attach_to_a_call_or_an_utterance(store, hardship_events):
    store.save_call(new_call("h1", team="south"), hardship_events)
    store.add_note("h1", "Good empathy here", author="cho", utterance_id=2)
    store.add_note("h1", "Overall solid call", author="cho")
    notes = store.notes("h1")
    assert [(n.utterance_id, n.text, n.author) for n in notes] == [(2, "Good empathy here", "cho"), (None, "Overall solid call", "cho")]
    with pytest.raises(NotFoundError):
        store.add_note("h1", "x", author="cho", utterance_id=9999)
    with pytest.raises(InputError):
        store.add_note("h1", "   ", author="cho")
    with pytest.raises(NotFoundError):
        store.add_note("nope", "x", author="cho")
    with pytest.raises(NotFoundError):
        store.add_note("h1", "x", author="ann", viewer=Viewer(name="ann", role="agent", agent_id="a1"))


def test_tokens_are_stored_hashed_and_can_be_revoked(store):
    secret, record = store.create_token("cho", "coach", team="south")
    assert record.role == "coach" and secret.startswith("coach_")
    viewer = store.authenticate(secret)
    assert viewer == Viewer(name="cho", role="coach", agent_id=None, team="south")
    assert store.authenticate(secret + "x") is None
    with store._read() as session:  # noqa: SLF001  (the raw table: no secret in it)
        from sqlalchemy import select

        from coach.storage.tables import TokenRow

        assert all(secret not in (row.token_hash, row.name) for row in session.scalars(select(TokenRow)))
    store.revoke_token("cho")
    assert store.authenticate(secret) is None
    with pytest.raises(InputError):
        store.create_token("x", "agent")  # an agent token needs an agent id
    with pytest.raises(InputError):
        store.create_token("y", "boss")


def test_an_unreachable_database_is_a_clear_error():
    with pytest.raises(StorageError, match="cannot reach the database") as error:
        CallStore("postgresql+psycopg://coach:secret@127.0.0.1:1/coach")
    assert "secret" not in str(error.value)
    with pytest.raises(StorageError, match="invalid database URL"):
        CallStore("not a url")


def test_a_database_folder_that_cannot_be_made_is_a_clear_error(tmp_path):
    """A file where the database's folder should be: a StorageError naming it (the server then starts
    with storage unavailable, the CLI prints one line), not a NotADirectoryError traceback."""
    (tmp_path / "afile").write_text("not a folder")
    with pytest.raises(StorageError, match="cannot create the database folder") as error:
        CallStore(f"sqlite:///{tmp_path}/afile/inner/coach.db")
    assert error.value.hint and "COACH_DATABASE_URL" in error.value.hint


def test_a_locked_sqlite_database_is_a_clear_error_and_writes_nothing(tmp_path, hardship_events, monkeypatch):
    from coach.storage import database

    monkeypatch.setattr(database, "SQLITE_BUSY_SECONDS", 0.2)
    path = tmp_path / "coach.db"
    store = CallStore(f"sqlite:///{path}", Settings(data_dir=tmp_path))
    blocker = sqlite3.connect(path, timeout=0.1)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StorageError, match="locked"):
            store.save_call(new_call("h1"), hardship_events)
    finally:
        blocker.rollback()
        blocker.close()
    assert store.list_calls() == []
    store.close()


@pytest.mark.filterwarnings("ignore:.*expression-based index:UserWarning", "ignore:.*expression-based index")
def test_migrations_match_the_tables(database_url):
    """A schema change without a migration fails here, before it reaches a user's database."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from coach.storage.tables import Base

    store = CallStore(database_url)
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    store.close()
    assert diff == []


def test_the_outcome_quote_is_masked_too(store, en_engine):
    events = run_call(en_engine, [("debtor", f"i will pay with my card {CARD} on friday")])
    outcome = {"kind": "promise_to_pay", "evidence": f"i will pay with my card {CARD} on friday", "utterance_id": 0,
               "due_text": "friday"}
    store.save_call(new_call("p3"), events, outcome=outcome)
    detail = store.get_call("p3")
    assert "1111 1111 1111" not in detail.outcome_detail["evidence"] and detail.outcome_detail["due_text"] == "friday"
    assert any(r.field == "outcome.evidence" and r.kind == "card" for r in detail.redactions)


def test_deleting_a_call_deletes_its_kept_audio(store, settings, hardship_events):
    audio = _kept_audio(settings, "abc.flac")
    store.save_call(new_call("h1", audio_path="audio/abc.flac"), hardship_events)
    store.delete_call("h1")
    assert not audio.exists()
    with pytest.raises(NotFoundError):
        store.get_call("h1")


def test_times_keep_their_zone_and_filter_the_same_on_every_database(store, hardship_events):
    from datetime import timedelta

    shanghai = timezone(timedelta(hours=8))
    store.save_call(new_call("z1", started_at=datetime(2026, 1, 2, 1, 0, tzinfo=shanghai)), hardship_events)
    detail = store.get_call("z1")
    assert detail.started_at == datetime(2026, 1, 1, 17, 0, tzinfo=timezone.utc)
    assert [c.id for c in store.list_calls(CallFilter(date_to=date(2026, 1, 1)))] == ["z1"]


def _shifted(events, seconds: float):
    """The same call transcribed again with every utterance ``seconds`` later (a review in another
    language: the same moments, cut a little differently)."""
    return [e.model_copy(update={"start": e.start + seconds, "end": e.end + seconds}) if e.type == "utterance" else e
            for e in events]


def test_a_review_replacing_another_keeps_its_notes_and_audio_in_one_step(store, settings, hardship_events):
    audio = _kept_audio(settings, "abc.flac")
    store.save_call(new_call("h1", content_hash="ab" * 32, audio_path="audio/abc.flac"), hardship_events)
    spoken = store.get_call("h1").utterances
    store.add_note("h1", "Good empathy here", author="cho", utterance_id=2)
    store.add_note("h1", "Overall solid call", author="cho")

    store.save_call(new_call("h1", language="zh", content_hash="ab" * 32, audio_path="audio/abc.flac"),
                    _shifted(hardship_events, 0.2), replacing="h1")
    again = store.get_call("h1")
    assert again.language == "zh" and audio.exists()  # the same file's audio, still there for the player
    assert [(n.utterance_id, n.text, n.author) for n in store.notes("h1")] == [
        (2, "Good empathy here", "cho"), (None, "Overall solid call", "cho")]
    assert spoken[2].start != again.utterances[2].start
    assert store.find_by_hash("ab" * 32) == "h1"


def test_a_note_follows_the_moment_it_was_on_to_the_new_review(store, hardship_events):
    store.save_call(new_call("h1", content_hash="ab" * 32), hardship_events)
    store.add_note("h1", "listen to this", author="cho", utterance_id=1)
    later = store.get_call("h1").utterances[1]
    # the new transcription split the call differently: the old utterance 1 is now utterance 3
    renumbered = [e.model_copy(update={"utterance_id": e.utterance_id + 2}) if e.utterance_id is not None else e
                  for e in hardship_events]
    store.save_call(new_call("h2", content_hash="ab" * 32), renumbered, replacing="h1")
    assert not store.has_call("h1")
    (note,) = store.notes("h2")
    assert note.utterance_id == 3 and store.get_call("h2").utterances[1].start == later.start


def test_a_replacement_that_fails_keeps_the_earlier_review_whole(store, settings, hardship_events, monkeypatch):
    audio = _kept_audio(settings, "abc.flac")
    store.save_call(new_call("h1", content_hash="ab" * 32, audio_path="audio/abc.flac"), hardship_events)
    store.add_note("h1", "Overall solid call", author="cho")
    store.save_call(new_call("taken"), hardship_events)
    before = store.get_call("h1")

    with pytest.raises(InputError, match="already stored"):  # the user's mistake: an id another call has
        store.save_call(new_call("taken", content_hash="ab" * 32), hardship_events, replacing="h1")

    _failing_at_the_fifth_event(monkeypatch, StorageError("the database went away"))
    with pytest.raises(StorageError):
        store.save_call(new_call("h2", language="zh", content_hash="ab" * 32), hardship_events, replacing="h1")
    assert store.get_call("h1") == before and audio.exists()
    assert [n.text for n in store.notes("h1")] == ["Overall solid call"]
    assert not store.has_call("h2")
    with pytest.raises(NotFoundError):
        store.save_call(new_call("h3"), hardship_events, replacing="gone")


def test_a_note_with_no_new_utterance_at_its_moment_stays_on_the_call_and_says_where_it_was(store, settings):
    from coach.events import UtteranceEvent

    def spoken(call_id: str, times: list[tuple[float, float]]) -> list[UtteranceEvent]:
        return [UtteranceEvent(call_id=call_id, utterance_id=i, speaker="agent", text=f"line {i}", start=start, end=end)
                for i, (start, end) in enumerate(times)]

    old_audio = _kept_audio(settings, "old.wav", b"RIFF")
    store.save_call(new_call("m1", content_hash="ab" * 32, audio_path="audio/old.wav"),
                    spoken("m1", [(0, 2), (10, 12), (30, 32)]))
    store.add_note("m1", "threat here", author="cho", utterance_id=1)
    store.add_note("m1", "good close", author="cho", utterance_id=2)
    # the new cut heard nothing at 10-12 s, and its last utterance starts just after the old one ends
    store.save_call(new_call("m1", content_hash="ab" * 32), spoken("m1", [(0, 2), (20, 25), (32.5, 34)]), replacing="m1")
    assert [(n.utterance_id, n.text) for n in store.notes("m1")] == [(None, "[at 10.0 s] threat here"), (2, "good close")]
    assert not old_audio.exists()  # the new review keeps no audio of it: the earlier one's file goes


def test_a_replacement_waits_for_an_admin_deleting_the_earlier_review_and_brings_nothing_back(
        store, database_url, settings, hardship_events):
    import threading

    from sqlalchemy import event

    store.save_call(new_call("h1", content_hash="ab" * 32), hardship_events)
    store.add_note("h1", "private note", author="cho")
    admin, reviewer = CallStore(database_url, settings, create=False), CallStore(database_url, settings, create=False)
    deleting, go = threading.Event(), threading.Event()

    @event.listens_for(admin._sessions, "after_flush")
    def pause(session, context):  # the admin's delete is sent, not yet committed
        deleting.set()
        go.wait(10)

    outcome = {}

    def replace():
        try:
            reviewer.save_call(new_call("h1", language="zh", content_hash="ab" * 32), hardship_events, replacing="h1")
            outcome["replace"] = "stored"
        except NotFoundError:
            outcome["replace"] = "not found"

    deleter = threading.Thread(target=admin.delete_call, args=("h1",))
    deleter.start()
    assert deleting.wait(10)
    replacer = threading.Thread(target=replace)
    replacer.start()
    replacer.join(1.0)
    assert replacer.is_alive()  # waits on the admin's transaction instead of reading around it
    go.set()
    deleter.join(10)
    replacer.join(30)
    assert outcome == {"replace": "not found"} and not store.has_call("h1")
    admin.close()
    reviewer.close()

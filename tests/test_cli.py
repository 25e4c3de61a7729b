"""The command line as a user runs it: real processes, exit codes, no tracebacks for user mistakes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from conftest import EXAMPLES, ROOT, write_call


def coach(*args, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "coach.cli", *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def test_analyze_jsonl_events():
    result = coach("analyze", EXAMPLES / "zh-hardship.json", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert all({"type", "call_id", "utterance_id"} <= set(e) for e in events)
    types = {e["type"] for e in events}
    assert {"utterance", "sentiment", "intent", "scorecard"} <= types
    intent = next(e for e in events if e["type"] == "intent")
    assert {"intent", "confidence", "evidence", "suggestions"} <= set(intent)
    assert {"text", "stage", "ref"} <= set(intent["suggestions"][0])


def test_analyze_text_timeline():
    result = coach("analyze", EXAMPLES / "en-violations.json")
    assert result.returncode == 0, result.stderr
    assert "US-THREAT" in result.stdout and "QA scorecard" in result.stdout and "evidence:" in result.stdout


@pytest.mark.parametrize(
    "content,needle",
    [("", "empty"), ("{not json", "not valid JSON"), ('{"call_id": "x", "language": "en", "utterances": [{"speaker": "alien", "text": "hi", "start": 0, "end": 1}]}', "unknown speaker")],
)
def test_bad_transcripts_exit_2_without_traceback(tmp_path, content, needle):
    path = tmp_path / "call.json"
    path.write_text(content)
    result = coach("analyze", path)
    assert result.returncode == 2
    assert needle in result.stderr and "Traceback" not in result.stderr


def test_missing_file_exit_2():
    result = coach("analyze", "/nonexistent/call.json")
    assert result.returncode == 2 and "not found" in result.stderr


def test_invalid_playbook_exit_3(tmp_path):
    call = write_call(tmp_path / "c.json", [{"speaker": "agent", "text": "hi", "start": 0, "end": 1}])
    book = tmp_path / "book.yaml"
    book.write_text(yaml.safe_dump({"id": "x", "version": "1", "language": "en"}))
    result = coach("analyze", call, "--playbook", book)
    assert result.returncode == 3 and "invalid playbook" in result.stderr and "Traceback" not in result.stderr


def test_unknown_playbook_exit_3(tmp_path):
    call = write_call(tmp_path / "c.json", [{"speaker": "agent", "text": "hi", "start": 0, "end": 1}])
    result = coach("analyze", call, "--playbook", "martian-collections")
    assert result.returncode == 3 and "en-US-collections" in result.stderr


def test_unavailable_model_exit_4_fast(tmp_path):
    import os
    import time

    call = write_call(tmp_path / "c.json", [{"speaker": "agent", "text": "hi", "start": 0, "end": 1}])
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "coach.cli", "analyze", str(call)], capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "COACH_EMBEDDING_MODEL_EN": "some-org/not-on-this-machine"},
    )
    assert result.returncode == 4 and "downloads are off" in result.stderr
    assert time.monotonic() - started < 60


def test_playbook_list():
    result = coach("playbook", "list")
    assert result.returncode == 0 and "en-US-collections" in result.stdout and "zh-CN-bank-collections" in result.stdout


def test_playbook_check_reports_per_intent_accuracy_and_fails_below_min_accuracy():
    result = coach("playbook", "check", "zh-CN-bank-collections", "--folds", "3", "--min-accuracy", "1.0")
    assert "valid playbook" in result.stdout and "cannot_afford" in result.stdout and "overall" in result.stdout
    assert result.returncode == 1 and "below" in result.stderr and "Traceback" not in result.stderr


def test_installed_playbooks_are_listed_and_checked_by_id(tmp_path):
    import os

    from tests import yaml_io

    data = yaml_io.shipped_playbook("en-US-collections")
    data.update({"id": "acme", "version": "9.9.9"})
    data["rules"][12]["trigger"]["unless"] = [r"\b(not|no)(\s+\w+)*\s*$", r"(\w+\s?)+$"]
    (tmp_path / "acme.yaml").write_text(yaml_io.dump(data), encoding="utf-8")
    (tmp_path / "junk.yaml").write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    env = {**os.environ, "COACH_PLAYBOOK_DIR": str(tmp_path)}
    listed = subprocess.run([sys.executable, "-m", "coach.cli", "playbook", "list"], capture_output=True, text=True,
                            cwd=ROOT, env=env, timeout=300)
    assert "en-US-collections  v1" in listed.stdout and "shipped" in listed.stdout
    assert "acme  invalid" in listed.stdout and "junk  invalid ((file): not a playbook" in listed.stdout
    assert "/root" not in listed.stdout
    checked = subprocess.run([sys.executable, "-m", "coach.cli", "playbook", "check", "acme"], capture_output=True,
                             text=True, cwd=ROOT, env=env, timeout=300)
    assert checked.returncode == 3 and "acme.yaml" in checked.stderr
    assert "rules.12.trigger.unless.1: can backtrack catastrophically: nested quantifiers" in checked.stderr

def test_integration_tokens_and_purging_demo_calls():
    import uuid

    from coach.storage import CallStore, NewCall

    name = f"dialer-{uuid.uuid4().hex[:6]}"
    result = coach("token", "create", name, "--role", "integration", "--team", "east")
    assert result.returncode == 0 and result.stdout.startswith("coach_"), result.stderr
    store = CallStore.from_settings()
    assert store.authenticate(result.stdout.strip()).role == "integration"
    base = {"language": "en", "playbook": "en-US-collections@1"}
    store.save_call(NewCall(call_id=f"{name}-sample", source="demo", **base), [])
    store.save_call(NewCall(call_id=f"{name}-real", source="live", **base), [])
    result = coach("calls", "purge-demo")
    assert result.returncode == 0 and "demo call(s)" in result.stderr, result.stderr
    assert not store.has_call(f"{name}-sample") and store.has_call(f"{name}-real")
    store.close()


@pytest.mark.parametrize("variable,value,needle", [
    ("COACH_EMBEDDING_WEIGHTS", "int4", "'auto', 'int8' or 'float32'"),
    ("COACH_TORCH_THREADS", "many", "valid integer"),
])
def test_a_setting_the_product_does_not_accept_is_a_clear_error(variable, value, needle):
    """A mistyped environment variable names itself and what it may hold: exit 5, no traceback."""
    import os

    result = subprocess.run([sys.executable, "-m", "coach.cli", "analyze", str(EXAMPLES / "en-hardship.json")],
                            capture_output=True, text=True, timeout=120, cwd=ROOT, env={**os.environ, variable: value})
    assert result.returncode == 5, result.stderr
    assert f"invalid setting: {variable}={value!r}" in result.stderr and needle in result.stderr
    assert "Traceback" not in result.stderr and "Configuration" in result.stderr


def test_a_mining_setting_the_product_does_not_accept_is_a_clear_error(tmp_path):
    import os

    env = {**os.environ, "COACH_MINING_MAX_CALLS": "lots", "COACH_DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "coach.cli", "mine"], capture_output=True, text=True, timeout=120,
                            cwd=ROOT, env=env)
    assert result.returncode == 5, result.stderr
    assert "COACH_MINING_MAX_CALLS='lots'" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("speed", ["fast", "0", "-1", "nan", "inf"])
def test_replay_speed_that_is_not_a_pace_is_a_usage_error_before_connecting(speed):
    from click.testing import CliRunner

    from coach.cli import main

    # No server listens on port 9: the error must come from the option, before any connection.
    result = CliRunner().invoke(main, ["replay", str(EXAMPLES / "audio" / "en-short-call.flac"), "--speed", speed,
                                       "--server", "ws://127.0.0.1:9/v1/stream"])
    assert result.exit_code == 2, result.output
    assert "--speed" in result.output and "max" in result.output and "above 0" in result.output
    assert not isinstance(result.exception, ValueError) and "Traceback" not in result.output


@pytest.mark.parametrize("speed,pace", [("max", None), ("MAX", None), ("1", 1.0), ("0.5", 0.5), ("4", 4.0)])
def test_replay_speed_accepts_numbers_and_max(monkeypatch, speed, pace):
    import types

    from click.testing import CliRunner

    import coach.replay
    from coach.cli import main

    paces = []

    async def fake_replay(path, url, *, speed, **_):
        paces.append(speed)
        return types.SimpleNamespace(intent_latencies=[])

    monkeypatch.setattr(coach.replay, "replay", fake_replay)
    result = CliRunner().invoke(main, ["replay", str(EXAMPLES / "audio" / "en-short-call.flac"), "--speed", speed])
    assert result.exit_code == 0, result.output
    assert paces == [pace]


@pytest.mark.parametrize(("sample", "options", "language"), [
    ("zh-violations", [], "zh"),          # a bundled sample's own language: the server refuses another
    ("en-short-call", [], "en"),
    ("zh-violations", ["--no-demo", "--language", "en"], "en"),
])
def test_replay_of_a_bundled_sample_speaks_its_language(monkeypatch, sample, options, language):
    import types

    from click.testing import CliRunner

    import coach.replay
    from coach.cli import main

    sent = []

    async def fake_replay(path, url, *, language, **_):
        sent.append(language)
        return types.SimpleNamespace(intent_latencies=[])

    monkeypatch.setattr(coach.replay, "replay", fake_replay)
    result = CliRunner().invoke(main, ["replay", str(EXAMPLES / "audio" / f"{sample}.flac"), *options])
    assert result.exit_code == 0, result.output
    assert sent == [language]


def test_replay_prints_a_warning_about_the_call(monkeypatch):
    """The server's ``warning`` event (a call streamed in another language than it was started
    with) reaches the person replaying it."""
    import types

    from click.testing import CliRunner

    import coach.replay
    from coach.cli import main

    async def fake_replay(path, url, *, on_event, **_):
        on_event({"type": "warning", "code": "language_mismatch", "message": "the speech sounds like Chinese (91%)"}, None)
        return types.SimpleNamespace(intent_latencies=[])

    monkeypatch.setattr(coach.replay, "replay", fake_replay)
    result = CliRunner().invoke(main, ["replay", str(EXAMPLES / "audio" / "zh-violations.flac"), "--no-demo",
                                       "--language", "en"])
    assert result.exit_code == 0, result.output
    assert "warning language_mismatch: the speech sounds like Chinese (91%)" in result.output


def test_ctrl_c_exits_130_not_the_min_accuracy_status(monkeypatch):
    from click.testing import CliRunner

    import coach.cli

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(coach.cli, "_review_each", interrupted)
    result = CliRunner().invoke(coach.cli.main, ["review", str(EXAMPLES / "en-hardship.json"), "--no-store"])
    assert result.exit_code == 130
    assert "interrupted" in result.stderr and "Aborted" not in result.output


def test_mine_export_help_does_not_promise_a_placeholder_response():
    from click.testing import CliRunner

    from coach.cli import main

    result = CliRunner().invoke(main, ["mine", "export", "--help"])
    assert result.exit_code == 0
    help_text = " ".join(result.output.split())  # the same words however the help is wrapped
    assert "placeholder to replace" not in help_text and "Required with --as-intent" in help_text


@pytest.fixture
def never_decoded(monkeypatch):
    """Decoding a recording fails the command: what is checked must be refused before it."""
    import coach.review.pipeline

    def decode(path, settings):
        raise AssertionError(f"{path} was decoded before the request was refused")

    monkeypatch.setattr(coach.review.pipeline, "decode_recording", decode)


@pytest.mark.parametrize(("roles", "message"), [
    ("agent,debtor,agent", "name 'agent' twice"),
    ("agent,boss", "unknown role 'boss'"),
    ("agent,,debtor", "a role is empty"),
])
def test_review_roles_that_cannot_be_right_are_a_usage_error_before_decoding(never_decoded, roles, message):
    from click.testing import CliRunner

    import coach.cli

    result = CliRunner().invoke(coach.cli.main, ["review", str(EXAMPLES / "audio" / "en-short-call.flac"),
                                                 "--roles", roles, "--no-store"])
    assert result.exit_code == 2, result.output
    assert "--roles" in result.output and message in result.output and "agent,debtor" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_review_more_roles_than_channels_is_refused_from_the_header(never_decoded):
    from click.testing import CliRunner

    import coach.cli

    result = CliRunner().invoke(coach.cli.main, ["review", str(EXAMPLES / "audio" / "en-short-call.flac"),
                                                 "--roles", "agent,debtor,third_party", "--no-store"])
    assert result.exit_code == 2, result.output
    assert "has 2 channels but roles were given for 3 (agent, debtor, third_party)" in result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, AssertionError)


@pytest.mark.parametrize(("options", "code", "message"), [
    (["--playbook", "martian"], 3, "unknown playbook 'martian'"),
    (["--playbook", "zh-CN-bank-collections", "--language", "en"], 2, "is for Chinese calls, but the call is English"),
])
def test_review_playbook_that_cannot_be_used_is_refused_before_decoding(never_decoded, options, code, message):
    from click.testing import CliRunner

    import coach.cli

    result = CliRunner().invoke(coach.cli.main, ["review", str(EXAMPLES / "audio" / "en-short-call.flac"), *options,
                                                 "--no-store"])
    assert result.exit_code == code, result.output
    assert message in result.stderr and not isinstance(result.exception, AssertionError)


def test_analyze_in_the_other_language_warns():
    result = coach("analyze", EXAMPLES / "en-hardship.json", "--language", "zh", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    assert "the transcript's text is English, but the call was analysed as Chinese" in result.stderr
    assert "--language en" in result.stderr
    assert "analysed as" not in coach("analyze", EXAMPLES / "zh-hardship.json", "--format", "jsonl").stderr


def _mined(weeks: int, cluster_size: int):
    from coach.mining.models import Cluster, IntentFigures, MiningResult, WeekTally, Window

    weekly = [WeekTally(week=f"2026-W{w:02d}", calls=w % 5) for w in range(1, weeks + 1)]
    window = Window(calls=40, truncated=False, max_calls=2000, since=None, until=None, weeks=[t.week for t in weekly],
                    languages={"en": 40}, playbooks={"en": "en-US-collections"}, min_calls=1)
    intent = IntentFigures(intent="cannot_afford", kind="objection", name="Cannot afford", calls=12, utterances=15,
                           share_of_calls=0.3, weekly=weekly, by_language=[], by_team=[], by_agent=[])
    cluster = Cluster(id="en-1", label="credit report", language="en", size=cluster_size, calls=3, keywords=["credit"],
                      representatives=["will this hurt my credit"], claimed={"dispute": 2, "cannot_afford": 1},
                      weekly=weekly, first_week=weekly[0].week, new=False, members=[])
    return MiningResult(window=window, intents=[intent], clusters=[cluster])


def test_mine_on_a_narrow_terminal_keeps_every_week_of_the_trend():
    """A long trend folds onto more lines instead of losing its latest weeks at the edge."""
    from rich.console import Console

    from coach.cli import _print_mining

    console = Console(width=70, record=True, highlight=False)
    _print_mining(console, _mined(weeks=40, cluster_size=30))
    printed = console.export_text()
    bars = "▁▂▃▄▅▆▇█"
    intents = printed.split("What the playbook misses")[0]
    assert sum(ch in bars for ch in intents) == 40 and "…" not in intents


def test_mine_suggests_the_export_a_cluster_is_big_enough_for():
    """A big cluster can become an intent of its own; a small one joins the intent that claimed most of it."""
    from coach.cli import _export_command

    big, small = _mined(4, cluster_size=30).clusters[0], _mined(4, cluster_size=3).clusters[0]
    assert "--as-intent NAME" in _export_command(big)
    assert _export_command(small) == "coach mine export --cluster en-1 --into-intent dispute --out en-1.yaml"


def test_the_suggested_export_repeats_the_filters_the_clusters_were_found_with():
    """Cluster ids are numbered per run: an export without the listing's filters would take another
    run's en-1 (a trainer's export put bitcoin payments into already_paid that way)."""
    import datetime as dt

    import click

    from coach.cli import _export_command, _selection_args, mine

    ctx = click.Context(mine)
    ctx.params = {"since": dt.datetime(2026, 10, 1), "until": None, "team": "west side", "agent_id": None,
                  "language": "en", "outcome": None, "playbook_ref": None, "min_calls": 5, "max_calls": None,
                  "min_cluster_size": 2, "output_format": "json", "report_path": None}
    selection = _selection_args(ctx)
    assert selection == "--since 2026-10-01 --team 'west side' --language en --min-cluster-size 2"
    small = _mined(4, cluster_size=3).clusters[0]
    assert _export_command(small, selection) == (
        f"coach mine {selection} export --cluster en-1 --into-intent dispute --out en-1.yaml")


def test_python_dash_m_coach_is_the_command_line():
    """``python -m coach`` (no script on PATH, another interpreter) runs the same commands."""
    result = subprocess.run([sys.executable, "-m", "coach", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: coach") and "analyze" in result.stdout

"""`coach review` and `coach token` as a user runs them: real processes, a real database file."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import EXAMPLES, ROOT


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    return {**os.environ, "COACH_DATA_DIR": str(tmp_path / "data")}


def coach(env, *args, timeout=600):
    return subprocess.run([sys.executable, "-m", "coach.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env=env)


def test_review_stores_reports_and_recognises_the_same_file(env, tmp_path):
    report = tmp_path / "calls.html"
    result = coach(env, "review", EXAMPLES / "en-violations.json", EXAMPLES / "zh-hardship.json", "--report", report,
                   "--agent-id", "a7", "--team", "north")
    assert result.returncode == 0, result.stderr
    assert "en-violations-001" in result.stdout and "S1" in result.stdout and "promise_to_pay" in result.stdout
    html = report.read_text(encoding="utf-8")
    assert "en-violations-001" in html and "zh-hardship-001" in html and "http://" not in html.split("<body", 1)[1]
    again = coach(env, "review", EXAMPLES / "en-violations.json")
    assert again.returncode == 0 and "already reviewed" in again.stdout
    assert (tmp_path / "data" / "coach.db").is_file()
    # a coach finds the stored calls again from the command line, as GET /v1/calls lists them
    listed = coach(env, "calls", "list", "--team", "north", "--violation", "S1")
    assert listed.returncode == 0 and "en-violations-001" in listed.stdout and "zh-hardship-001" not in listed.stdout
    as_json = json.loads(coach(env, "calls", "list", "--format", "json").stdout)
    assert {c["id"] for c in as_json} == {"en-violations-001", "zh-hardship-001"}
    page = tmp_path / "one.html"
    shown = coach(env, "calls", "show", "en-violations-001", "--report", page)
    assert shown.returncode == 0, shown.stderr
    assert "agent a7" in shown.stdout and "S1" in shown.stdout and "QA scorecard" in shown.stdout
    assert "en-violations-001" in page.read_text(encoding="utf-8")
    detail = json.loads(coach(env, "calls", "show", "zh-hardship-001", "--format", "json").stdout)
    assert detail["call"]["language"] == "zh" and any(e["type"] == "scorecard" for e in detail["events"])
    missing = coach(env, "calls", "show", "nope-1")
    assert missing.returncode != 0 and "no call 'nope-1'" in missing.stderr and "Traceback" not in missing.stderr
    # deleting: every id is checked first, then the calls go with everything stored with them
    unknown = coach(env, "calls", "delete", "zh-hardship-001", "nope-2", "--yes")
    assert unknown.returncode != 0 and "no call 'nope-2'" in unknown.stderr
    asked = subprocess.run([sys.executable, "-m", "coach.cli", "calls", "delete", "zh-hardship-001"], input="n\n",
                           capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert asked.returncode != 0 and "delete 1 call(s)" in asked.stderr
    deleted = coach(env, "calls", "delete", "zh-hardship-001", "--yes")
    assert deleted.returncode == 0 and "deleted zh-hardship-001" in deleted.stderr
    assert [c["id"] for c in json.loads(coach(env, "calls", "list", "--format", "json").stdout)] == ["en-violations-001"]
    # a mistyped data folder is said, not given an empty database
    typo = env | {"COACH_DATA_DIR": str(tmp_path / "dta")}
    nowhere = coach(typo, "calls", "list")
    assert nowhere.returncode != 0 and "no calls are stored in" in nowhere.stderr and not (tmp_path / "dta").exists()


def test_review_json_for_machines(env):
    result = coach(env, "review", EXAMPLES / "en-hardship.json", "--format", "json", "--no-store")
    assert result.returncode == 0, result.stderr
    [call] = json.loads(result.stdout)
    assert call["call"]["id"] == "en-hardship-001" and call["call"]["outcome"]
    assert call["scorecard"]["type"] == "scorecard" and any(e["type"] == "intent" for e in call["events"])
    assert not (os.path.exists(os.path.join(env["COACH_DATA_DIR"], "coach.db")))  # --no-store


def test_a_bad_file_is_reported_and_the_others_are_still_reviewed(env, tmp_path):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEjunk" * 50)
    result = coach(env, "review", broken, EXAMPLES / "en-cooperative.json")
    assert result.returncode == 2
    assert "broken.wav" in result.stdout and "cannot decode audio" in result.stdout
    assert "en-cooperative" in result.stdout and "Traceback" not in result.stdout + result.stderr


def test_a_folder_or_a_spreadsheet_given_to_review_is_named_for_what_it_is(env, tmp_path):
    """A coach gives the folder of recordings, or a transcript exported as CSV: the message says what
    was given and what coach reads, not "file not found"."""
    folder = tmp_path / "calls"
    folder.mkdir()
    sheet = tmp_path / "call.csv"
    sheet.write_text("speaker,text\nagent,hello\n", encoding="utf-8")
    result = coach(env, "review", folder, sheet, "--no-store")
    assert result.returncode == 2 and "Traceback" not in result.stdout + result.stderr
    assert "is a folder" in result.stdout
    assert "call.csv" in result.stdout and ".jsonl" in result.stdout


def test_an_unreachable_database_is_exit_code_6(env):
    env = env | {"COACH_DATABASE_URL": "postgresql+psycopg://coach:pw@127.0.0.1:1/coach"}
    result = coach(env, "review", EXAMPLES / "en-cooperative.json")
    assert result.returncode == 6 and "cannot reach the database" in result.stderr and "pw" not in result.stderr


def test_tokens_are_created_listed_and_revoked(env):
    created = coach(env, "token", "create", "lee", "--role", "coach", "--team", "north")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("coach_") and "only its hash is stored" in created.stderr
    listed = coach(env, "token", "list")
    assert "lee" in listed.stdout and "coach" in listed.stdout and secret not in listed.stdout
    assert coach(env, "token", "create", "x", "--role", "agent").returncode == 2  # agents need --agent-id
    assert coach(env, "token", "revoke", "lee").returncode == 0
    assert coach(env, "token", "revoke", "nobody").returncode == 2


def test_review_json_carries_the_calls_warnings(env, tmp_path):
    document = json.loads((EXAMPLES / "en-hardship.json").read_text(encoding="utf-8"))
    first = next(i for i, u in enumerate(document["utterances"][1:], 1) if u["speaker"] == document["utterances"][0]["speaker"])
    document["utterances"][0]["end"] = document["utterances"][first]["start"] + 2  # the same speaker overlaps by 2 s
    document["utterances"].insert(1, {**document["utterances"][1], "text": " "})
    path = tmp_path / "exported.json"
    path.write_bytes(json.dumps(document).encode("utf-16"))
    result = coach(env, "review", path, "--format", "json", "--no-store")
    assert result.returncode == 0, result.stderr
    [reviewed] = json.loads(result.stdout)
    assert [w["code"] for w in reviewed["call"]["warnings"]] == ["empty_utterance_dropped", "overlap_repaired"]


def test_no_store_says_nothing_about_storing(env, tmp_path):
    """--no-store keeps the calls in a scratch database for the run only: no "stored in", and the
    same file twice is "reviewed once", not "not stored again"."""
    copy = tmp_path / "copy.json"
    copy.write_bytes((EXAMPLES / "en-hardship.json").read_bytes())
    result = coach(env, "review", EXAMPLES / "en-hardship.json", copy, "--no-store")
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "stored" not in output and "database" not in output and "reviewed once" in output
    assert not (tmp_path / "data" / "coach.db").exists()
    stored = coach(env, "review", EXAMPLES / "en-hardship.json", copy)
    assert "stored in" in stored.stdout and "not stored again" in stored.stdout


def test_review_metadata_gives_the_balance_a_misheard_amount_is_checked_against(env, tmp_path):
    """--metadata is what the CRM knows: with the balance, "海5200348" (speech recognition running
    "还 五千二百三是吧" together) is no promise of 5.2 million yuan."""
    call = {"call_id": "zh-misheard", "language": "zh", "utterances": [
        {"speaker": "agent", "text": "您看今天能还五千二百三十元吗", "start": 0, "end": 3},
        {"speaker": "debtor", "text": "行 我今天下午去用手机银行海5200348", "start": 3.5, "end": 7}]}
    path = tmp_path / "misheard.json"
    path.write_text(json.dumps(call, ensure_ascii=False), encoding="utf-8")
    as_heard = coach(env, "review", path, "--format", "json", "--no-store")
    assert as_heard.returncode == 0, as_heard.stderr
    assert "5,200,348" in json.loads(as_heard.stdout)[0]["call"]["summary"]
    result = coach(env, "review", path, "--format", "json", "--no-store", "--team", "north",
                   "--metadata", '{"balance": 5230, "currency": "CNY", "team": "south"}')
    assert result.returncode == 0, result.stderr
    [reviewed] = json.loads(result.stdout)
    assert reviewed["call"]["metadata"]["balance"] == 5230 and reviewed["call"]["team"] == "north"  # --team wins
    assert "5,200,348" not in reviewed["call"]["summary"] and "5,230" in reviewed["call"]["summary"]


@pytest.mark.parametrize(("given", "said"), [
    ("{balance: 12}", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('{"local_time": "25 past"}', "invalid call metadata"),
])
def test_bad_review_metadata_is_a_usage_error_before_any_file_is_read(env, tmp_path, given, said):
    missing = tmp_path / "not-there.wav"  # never opened: the mistake is the option's
    result = coach(env, "review", missing, "--metadata", given, "--no-store")
    assert result.returncode == 2 and said in result.stdout + result.stderr
    assert "not-there" not in result.stdout + result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [("review", EXAMPLES / "en-cooperative.json"), ("mine",)])
def test_a_report_that_cannot_be_written_is_refused_before_any_work(env, tmp_path, command):
    """A new user's typo in --report was a traceback after the call was already reviewed and stored."""
    for report, said in ((tmp_path / "missing" / "r.html", "does not exist"), (tmp_path, "is a folder")):
        result = coach(env, *command, "--report", report)
        assert result.returncode == 2 and said in result.stderr, result.stderr
        assert "Traceback" not in result.stdout + result.stderr
    if command[0] == "review":
        assert not (tmp_path / "data" / "coach.db").exists()  # nothing was reviewed, nor stored


def test_a_report_write_that_fails_names_the_file(tmp_path):
    from coach.errors import InputError
    from coach.output_files import write_text

    with pytest.raises(InputError, match="does not exist"):
        write_text(tmp_path / "gone" / "r.html", "<html></html>")
    (tmp_path / "locked").mkdir(mode=0o500)
    if os.geteuid() != 0:  # root writes anywhere
        with pytest.raises(InputError, match="cannot write the report"):
            write_text(tmp_path / "locked" / "r.html", "<html></html>")

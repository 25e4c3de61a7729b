"""`coach mine` and `coach mine export` as a trainer runs them: real processes over a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from coach.playbook import load_playbook
from tests.conftest import ROOT
from tests.mining.calls import EN_PLANTED, stored_database


@pytest.fixture(scope="module")
def env(engines, tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("cli-mine")
    return {**os.environ, "COACH_DATA_DIR": str(folder), "COACH_DATABASE_URL": stored_database(engines, folder)}


def coach(env, *args, timeout=600):
    return subprocess.run([sys.executable, "-m", "coach.cli", *map(str, args)], capture_output=True, text=True, check=False,
                          timeout=timeout, cwd=ROOT, env=env)


def test_mine_prints_tables_writes_a_report_and_json(env, tmp_path):
    report = tmp_path / "mining.html"
    result = coach(env, "mine", "--report", report)
    assert result.returncode == 0, result.stderr
    assert "Intents" in result.stdout and "cannot_afford" in result.stdout and "en-1" in result.stdout
    assert "What the playbook misses" in result.stdout and "credit" in result.stdout
    assert "cluster-en-1" in report.read_text(encoding="utf-8")
    as_json = coach(env, "mine", "--language", "en", "--team", "north", "--format", "json", "--min-calls", "2")
    assert as_json.returncode == 0, as_json.stderr
    mined = json.loads(as_json.stdout)
    assert set(mined) == {"window", "intents", "responses", "clusters", "unclustered"}
    assert mined["window"]["languages"] == {"en": mined["window"]["calls"]} and mined["window"]["min_calls"] == 2
    for cluster in mined["clusters"]:
        assert {"id", "label", "size", "keywords", "new", "members"} <= set(cluster)
        assert all(set(m) == {"call_id", "utterance_id", "text"} for m in cluster["members"])


def test_a_few_calls_with_no_cluster_list_what_no_intent_claims(env):
    """One agent's dozen calls: no topic said often enough for a cluster, but what no intent claims is
    still shown, not "nothing missed"."""
    result = coach(env, "mine", "--agent", "a2", "--language", "en")
    assert result.returncode == 0, result.stderr
    assert "Not yet a topic (en): 2 debtor utterances that no intent claims and no cluster holds" in " ".join(result.stdout.split()), result.stdout
    as_json = json.loads(coach(env, "mine", "--agent", "a2", "--language", "en", "--format", "json").stdout)
    assert as_json["clusters"] == [] and [u["count"] for u in as_json["unclustered"]] == [2]
    assert all(set(m) == {"call_id", "utterance_id", "text"} for m in as_json["unclustered"][0]["examples"])


def test_bad_filters_and_no_calls_are_one_line_each(env, tmp_path):
    empty = {**env, "COACH_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    for run_env, args, message in (
        (empty, (), "no stored calls match"),
        (env, ("--since", "2030-01-01"), "no stored calls match"),
        (env, ("--since", "2026-11-01", "--until", "2026-10-01"), "the date range is backwards"),
    ):
        result = coach(run_env, "mine", *args)
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr, result.stderr
    unreachable = {**env, "COACH_DATABASE_URL": "postgresql+psycopg://coach:pw@127.0.0.1:1/coach"}
    result = coach(unreachable, "mine")
    assert result.returncode == 6 and "pw" not in result.stderr


def test_export_writes_a_playbook_and_refuses_unknown_clusters(env, tmp_path):
    out = tmp_path / "en-credit.yaml"
    listed = json.loads(coach(env, "mine", "--language", "en", "--format", "json").stdout)
    cluster = max(listed["clusters"], key=lambda c: sum(m["text"] in EN_PLANTED for m in c["members"]))
    response = "I can explain what we report to the credit bureaus and when."
    bare = coach(env, "mine", "--language", "en", "export", "--cluster", cluster["id"], "--as-intent", "credit_report",
                 "--out", out, "--no-evaluate")
    assert bare.returncode == 2 and "--response" in bare.stderr and "Traceback" not in bare.stderr
    assert not out.exists()
    result = coach(env, "mine", "--language", "en", "export", "--cluster", cluster["id"], "--as-intent", "credit_report",
                   "--response", response, "--out", out, "--no-evaluate")
    assert result.returncode == 0, result.stderr
    assert "new intent credit_report" in result.stdout and "todo" in result.stdout
    assert load_playbook(out).intent("credit_report").examples
    # the shipped playbook's comments (its trainers' reasons) are kept, not dropped by a rewrite
    shipped = (ROOT / "playbooks" / "en-US-collections.yaml").read_text(encoding="utf-8")
    written = out.read_text(encoding="utf-8")
    comments = [line.strip() for line in shipped.splitlines() if line.strip().startswith("#")]
    assert len(comments) > 50 and all(comment in written for comment in comments)
    assert written.count("\n") >= shipped.count("\n")
    again = coach(env, "mine", "--language", "en", "export", "--cluster", cluster["id"], "--as-intent", "credit_report",
                  "--response", response, "--out", out, "--no-evaluate")
    assert again.returncode == 2 and "already exists" in again.stderr
    unknown = coach(env, "mine", "export", "--cluster", "en-99", "--as-intent", "x", "--response", response,
                    "--out", tmp_path / "x.yaml")
    assert unknown.returncode == 2 and "no cluster 'en-99'" in unknown.stderr and cluster["id"] in unknown.stderr
    assert not (tmp_path / "x.yaml").exists()


def test_checking_the_arguments_loads_no_model_library():
    """A mistyped date range is answered at once: the argument check imports neither scikit-learn nor torch."""
    probe = ("import sys; from coach.mining import MiningOptions, MiningSettings; from coach.mining.corpus import check_filters; "
             "print(sorted(m for m in ('sklearn', 'torch', 'scipy.stats') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT, timeout=120)
    assert result.stdout.strip() == "[]"

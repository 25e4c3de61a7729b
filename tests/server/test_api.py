"""The REST API for recorded calls, with real tokens, a real database and the real models."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from coach.config import Settings
from coach.storage import CallStore
from server.app import create_app
from tests.audio.test_streaming import silence, speak
from tests.conftest import EXAMPLES

SHORT_CALL = EXAMPLES / "audio" / "en-short-call.flac"


def _wav_at(rate: int, seconds: float = 3.0) -> bytes:
    """A mono 16-bit WAV of a tone whose header says ``rate`` samples a second."""
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1), wav.setsampwidth(2), wav.setframerate(rate)
        wav.writeframes((np.sin(np.arange(int(rate * seconds)) / 3) * 8000).astype("<i2").tobytes())
    return buffer.getvalue()


@pytest.fixture(scope="module")
def app_parts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("api")
    # uploads_per_minute off: this module uploads more than 30 a minute on a fast machine, and the
    # limit has tests of its own (test_stream_access.py)
    settings = Settings(data_dir=folder, max_upload_bytes=5_000_000, uploads_per_minute=0)
    store = CallStore(settings.database(), settings)
    tokens = {
        "coach": store.create_token("cho", "coach", team="north")[0],
        "other_coach": store.create_token("sam", "coach", team="south")[0],
        "agent": store.create_token("ann", "agent", agent_id="a1", team="north")[0],
        "agent2": store.create_token("bob", "agent", agent_id="a2", team="south")[0],
        "trainer": store.create_token("tim", "trainer")[0],
        "admin": store.create_token("ada", "admin")[0],
    }
    return settings, store, tokens


@pytest.fixture(scope="module")
def client(app_parts):
    settings, store, _ = app_parts
    with TestClient(create_app(settings, preload=(), store=store)) as client:
        yield client


@pytest.fixture(scope="module")
def tokens(app_parts):
    return app_parts[2]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def upload(client, token, path: Path, name: str | None = None, **form):
    with path.open("rb") as handle:
        return client.post("/v1/calls", headers=auth(token), files={"file": (name or path.name, handle)}, data=form)


@pytest.fixture(scope="module")
def violations_call(client, tokens):
    response = upload(client, tokens["coach"], EXAMPLES / "en-violations.json", agent_id="a1")
    assert response.status_code == 201, response.text
    return response.json()["call"]


def test_every_route_needs_a_valid_token(client):
    assert client.get("/v1/calls").status_code == 401
    assert client.get("/v1/calls", headers=auth("coach_wrong")).status_code == 401
    assert client.get("/v1/calls/x/events").status_code == 401
    response = client.post("/v1/calls", files={"file": ("a.json", b"{}")})
    assert response.status_code == 401 and "token" in response.json()["detail"]


def test_roles_that_may_not_do_something_get_403(client, tokens, violations_call):
    response = upload(client, tokens["agent"], EXAMPLES / "en-hardship.json")
    assert response.status_code == 403 and "agent" in response.json()["detail"]
    response = client.post(f"/v1/calls/{violations_call['id']}/notes", headers=auth(tokens["agent"]), json={"text": "hi"})
    assert response.status_code == 403
    assert client.delete(f"/v1/calls/{violations_call['id']}", headers=auth(tokens["coach"])).status_code == 403


def test_a_coach_uploads_a_transcript_and_reviews_it(client, tokens, violations_call):
    call_id = violations_call["id"]
    assert violations_call["team"] == "north"  # a coach's upload belongs to their team
    assert violations_call["violation_count"] > 0 and violations_call["worst_severity"] == "S1"
    detail = client.get(f"/v1/calls/{call_id}", headers=auth(tokens["coach"])).json()
    assert detail["utterances"] and detail["summary"] and detail["outcome_detail"]["kind"] == detail["outcome"]
    events = client.get(f"/v1/calls/{call_id}/events", headers=auth(tokens["coach"])).json()
    assert {"utterance", "sentiment", "intent", "compliance", "scorecard"} <= {e["type"] for e in events}
    only = client.get(f"/v1/calls/{call_id}/events", params={"type": "compliance"}, headers=auth(tokens["coach"])).json()
    assert only and {e["type"] for e in only} == {"compliance"}
    scorecard = client.get(f"/v1/calls/{call_id}/scorecard", headers=auth(tokens["coach"])).json()
    assert scorecard["score"] == detail["score"]
    note = client.post(f"/v1/calls/{call_id}/notes", headers=auth(tokens["coach"]),
                       json={"text": "Threat at 1:10: review with the agent", "utterance_id": 3})
    assert note.status_code == 201 and note.json()["author"] == "cho"
    notes = client.get(f"/v1/calls/{call_id}/notes", headers=auth(tokens["agent"])).json()  # the agent reads them
    assert [n["utterance_id"] for n in notes] == [3]
    report = client.get(f"/v1/calls/{call_id}/report", headers=auth(tokens["coach"]))
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert "Threat at 1:10" in report.text and "<svg" in report.text
    # what debtors and agents said, shown as a document that runs nothing and that no other site frames
    policy = report.headers["content-security-policy"]
    assert policy.startswith("sandbox;") and "script-src" not in policy and "frame-ancestors 'none'" in policy
    assert report.headers["x-frame-options"] == "DENY" and report.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("page", ["/", "/review", "/trainer", "/supervisor"])
def test_pages_run_only_this_servers_own_scripts_and_are_framed_by_no_one(client, page):
    response = client.get(page)
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "style-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and response.headers["x-frame-options"] == "DENY"
    assert " style=" not in response.text and "<script>" not in response.text  # nothing inline the policy would block


def test_a_note_is_corrected_or_taken_back_by_its_author_only(client, tokens, violations_call):
    path = f"/v1/calls/{violations_call['id']}/notes"
    note = client.post(path, headers=auth(tokens["coach"]), json={"text": "Threat at 1:10"}).json()
    assert note["edited_at"] is None
    # another reviewer may read it but not change it; another team does not see the call at all
    assert client.patch(f"{path}/{note['id']}", headers=auth(tokens["trainer"]), json={"text": "x"}).status_code == 403
    assert client.delete(f"{path}/{note['id']}", headers=auth(tokens["other_coach"])).status_code == 404
    assert client.patch(f"{path}/{note['id']}", headers=auth(tokens["coach"]), json={"text": " "}).status_code == 422
    edited = client.patch(f"{path}/{note['id']}", headers=auth(tokens["coach"]), json={"text": "Threat at 1:12"})
    assert edited.status_code == 200 and edited.json()["text"] == "Threat at 1:12" and edited.json()["edited_at"]
    assert client.patch(f"{path}/999999", headers=auth(tokens["coach"]), json={"text": "x"}).status_code == 404
    assert client.delete(f"{path}/{note['id']}", headers=auth(tokens["coach"])).status_code == 204
    assert note["id"] not in [n["id"] for n in client.get(path, headers=auth(tokens["coach"])).json()]
    # an admin tidies up by deleting, never by putting words under another's name
    admins = client.post(path, headers=auth(tokens["coach"]), json={"text": "to tidy"}).json()
    assert client.patch(f"{path}/{admins['id']}", headers=auth(tokens["admin"]), json={"text": "x"}).status_code == 403
    assert client.delete(f"{path}/{admins['id']}", headers=auth(tokens["admin"])).status_code == 204
    # an id no database holds is no note, not a 500
    for huge in ("9223372036854775808", "99999999999999999999"):
        assert client.delete(f"{path}/{huge}", headers=auth(tokens["coach"])).status_code == 422


def test_the_same_file_twice_is_stored_once(client, tokens, violations_call):
    again = upload(client, tokens["coach"], EXAMPLES / "en-violations.json", name="renamed.json")
    assert again.status_code == 200
    assert again.json() == {"call": again.json()["call"], "duplicate": True, "replaced": None, "ignored": []}
    assert again.json()["call"]["id"] == violations_call["id"]
    # what a duplicate names for the call is not used, and the answer says so (a new user found it silent)
    named = upload(client, tokens["coach"], EXAMPLES / "en-violations.json", agent_id="zzz", call_id="other-id")
    assert named.status_code == 200 and named.json()["ignored"] == ["call_id", "agent_id"]
    assert named.json()["call"]["agent_id"] == "a1" and named.json()["call"]["id"] == violations_call["id"]
    elsewhere = upload(client, tokens["other_coach"], EXAMPLES / "en-violations.json")  # another team's coach
    assert elsewhere.status_code == 409 and violations_call["id"] not in elsewhere.text


def test_a_recording_uploaded_again_in_another_language_replaces_its_review(client, tokens, tmp_path):
    """The language_mismatch warning says "review it again with --language zh": doing so reviews the
    file again and replaces the stored review. Another team's coach can neither replace it nor learn
    more than before."""
    with av_trim(EXAMPLES / "audio" / "zh-violations.flac", tmp_path / "clip.flac", seconds=12) as clip:
        first = upload(client, tokens["coach"], clip, language="en", agent_id="a1")
        assert first.status_code == 201 and first.json()["call"]["language"] == "en", first.text
        same = upload(client, tokens["coach"], clip, language="en")
        assert same.status_code == 200 and same.json()["duplicate"]
        elsewhere = upload(client, tokens["other_coach"], clip, language="zh")
        assert elsewhere.status_code == 409
        # the same call reviewed again: it cannot be moved to another agent or renamed on the way
        moved = upload(client, tokens["coach"], clip, language="zh", agent_id="a2", call_id="moved")
        assert moved.status_code == 422 and "keeps its call_id, agent_id" in moved.json()["detail"], moved.text
        again = upload(client, tokens["coach"], clip, language="zh")
    assert again.status_code == 201, again.text
    assert again.json()["replaced"] == first.json()["call"]["id"] and again.json()["call"]["language"] == "zh"
    assert again.json()["call"]["id"] == first.json()["call"]["id"] and again.json()["call"]["agent_id"] == "a1"
    events = client.get(f"/v1/calls/{first.json()['call']['id']}/events", headers=auth(tokens["coach"])).json()
    assert events and {e["call_id"] for e in events} == {first.json()["call"]["id"]}
    mine = [c for c in client.get("/v1/calls", headers=auth(tokens["coach"])).json()["calls"] if c["id"].startswith("clip")]
    assert [c["language"] for c in mine] == ["zh"]
    # the module's other tests share this database and count its Chinese calls
    assert client.delete(f"/v1/calls/{mine[0]['id']}", headers=auth(tokens["admin"])).status_code in (200, 204)


def test_lists_are_filtered_and_scoped_by_role(client, tokens, violations_call):
    hardship = upload(client, tokens["other_coach"], EXAMPLES / "en-hardship.json", agent_id="a2")
    assert hardship.status_code == 201
    hardship_id = hardship.json()["call"]["id"]

    def ids(token, **params) -> set[str]:
        response = client.get("/v1/calls", headers=auth(token), params=params)
        assert response.status_code == 200, response.text
        return {c["id"] for c in response.json()["calls"]}

    assert {violations_call["id"], hardship_id} <= ids(tokens["trainer"])
    assert violations_call["id"] in ids(tokens["coach"]) and hardship_id not in ids(tokens["coach"])
    assert ids(tokens["agent"]) >= {violations_call["id"]} and hardship_id not in ids(tokens["agent"])
    assert ids(tokens["agent2"]) == {hardship_id}
    assert client.get(f"/v1/calls/{violations_call['id']}", headers=auth(tokens["agent2"])).status_code == 404
    assert ids(tokens["trainer"], violation="S1") >= {violations_call["id"]}
    assert hardship_id not in ids(tokens["trainer"], violation="US-THREAT")
    assert ids(tokens["trainer"], language="zh") == set()
    assert ids(tokens["trainer"], agent_id="a2") == {hardship_id}
    outcome = hardship.json()["call"]["outcome"]
    assert hardship_id in ids(tokens["trainer"], outcome=outcome)
    assert client.get("/v1/calls", headers=auth(tokens["trainer"]), params={"limit": 0}).status_code == 422
    report = client.get("/v1/reports", headers=auth(tokens["trainer"]), params={"agent_id": "a2"})
    assert report.status_code == 200 and hardship_id in report.text


def test_an_uploaded_recording_is_transcribed_and_playable(client, tokens):
    response = upload(client, tokens["coach"], SHORT_CALL, agent_id="a1")
    assert response.status_code == 201, response.text
    call = response.json()["call"]
    assert call["has_audio"] and call["duration"] > 10
    detail = client.get(f"/v1/calls/{call['id']}", headers=auth(tokens["coach"])).json()
    speakers = {u["speaker"] for u in detail["utterances"]}
    assert speakers == {"agent", "debtor"}
    audio = client.get(f"/v1/calls/{call['id']}/audio", params={"access_token": tokens["agent"]})
    assert audio.status_code == 200 and audio.content == SHORT_CALL.read_bytes()
    assert audio.headers["content-type"] == "audio/flac"
    assert audio.headers["referrer-policy"] == "no-referrer"  # the token in the link goes no further
    seek = client.get(f"/v1/calls/{call['id']}/audio", headers=auth(tokens["coach"]) | {"Range": "bytes=0-99"})
    assert seek.status_code == 206 and len(seek.content) == 100


@pytest.mark.parametrize(("name", "content", "status", "message"), [
    ("broken.wav", b"RIFF\x00\x00\x00\x00WAVEfmt garbage" * 20, 422, "cannot decode audio"),
    ("empty.flac", b"", 422, "empty"),
    # half a character: accepted, it failed only when stored, after the whole review (a 500)
    ("half.json", b'{"call_id": "s", "language": "en", "utterances": [{"speaker": "agent", "text": "hi \\ud800", '
     b'"start": 0, "end": 1}]}', 422, "lone surrogate"),
    # a playlist or concat list would have FFmpeg read files on the server's own disk into the uploader's call
    ("server.m3u8", f"#EXTM3U\n#EXT-X-TARGETDURATION:60\n#EXTINF:60.0,\nfile://{SHORT_CALL}\n#EXT-X-ENDLIST\n".encode(),
     422, "not a recording in a format coach reads"),
    ("server.ffconcat", f"ffconcat version 1.0\nfile '{SHORT_CALL}'\n".encode(), 422, "not a recording in a format coach reads"),
    # a few kilobytes at 30 Hz resample into hours of 16 kHz audio in one step
    ("slow.wav", _wav_at(30, seconds=600), 422, "its sample rate (30 Hz) is not one of a recording"),
    ("float16.wav", b"RIFF\x34\x3e\x00\x00WAVEfmt \x10\x00\x00\x00\x03\x00\x01\x00\x80\x3e\x00\x00\x00\x7d\x00\x00"
     b"\x02\x00\x10\x00data\x10\x3e\x00\x00" + b"\x00\x01" * 7944, 422, "an unsupported or damaged audio stream"),
    ("call.json", b'{"call_id": "x", "language": "en", "utterances": [', 422, "not valid JSON"),
    ("unordered.json", json.dumps({"call_id": "u", "language": "en", "utterances": [
        {"speaker": "agent", "text": "hello", "start": 5, "end": 6},
        {"speaker": "debtor", "text": "hi", "start": 1, "end": 2}]}).encode(), 422, "time order"),
    ("overlap.json", json.dumps({"call_id": "o", "language": "en", "utterances": [
        {"speaker": "agent", "text": "hello there", "start": 1, "end": 20},
        {"speaker": "agent", "text": "and again", "start": 3, "end": 25}]}).encode(), 422, "overlapping"),
    ("far.json", json.dumps({"call_id": "f", "language": "en", "utterances": [
        {"speaker": "agent", "text": "hello there", "start": 1e15, "end": 1e15 + 1}]}).encode(), 422, "COACH_MAX_CALL_SECONDS"),
    ("deep.json", b'{"call_id": "d", "language": "en", "utterances": ' + b"[" * 5000 + b"]" * 5000 + b"}", 422,
     "nested too deeply"),
    ("digits.json", b'{"call_id": "n", "language": "en", "utterances": [{"speaker": "agent", "text": "hi", "start": '
     + b"9" * 5000 + b', "end": 1}]}', 422, "a number is too long"),
])
def test_bad_uploads_get_clear_errors_and_store_nothing(client, tokens, name, content, status, message):
    before = client.get("/v1/calls", headers=auth(tokens["admin"])).json()["calls"]
    response = client.post("/v1/calls", headers=auth(tokens["coach"]), files={"file": (name, content)})
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]
    assert client.get("/v1/calls", headers=auth(tokens["admin"])).json()["calls"] == before


def test_a_nul_in_an_upload_name_is_dropped_not_a_500(client, tokens):
    """Sent raw (a client library would percent-encode it): "embedded null byte" when the file was created."""
    body = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="a\x00b.flac"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n\r\n--b--\r\n")
    response = client.post("/v1/calls", headers=auth(tokens["coach"]) | {"Content-Type": "multipart/form-data; boundary=b"},
                           content=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == "ab.flac: the file is empty"


def test_a_windows_path_as_an_upload_name_is_cut_to_its_base_name(client, tokens):
    """Old browsers send the whole path; backslashes stayed in the name, the call id made of it was
    refused (422) and a plain upload failed."""
    call = json.loads((EXAMPLES / "zh-cooperative.json").read_text(encoding="utf-8"))
    del call["call_id"]  # named by the file, as a transcript without an id is
    call["utterances"] = call["utterances"][:4]
    response = client.post("/v1/calls", headers=auth(tokens["coach"]),
                           files={"file": ("C:\\Users\\lee\\..\\calls\\windows-named.json", json.dumps(call).encode())})
    assert response.status_code == 201, response.text
    assert response.json()["call"]["id"] == "windows-named"


@pytest.mark.parametrize("call_id", ["hidden/one", "..", "nul\x00id", "\u202eevil"])
def test_a_call_id_that_cannot_name_a_call_is_refused_before_the_review(client, tokens, call_id):
    """A slash made a stored call unreachable at /v1/calls/{id}; control and format characters hide the id."""
    response = client.post("/v1/calls", headers=auth(tokens["coach"]), data={"call_id": call_id},
                           files={"file": ("call.json", json.dumps({"language": "en", "utterances": [
                               {"speaker": "agent", "text": "hello", "start": 0, "end": 1}]}).encode())})
    assert response.status_code == 422, response.text
    assert "call_id" in response.json()["detail"]


def test_truncated_and_mislabelled_audio(client, tokens, tmp_path):
    truncated = tmp_path / "cut.flac"
    truncated.write_bytes(SHORT_CALL.read_bytes()[:2000])
    response = upload(client, tokens["coach"], truncated)
    assert response.status_code == 422 and "cut.flac" in response.json()["detail"]
    # a transcript that arrives with an audio name is still read as a transcript, and the other way round
    disguised = upload(client, tokens["coach"], EXAMPLES / "en-cooperative.json", name="cooperative.wav")
    assert disguised.status_code == 201, disguised.text
    recording = tmp_path / "recording.json"
    with av_trim(SHORT_CALL, recording):
        response = upload(client, tokens["coach"], recording)
    assert response.status_code == 201 and response.json()["call"]["has_audio"], response.text



def test_a_recording_named_as_a_page_is_served_as_audio_never_as_a_page(client, tokens, tmp_path):
    """A recording with a script appended still decodes; named .html, it must not come back as a page
    on the server's origin (where its script could read the token in the player's link)."""
    page = tmp_path / "call.html"
    with av_trim(SHORT_CALL, page):
        page.write_bytes(page.read_bytes() + b"<script>document.title = location.search</script>")
    response = upload(client, tokens["coach"], page)
    assert response.status_code == 201 and response.json()["call"]["has_audio"], response.text
    audio = client.get(f"/v1/calls/{response.json()['call']['id']}/audio", params={"access_token": tokens["coach"]})
    assert audio.status_code == 200 and audio.content == page.read_bytes()
    assert audio.headers["content-type"] == "application/octet-stream"
    assert audio.headers["x-content-type-options"] == "nosniff"
    assert audio.headers["content-security-policy"] == "sandbox"

def test_metadata_nested_or_numbered_beyond_reason_is_a_clear_error(client, tokens):
    for metadata, reason in (("[" * 5000 + "]" * 5000, "nested too deeply"), ('{"balance": ' + "9" * 5000 + "}",
                                                                               "a number is too long")):
        response = client.post("/v1/calls", headers=auth(tokens["coach"]), data={"metadata": metadata},
                               files={"file": ("call.json", (EXAMPLES / "en-cooperative.json").read_bytes())})
        assert response.status_code == 422 and response.json()["detail"] == f"metadata is not valid JSON: {reason}"


def test_a_recording_of_hours_of_silence_is_refused_at_once(client, tokens, tmp_path):
    """A decompression bomb: 2.5 hours of silence in ~1 MB would decode to gigabytes. Refused by
    its header in well under a second of work, and nothing is stored."""
    bomb = tmp_path / "bomb.flac"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "9000",
                    "-c:a", "flac", "-compression_level", "12", str(bomb)], check=True)
    before = client.get("/v1/calls", headers=auth(tokens["admin"])).json()["calls"]
    started = time.perf_counter()
    response = upload(client, tokens["coach"], bomb)
    assert response.status_code == 422 and "too long to review" in response.json()["detail"], response.text
    assert time.perf_counter() - started < 10
    assert client.get("/v1/calls", headers=auth(tokens["admin"])).json()["calls"] == before


@contextlib.contextmanager
def av_trim(source: Path, target: Path, seconds: int = 8):
    """The first seconds of a recording, written to ``target`` whatever its name says (FLAC inside)."""
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(source), "-t", str(seconds), "-f", "flac", str(target)],
                   check=True)
    yield target


def test_uploads_over_the_limit_are_refused(client, tokens, tmp_path):
    big = tmp_path / "big.wav"
    big.write_bytes(b"\0" * 5_000_001)
    response = upload(client, tokens["coach"], big)
    assert response.status_code == 413 and "COACH_MAX_UPLOAD_BYTES" in response.json()["detail"]


def test_bad_form_fields(client, tokens):
    path = EXAMPLES / "en-cooperative.json"
    assert upload(client, tokens["coach"], path, metadata="{not json").status_code == 422
    # a balance no account has would raise a wrong-amount finding; a time of day that is none
    for metadata in ('{"balance": Infinity}', '{"balance": NaN}', '{"balance": -1e308}', '{"local_time": "25:99"}'):
        response = upload(client, tokens["coach"], path, metadata=metadata)
        assert response.status_code == 422 and "invalid call metadata" in response.json()["detail"], (metadata, response.text)
    assert upload(client, tokens["coach"], path, language="fr").status_code == 422
    response = upload(client, tokens["coach"], path, team="south")
    assert response.status_code == 403  # a coach uploads for their own team only


@pytest.mark.parametrize(("roles", "extra", "message"), [
    ("agent,debtor,agent", {}, "name 'agent' twice"),
    ("agent,boss", {}, "unknown role 'boss'"),
    ("agent,", {}, "a role is empty"),
    ("agent,debtor,third_party", {}, "en-short-call.flac: has 2 channels but roles were given for 3"),
    ("agent,debtor", {"language": "en", "playbook": "zh-CN-bank-collections"}, "is for Chinese calls"),
])
def test_roles_and_playbooks_that_cannot_be_used_are_refused_before_decoding(client, tokens, monkeypatch, roles, extra,
                                                                               message):
    """The same rules as coach review --roles: one known role per channel, none twice; refused with
    422 before the recording is decoded (a long one takes minutes), and nothing is stored."""
    import coach.review.pipeline

    monkeypatch.setattr(coach.review.pipeline, "decode_recording", lambda path, settings: pytest.fail("decoded"))
    before = client.get("/v1/calls", headers=auth(tokens["admin"])).json()["calls"]
    response = upload(client, tokens["trainer"], SHORT_CALL, roles=roles, **extra)
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"] and "/tmp" not in response.text
    assert client.get("/v1/calls", headers=auth(tokens["admin"])).json()["calls"] == before


def test_a_transcript_uploaded_in_the_other_language_carries_the_warning(client, tokens, tmp_path):
    call = json.loads((EXAMPLES / "en-cooperative.json").read_text(encoding="utf-8")) | {"call_id": "en-as-zh"}
    (path := tmp_path / "en-as-zh.json").write_text(json.dumps(call), encoding="utf-8")
    response = upload(client, tokens["coach"], path, language="zh")
    assert response.status_code == 201, response.text
    detail = client.get("/v1/calls/en-as-zh", headers=auth(tokens["coach"])).json()
    assert [w["code"] for w in detail["warnings"]] == ["language_mismatch"]
    assert "--language en" in detail["warnings"][0]["message"]


def test_an_admin_deletes_a_call(client, tokens):
    response = upload(client, tokens["admin"], EXAMPLES / "zh-cooperative.json")
    call_id = response.json()["call"]["id"]
    assert client.delete(f"/v1/calls/{call_id}", headers=auth(tokens["admin"])).status_code == 204
    assert client.get(f"/v1/calls/{call_id}", headers=auth(tokens["admin"])).status_code == 404


def test_a_live_call_is_stored_as_it_happens(client, tokens):
    debtor = np.concatenate([silence(0.3), speak("i already paid this last week", "en-us+f3"), silence(1.0)])
    start = {"type": "start", "call_id": "live-api-1", "language": "en", "channels": 1, "channel_roles": ["debtor"],
             "metadata": {"agent_id": "a1", "team": "north"}}
    with client.websocket_connect("/v1/stream", headers=auth(tokens["agent"])) as ws:
        ws.send_text(json.dumps(start))
        assert json.loads(ws.receive_text())["type"] == "ready"
        pcm = (debtor * 32767).astype("<i2").tobytes()
        for offset in range(0, len(pcm), 3200):
            ws.send_bytes(pcm[offset : offset + 3200])
        while json.loads(ws.receive_text())["type"] != "utterance":
            pass
        # stored while the call is still going (written just after it is sent)
        for _ in range(100):
            detail = client.get("/v1/calls/live-api-1", headers=auth(tokens["agent"])).json()
            if detail["utterances"]:
                break
            time.sleep(0.05)
        assert detail["status"] == "live" and "paid" in detail["utterances"][0]["text"].lower()
    # the client vanished without "stop": the server finishes the call and marks it
    for _ in range(300):
        detail = client.get("/v1/calls/live-api-1", headers=auth(tokens["agent"])).json()
        if detail["status"] != "live":
            break
        time.sleep(0.1)
    assert detail["status"] == "interrupted" and detail["score"] is not None and detail["outcome"]
    # the same call id again still gets coaching; it is stored under a new id and the client is told
    with client.websocket_connect("/v1/stream", headers=auth(tokens["agent"])) as ws:
        ws.send_text(json.dumps(start))
        events = [json.loads(ws.receive_text()) for _ in range(2)]
        assert events[0]["type"] == "ready"
        assert events[1]["code"] == "call_id_taken" and "already stored" in events[1]["message"]
        ws.send_text(json.dumps({"type": "stop"}))
        while json.loads(ws.receive_text())["type"] != "scorecard":
            pass
    ids = [c["id"] for c in client.get("/v1/calls", headers=auth(tokens["agent"])).json()["calls"]]
    assert sum(i.startswith("live-api-1-") for i in ids) == 1


def test_bad_metadata_and_file_names_are_the_uploaders_mistake(client, tokens):
    path = EXAMPLES / "en-cooperative.json"
    response = upload(client, tokens["coach"], path, metadata=json.dumps({"local_time": "noon"}))
    assert response.status_code == 422 and "local_time" in response.json()["detail"]
    with path.open("rb") as handle:
        response = client.post("/v1/calls", headers=auth(tokens["coach"]), files={"file": ("..", handle)})
    assert response.status_code in (200, 201, 422) and response.status_code != 500
    assert upload(client, tokens["coach"], path, call_id="x" * 201).status_code == 422


def test_without_a_database_live_calls_go_on_and_the_api_says_why(tmp_path):
    settings = Settings(data_dir=tmp_path, database_url="postgresql+psycopg://coach:pw@127.0.0.1:1/coach")
    with TestClient(create_app(settings, preload=())) as client:
        ready = client.get("/readyz").json()
        assert "unavailable" in ready["storage"] and "pw" not in ready["storage"]
        response = client.get("/v1/calls", headers=auth("coach_x"))
        assert response.status_code == 503 and "cannot reach the database" in response.json()["detail"]


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
def test_mp3_and_ogg_recordings_are_accepted(client, tokens, tmp_path):
    mp3 = tmp_path / "short.mp3"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(SHORT_CALL), "-t", "12", str(mp3)], check=True)
    response = upload(client, tokens["coach"], mp3)
    assert response.status_code == 201, response.text
    assert response.json()["call"]["duration"] == pytest.approx(12, abs=0.5)


def test_filters_refuse_values_outside_their_sets(client, tokens):
    def get(**params):
        return client.get("/v1/calls", headers=auth(tokens["trainer"]), params=params)

    for params in ({"violation": "S1"}, {"violation": "US-THREAT"}, {"violation": "CN-HOURS"}, {"outcome": "refusal"},
                   {"status": "interrupted"}, {"language": "zh"}, {"date_from": "2026-01-01", "date_to": "2026-01-01"}):
        assert get(**params).status_code == 200, params
    for params, name, allowed in [
        ({"violation": "S9"}, "violation", "US-THREAT"), ({"violation": "s1"}, "violation", "S1, S2, S3, S4"),
        ({"violation": "us-threat"}, "violation", "CN-HOURS"), ({"outcome": "banana"}, "outcome", "promise_to_pay"),
        ({"status": "banana"}, "status", "'interrupted'"), ({"language": "fr"}, "language", "'zh'"),
        ({"date_from": "2026-13-01"}, "date_from", "date"), ({"date_from": "2026-02-01", "date_to": "2026-01-31"}, "date_to", "before"),
        ({"limit": 5000}, "limit", "1000"), ({"offset": -1}, "offset", "0"),
    ]:
        response = get(**params)
        assert response.status_code == 422, (params, response.text)
        [error] = response.json()["detail"]
        assert error["loc"] == ["query", name] and allowed in error["msg"], (params, error)
    report = client.get("/v1/reports", headers=auth(tokens["trainer"]), params={"outcome": "banana"})
    assert report.status_code == 422
    events = client.get("/v1/calls/x/events", headers=auth(tokens["trainer"]), params={"type": "gossip"})
    assert events.status_code == 422 and "compliance" in events.text


def test_long_input_is_never_echoed(client, tokens):
    long = "A" * 5000
    for response in (client.get("/v1/calls", headers=auth(tokens["trainer"]), params={"agent_id": long}),
                     client.get("/v1/calls", headers=auth(tokens["trainer"]), params={"violation": long}),
                     client.get(f"/v1/calls/{long}", headers=auth(tokens["trainer"])),
                     upload(client, tokens["coach"], EXAMPLES / "en-cooperative.json", language=long[:20]),
                     upload(client, tokens["coach"], EXAMPLES / "en-cooperative.json", playbook=long[:200])):
        assert response.status_code == 422, response.text
        assert "A" * 201 not in response.text and len(response.text) < 2000


def test_many_bad_parameters_give_a_short_answer(client, tokens):
    params = [("type", f"bad{n}") for n in range(3000)]
    response = client.get("/v1/calls/any/events", headers=auth(tokens["trainer"]), params=params)
    assert response.status_code == 422 and len(response.content) < 20_000
    assert "and 2980 more" in response.text


def test_a_huge_note_is_refused_before_it_is_read(client, tokens):
    note = {"text": "x" * 20_000_000}
    response = client.post("/v1/calls/any/notes", headers=auth(tokens["coach"]), json=note)
    assert response.status_code == 413 and "COACH_MAX_REQUEST_BYTES" in response.json()["detail"]
    assert len(response.content) < 500
    # no Content-Length (chunked): counted as it arrives
    chunks = (b"x" * 65_536 for _ in range(40))
    response = client.post("/v1/calls/any/notes", headers=auth(tokens["coach"]) | {"Content-Type": "application/json"},
                           content=chunks)
    assert response.status_code == 413 and len(response.content) < 500
    # within the limit but over the note's own: 422 without the text
    response = client.post("/v1/calls/any/notes", headers=auth(tokens["coach"]), json={"text": "y" * 20_000})
    assert response.status_code == 422 and "y" * 201 not in response.text


def test_half_a_character_in_a_note_or_metadata_is_refused_not_a_500(client, tokens):
    response = client.post("/v1/calls/any/notes", headers=auth(tokens["coach"]) | {"Content-Type": "application/json"},
                           content=b'{"text": "fine \\ud800"}')
    assert response.status_code == 422 and "valid string" in response.text  # its echo was a 500
    call = {"call_id": "half-meta", "language": "en", "utterances": [{"speaker": "agent", "text": "hello", "start": 0, "end": 1}]}
    response = client.post("/v1/calls", headers=auth(tokens["coach"]), files={"file": ("c.json", json.dumps(call).encode())},
                           data={"metadata": '{"agent_id": "a\\udfff"}'})
    assert response.status_code == 422 and "lone surrogate" in response.json()["detail"]


def test_an_upload_over_the_limit_is_refused_from_its_length(client, tokens):
    response = client.post("/v1/calls", headers=auth(tokens["coach"]) | {"Content-Type": "multipart/form-data; boundary=x",
                                                                         "Content-Length": str(50_000_000)},
                           content=b"--x\r\n")
    assert response.status_code == 413 and "COACH_MAX_UPLOAD_BYTES" in response.json()["detail"]


def test_errors_name_no_server_path(client, tokens):
    response = client.post("/v1/calls", headers=auth(tokens["coach"]),
                           files={"file": ("broken.wav", b"RIFF\x00\x00\x00\x00WAVEfmt garbage" * 20)})
    assert response.status_code == 422 and response.json()["detail"].startswith("broken.wav: cannot decode audio")
    assert "/tmp" not in response.text and "coach-upload" not in response.text


def test_a_client_chooses_a_playbook_by_id_only(client, tokens, tmp_path):
    from coach.playbook import builtin_playbooks

    for ref in ("/etc/passwd", "../../../../etc/passwd", str(builtin_playbooks()["en-US-collections"]), "martian"):
        response = upload(client, tokens["coach"], EXAMPLES / "en-cooperative.json", playbook=ref)
        assert response.status_code == 422, response.text
        detail = response.json()["detail"]
        assert "unknown playbook" in detail and "installed playbooks: en-US-collections, zh-CN-bank-collections" in detail
        assert "root" not in detail and "not found" not in detail
    call = json.loads((EXAMPLES / "en-hardship.json").read_text(encoding="utf-8")) | {"call_id": "by-id"}
    (path := tmp_path / "by-id.json").write_text(json.dumps(call), encoding="utf-8")
    response = upload(client, tokens["coach"], path, playbook="en-US-collections")
    assert response.status_code == 201, response.text
    assert response.json()["call"]["playbook"].startswith("en-US-collections@")


def test_a_repaired_call_says_what_was_repaired(client, tokens):
    document = {"call_id": "repaired", "language": "en", "utterances": [
        {"speaker": "agent", "text": "hi this is sam from acme calling about your account", "start": 0, "end": 6},
        {"speaker": "agent", "text": "am i speaking with jordan", "start": 3, "end": 7},
        {"speaker": "debtor", "text": "", "start": 7.5, "end": 8},
        {"speaker": "debtor", "text": "yes speaking", "start": 8, "end": 9}]}
    response = client.post("/v1/calls", headers=auth(tokens["coach"]),
                           files={"file": ("repaired.json", "\ufeff".encode("utf-16-le") + json.dumps(document).encode("utf-16-le"))})
    assert response.status_code == 201, response.text
    detail = client.get("/v1/calls/repaired", headers=auth(tokens["coach"])).json()
    assert [w["code"] for w in detail["warnings"]] == ["empty_utterance_dropped", "overlap_repaired"]
    assert [u["end"] for u in detail["utterances"]][:2] == [3, 7] and len(detail["utterances"]) == 3

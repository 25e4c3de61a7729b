"""``/v1/mining``: trainers' figures over the stored mining calls, with real tokens, a real database
and the real engines."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from coach.config import Settings
from coach.mining import MiningSettings
from coach.storage import CallStore
from server.app import create_app
from tests.mining.calls import EN_PLANTED, ZH_PLANTED, stored_database

ROUTES = ("intents", "responses", "clusters", "report")


@pytest.fixture(scope="module")
def engines(en_engine, zh_engine):
    return {"en": en_engine, "zh": zh_engine}


@pytest.fixture(scope="module")
def parts(engines, tmp_path_factory):
    folder = tmp_path_factory.mktemp("mining-api")
    settings = Settings(data_dir=folder)
    store = CallStore(stored_database(engines, folder), settings)
    tokens = {
        "trainer": store.create_token("tia", "trainer")[0],
        "admin": store.create_token("ada", "admin")[0],
        "coach": store.create_token("cho", "coach", team="south")[0],
        "supervisor": store.create_token("sue", "supervisor", team="north")[0],
        "agent": store.create_token("ann", "agent", agent_id="a1")[0],
        "integration": store.create_token("dialer", "integration")[0],
    }
    yield settings, store, tokens
    store.close()


@pytest.fixture(scope="module")
def client(parts):
    settings, store, _ = parts
    with TestClient(create_app(settings, preload=(), store=store)) as client:
        yield client


@pytest.fixture(scope="module")
def tokens(parts):
    return parts[2]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_mining_needs_a_token_and_a_role_that_may_mine(client, tokens):
    for route in ROUTES:
        assert client.get(f"/v1/mining/{route}").status_code == 401
        assert client.get(f"/v1/mining/{route}", headers=auth("coach_wrong")).status_code == 401
        for role in ("agent", "integration"):
            response = client.get(f"/v1/mining/{route}", headers=auth(tokens[role]))
            assert response.status_code == 403 and role in response.json()["detail"]


def test_trainers_get_the_intents_of_every_call(client, tokens):
    response = client.get("/v1/mining/intents", headers=auth(tokens["trainer"]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["window"]["languages"].keys() == {"en", "zh"}
    afford = next(i for i in body["intents"] if i["intent"] == "cannot_afford")
    assert afford["calls"] == len(afford["call_ids"]) and afford["by_team"] and afford["weekly"]
    assert {"call_id", "utterance_id"} == set(afford["utterance_refs"][0])


def test_coaches_mine_only_their_teams_calls(client, tokens):
    everything = client.get("/v1/mining/intents", headers=auth(tokens["trainer"])).json()
    coach = client.get("/v1/mining/intents", headers=auth(tokens["coach"])).json()
    assert 0 < coach["window"]["calls"] < everything["window"]["calls"]
    teams = {g["key"] for i in coach["intents"] for g in i["by_team"]}
    assert teams == {"south"}
    # asking for another team's calls finds none of them
    other = client.get("/v1/mining/intents", params={"team": "north"}, headers=auth(tokens["coach"]))
    assert other.status_code == 404 and "no stored calls match" in other.json()["detail"]
    supervisor = client.get("/v1/mining/intents", headers=auth(tokens["supervisor"])).json()
    assert {g["key"] for i in supervisor["intents"] for g in i["by_team"]} == {"north"}
    assert supervisor["window"]["calls"] + coach["window"]["calls"] == everything["window"]["calls"]


def test_clusters_and_responses_over_the_same_filters(client, tokens):
    clusters = client.get("/v1/mining/clusters", params={"language": "zh"}, headers=auth(tokens["admin"]))
    assert clusters.status_code == 200, clusters.text
    [credit] = [c for c in clusters.json()["clusters"] if sum(m["text"] in ZH_PLANTED for m in c["members"]) >= 10]
    assert credit["new"] and "征信" in credit["keywords"] and credit["id"].startswith("zh-")
    assert all({"call_id", "utterance_id", "text"} == set(m) for m in credit["members"])
    english = client.get("/v1/mining/clusters", params={"language": "en", "date_from": "2026-10-19"},
                         headers=auth(tokens["trainer"])).json()
    assert any(sum(m["text"] in EN_PLANTED for m in c["members"]) >= 10 for c in english["clusters"])
    responses = client.get("/v1/mining/responses", params={"language": "en", "min_calls": 2},
                           headers=auth(tokens["trainer"]))
    assert responses.status_code == 200, responses.text
    groups = [g for o in responses.json()["responses"] for g in o["groups"]]
    assert any(g["response"] == "off_script" for g in groups) and any(g["rank"] == 1 for g in groups)
    assert responses.json()["window"]["min_calls"] == 2


def test_the_report_is_html(client, tokens):
    response = client.get("/v1/mining/report", params={"language": "zh"}, headers=auth(tokens["trainer"]))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "What the playbook misses" in response.text and "<script" not in response.text


def test_bad_filters_are_422_and_no_calls_404(client, tokens):
    headers = auth(tokens["trainer"])
    backwards = client.get("/v1/mining/intents", params={"date_from": "2026-11-01", "date_to": "2026-10-01"},
                           headers=headers)
    assert backwards.status_code == 422 and "date_to" in backwards.text
    assert client.get("/v1/mining/intents", params={"language": "fr"}, headers=headers).status_code == 422
    assert client.get("/v1/mining/intents", params={"min_calls": 0}, headers=headers).status_code == 422
    unknown = client.get("/v1/mining/clusters", params={"playbook": "../etc/passwd"}, headers=headers)
    assert unknown.status_code == 422 and "unknown playbook" in unknown.text
    none = client.get("/v1/mining/clusters", params={"date_from": "2030-01-01"}, headers=headers)
    assert none.status_code == 404 and "no stored calls match" in none.json()["detail"]


def test_the_number_of_calls_mined_is_capped(client, tokens):
    client.app.state.mining = MiningSettings(max_calls=10, timeout_seconds=120)
    try:
        body = client.get("/v1/mining/intents", params={"max_calls": 500}, headers=auth(tokens["trainer"])).json()
    finally:
        client.app.state.mining = MiningSettings()
    assert body["window"]["calls"] == 10 and body["window"]["truncated"] and body["window"]["max_calls"] == 10


def test_mining_that_takes_too_long_is_stopped_with_a_clear_answer(client, tokens):
    client.app.state.mining = MiningSettings(timeout_seconds=1e-6)
    try:
        response = client.get("/v1/mining/clusters", headers=auth(tokens["trainer"]))
    finally:
        client.app.state.mining = MiningSettings()
    assert response.status_code == 503 and "took too long" in response.json()["detail"]

"""/v1/playbooks: any token lists the installed playbooks; admins upload new ones, validated."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from coach.config import Settings
from coach.playbook import builtin_playbooks
from coach.storage import CallStore
from server.app import create_app
from tests import yaml_io

#: Room for the shipped playbooks (they grow) and a trainer's copy of one, below the server's default.
LIMIT = 2 * max(path.stat().st_size for path in builtin_playbooks().values())


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("playbooks-api")
    settings = Settings(data_dir=folder, max_playbook_bytes=LIMIT)
    store = CallStore(settings.database(), settings)
    tokens = {"admin": store.create_token("ada", "admin")[0], "trainer": store.create_token("tim", "trainer")[0],
              "agent": store.create_token("ann", "agent", agent_id="a1")[0]}
    with TestClient(create_app(settings, preload=(), store=store)) as client:
        yield client, tokens, settings


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def own_book(**changes) -> bytes:
    data = yaml_io.shipped_playbook("en-US-collections")
    data.update({"id": "acme-early", "version": "3.0.0", "name": "ACME early stage", **changes})
    return yaml_io.dump(data, allow_unicode=True).encode()


def post(client, token, raw: bytes, content_type="application/yaml"):
    return client.post("/v1/playbooks", headers=auth(token) | {"Content-Type": content_type}, content=raw)


def test_any_token_lists_the_installed_playbooks(setup):
    client, tokens, _ = setup
    assert client.get("/v1/playbooks").status_code == 401
    books = client.get("/v1/playbooks", headers=auth(tokens["agent"])).json()
    shipped = {b["id"]: b for b in books if b["shipped"]}
    assert set(shipped) == {"en-US-collections", "zh-CN-bank-collections"}
    assert shipped["zh-CN-bank-collections"]["language"] == "zh" and shipped["en-US-collections"]["version"]
    assert "path" not in shipped["en-US-collections"]


def test_an_admin_uploads_a_playbook_that_clients_can_then_choose(setup):
    client, tokens, settings = setup
    assert post(client, tokens["trainer"], own_book()).status_code == 403
    response = post(client, tokens["admin"], own_book())
    assert response.status_code == 201, response.text
    assert response.json() == {"id": "acme-early", "version": "3.0.0", "language": "en", "locale": "en-US",
                               "name": "ACME early stage", "shipped": False}
    assert (settings.playbook_folder() / "acme-early.yaml").is_file()
    assert "acme-early" in {b["id"] for b in client.get("/v1/playbooks", headers=auth(tokens["agent"])).json()}
    again = client.post("/v1/playbooks", headers=auth(tokens["admin"]), files={"file": ("x.yaml", own_book(version="3.0.1"))})
    assert again.status_code == 200 and again.json()["version"] == "3.0.1"
    # the same file again changes nothing; other content under an installed version is refused: stored
    # calls name acme-early@3.0.1 as where their hints came from
    assert post(client, tokens["admin"], own_book(version="3.0.1")).status_code == 200
    changed = post(client, tokens["admin"], own_book(version="3.0.1", name="ACME early stage, edited"))
    assert changed.status_code == 409 and "raise the playbook's version" in changed.json()["detail"]
    assert client.get("/v1/playbooks", headers=auth(tokens["admin"])).json()
    assert {b["name"] for b in client.get("/v1/playbooks", headers=auth(tokens["admin"])).json()
            if b["id"] == "acme-early"} == {"ACME early stage"}


def test_a_shipped_id_is_a_conflict(setup):
    client, tokens, _ = setup
    response = post(client, tokens["admin"], builtin_playbooks()["zh-CN-bank-collections"].read_bytes())
    assert response.status_code == 409 and "shipped" in response.json()["detail"]


def test_an_invalid_playbook_gets_its_field_errors(setup):
    client, tokens, settings = setup
    data = yaml_io.load(own_book(id="broken-book"))
    data["rules"][0]["severity"] = "S9"
    data["stages"][0]["cues"]["patterns"] = [r"(a|aa)*$"]
    response = post(client, tokens["admin"], yaml_io.dump(data).encode())
    assert response.status_code == 422
    body = response.json()
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert body["detail"] == "invalid playbook" and "rules.0.severity" in fields
    assert "backtrack catastrophically" in fields["stages.0.cues.patterns.0"]
    for raw in (b"root:x:0:0:root:/root:/bin/bash\n", b"\x00\x01binary", b"   "):
        response = post(client, tokens["admin"], raw)
        assert response.status_code == 422 and "root:x" not in response.text and "/root" not in response.text
    assert not (settings.playbook_folder() / "broken-book.yaml").exists()


def test_a_playbook_over_the_limit_is_refused_before_it_is_read(setup):
    client, tokens, _ = setup
    response = post(client, tokens["admin"], b"# " + b"x" * LIMIT)
    assert response.status_code == 413 and "COACH_MAX_PLAYBOOK_BYTES" in response.json()["detail"]


def test_the_default_limit_takes_a_trainers_copy_of_a_shipped_playbook():
    """A trainer downloads a shipped playbook, edits it and uploads it under a new id: the default
    COACH_MAX_PLAYBOOK_BYTES must leave room for that as the shipped playbooks grow."""
    assert LIMIT <= Settings().max_playbook_bytes

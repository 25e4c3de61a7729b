"""Body limits: refused from the declared length, or as a chunked body streams in, before any route reads it."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel

from coach.config import Settings
from server.body_limits import BodyLimit


JSON = {"Content-Type": "application/json"}


class Note(BaseModel):
    text: str


def body(size: int) -> bytes:
    return b'{"text": "' + b"x" * (size - 12) + b'"}'


def make_client() -> tuple[TestClient, list[int]]:
    app = FastAPI()
    app.add_middleware(BodyLimit, settings=Settings(max_request_bytes=1000, max_playbook_bytes=5000))
    seen: list[int] = []

    @app.post("/echo")
    async def echo(note: Note) -> dict:
        seen.append(len(note.text))
        return {"size": len(note.text)}

    @app.post("/v1/playbooks")
    async def playbooks(request: Request) -> dict:
        return {"size": len(await request.body())}

    return TestClient(app), seen


def test_bodies_within_the_limit_pass():
    client, seen = make_client()
    assert client.post("/echo", content=body(1000), headers=JSON).json() == {"size": 988}
    assert client.post("/v1/playbooks", content=b"x" * 5000).json() == {"size": 5000}
    assert seen == [988]


def test_a_declared_length_over_the_limit_is_refused_unread():
    client, seen = make_client()
    response = client.post("/echo", content=body(1001), headers=JSON)
    assert response.status_code == 413 and "COACH_MAX_REQUEST_BYTES" in response.json()["detail"] and not seen
    assert client.post("/v1/playbooks", content=b"x" * 5001).status_code == 413


def test_a_chunked_body_is_cut_off_as_it_passes_the_limit():
    client, seen = make_client()
    response = client.post("/echo", content=(chunk for chunk in [body(1000)[:900], b"x" * 300, b'"}']), headers=JSON)
    assert response.status_code == 413 and not seen
    assert "x" * 50 not in response.text


def test_a_malformed_length_is_a_bad_request():
    client, _ = make_client()
    response = client.post("/echo", content=b"abc", headers=JSON | {"Content-Length": "lots"})
    assert response.status_code == 400

"""Error answers: no long input echoed, no server path."""

from __future__ import annotations

from typing import Literal

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient

from coach.errors import CoachError, InputError, StorageError
from server import errors


def make_client() -> TestClient:
    app = FastAPI()
    app.add_exception_handler(CoachError, errors.coach_error)
    app.add_exception_handler(RequestValidationError, errors.invalid_request)

    @app.get("/colour")
    def colour(name: Literal["red", "green"], note: str = "") -> dict:
        if note:
            raise InputError(f"/tmp/coach-upload-abc123/{note}: cannot decode audio", hint="see /usr/lib/python3/x.py")
        return {"name": name}

    @app.post("/legs")
    def legs(body: dict[str, int]) -> dict:
        return body

    @app.get("/db")
    def db() -> dict:
        raise StorageError("cannot reach the database sqlite:////home/lee/.local/share/coach/coach.db")

    @app.get("/pg")
    def pg() -> dict:
        raise StorageError("cannot reach the database postgresql+psycopg://coach_svc:***@10.1.2.3:5432/coach_prod: refused")

    return TestClient(app)


def test_validation_errors_name_the_parameter_and_allowed_values_without_long_input():
    client = make_client()
    response = client.get("/colour", params={"name": "blue"})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "name"] and "'red' or 'green'" in error["msg"] and error["input"] == "blue"
    response = client.get("/colour", params={"name": "b" * 5000})
    assert "input" not in response.json()["detail"][0] and "b" * 201 not in response.text


def test_a_long_key_in_a_validation_error_is_cut_too():
    """A body's key is part of the error's location: a 30,000-character key came back whole."""
    response = make_client().post("/legs", json={"k" * 30_000: "x"})
    assert response.status_code == 422
    assert all(len(part) <= errors.ECHO_LIMIT for part in response.json()["detail"][0]["loc"])
    assert len(response.text) < 2000


def test_coach_errors_keep_file_names_and_drop_server_folders():
    client = make_client()
    response = client.get("/colour", params={"name": "red", "note": "call.wav"})
    assert response.status_code == 422
    assert response.json()["detail"] == "call.wav: cannot decode audio\n  hint: see x.py"
    response = client.get("/db")
    assert response.status_code == 503 and "/home/lee" not in response.text and "cannot reach the database" in response.text
    # nor where the database lives: user, host, port and name stay in the server's log
    response = client.get("/pg")
    assert response.status_code == 503 and response.json()["detail"] == "cannot reach the database <database>: refused"


def test_a_store_that_failed_to_open_names_no_database_to_a_client(tmp_path):
    """The 503 of every route while the store is down is answered before the token is checked: it
    must say what is wrong without the database's address."""
    from coach.config import Settings
    from server.app import create_app

    settings = Settings(data_dir=tmp_path, database_url="postgresql+psycopg://coach_svc:S3cret@127.0.0.1:1/coach_prod")
    with TestClient(create_app(settings, preload=())) as client:
        response = client.get("/v1/calls")
    assert response.status_code == 503 and "storage unavailable" in response.text
    assert not any(secret in response.text for secret in ("coach_svc", "S3cret", "127.0.0.1", "coach_prod"))


def test_clip_cuts_long_values():
    assert errors.clip("fr") == "'fr'"
    assert errors.clip("x" * 500).startswith("'" + "x" * 60 + "'") and "500 characters" in errors.clip("x" * 500)

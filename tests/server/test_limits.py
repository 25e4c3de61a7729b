"""The work queues that keep reviews and reports off the threads live calls run on."""

from __future__ import annotations

import asyncio
import tempfile
import threading
from pathlib import Path

import pytest
from fastapi import HTTPException

from server.limits import WorkQueue


def test_a_queue_refuses_past_a_holders_share_and_past_its_total():
    """Past either bound a request is refused at once, with when to come back, instead of hanging
    behind work that may take minutes; a slot frees as its job ends."""
    queue = WorkQueue("reports", total=2, per_holder=1, retry_after=7)
    release = threading.Event()

    async def scenario() -> list:
        first = asyncio.create_task(queue.run("coach:lee", lambda: release.wait(10) and "lee"))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(queue.run("coach:lee", lambda: "lee twice"))  # past lee's share
        third = asyncio.create_task(queue.run("coach:sue", lambda: "sue"))  # waits its turn
        await asyncio.sleep(0.05)
        fourth = asyncio.create_task(queue.run("trainer:tim", lambda: "tim"))  # past the total
        await asyncio.sleep(0.05)
        release.set()
        answers = await asyncio.gather(first, second, third, fourth, return_exceptions=True)
        return answers + [await queue.run("coach:lee", lambda: "lee again")]  # the slots freed

    lee, twice, sue, tim, again = asyncio.run(scenario())
    assert (lee, sue, again) == ("lee", "sue", "lee again")
    for refused, why in ((twice, "you already have 1 reports waiting or running"),
                         (tim, "the server is busy with 2 reports already")):
        assert isinstance(refused, HTTPException) and refused.status_code == 503
        assert refused.detail == f"{why}; retry in 7 s" and refused.headers == {"Retry-After": "7"}


def test_work_runs_on_the_queues_own_thread():
    queue = WorkQueue("reviews", total=1, per_holder=1)
    name = asyncio.run(queue.run("coach:lee", lambda: threading.current_thread().name))
    assert name.startswith("reviews")


@pytest.mark.parametrize("kind", ["report", "upload"])
def test_a_full_queue_answers_503_with_retry_after(kind, monkeypatch):
    """Through the API: a report or an upload past the queue's bound is a clear 503, never a hang."""
    from fastapi.testclient import TestClient

    from coach.config import Settings
    from coach.storage import CallStore
    from server import api
    from server.app import create_app
    from tests.conftest import EXAMPLES

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), uploads_per_minute=0)
        store = CallStore(settings.database(), settings)
        token = store.create_token("cho", "coach", team="north")[0]
        headers = {"Authorization": f"Bearer {token}"}
        monkeypatch.setattr(api, "REPORTS" if kind == "report" else "REVIEWS", WorkQueue(kind + "s", total=0, per_holder=1))
        with TestClient(create_app(settings, preload=(), store=store)) as client:
            if kind == "report":
                response = client.get("/v1/reports", headers=headers)
                if response.status_code == 404:  # no calls yet: store one through the (unbounded) review queue
                    with (EXAMPLES / "en-cooperative.json").open("rb") as handle:
                        assert client.post("/v1/calls", headers=headers, files={"file": ("c.json", handle)}).status_code == 201
                    response = client.get("/v1/reports", headers=headers)
            else:
                with (EXAMPLES / "en-cooperative.json").open("rb") as handle:
                    response = client.post("/v1/calls", headers=headers, files={"file": ("c.json", handle)})
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == "30" and "busy" in response.json()["detail"]


def test_an_upload_whose_review_takes_too_long_is_a_503_and_nothing_is_stored():
    """COACH_REVIEW_TIMEOUT_SECONDS through the API: the review gives up, the client is told why and
    what to do, and no call is stored."""
    from fastapi.testclient import TestClient

    from coach.config import Settings
    from coach.storage import CallStore
    from server.app import create_app
    from tests.conftest import EXAMPLES

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), uploads_per_minute=0, review_timeout_seconds=1e-9)
        store = CallStore(settings.database(), settings)
        token = store.create_token("cho", "coach", team="north")[0]
        with TestClient(create_app(settings, preload=(), store=store)) as client, \
                (EXAMPLES / "en-cooperative.json").open("rb") as handle:
            response = client.post("/v1/calls", headers={"Authorization": f"Bearer {token}"},
                                   files={"file": ("c.json", handle)})
        assert response.status_code == 503, response.text
        detail = response.json()["detail"]
        assert "the review of c.json took too long" in detail and "COACH_REVIEW_TIMEOUT_SECONDS" in detail
        assert store.list_calls() == []
        store.close()

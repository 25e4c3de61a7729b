"""The REST API fuzzed from its own OpenAPI schema (schemathesis) on a real server with a valid admin
token: whatever the inputs, valid for the schema or not, no 5xx and no traceback in any body.

Bounded: a few examples per operation and mode (``COACH_FUZZ_EXAMPLES``), derandomized, no example
database, no shrinking. (The schema is loaded from the running server inside the test and each operation's
strategy run with Hypothesis directly: schemathesis' lazy pytest loader does not run on pytest 9.)"""

from __future__ import annotations

import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode

from tests.conftest import EXAMPLES

EXAMPLES_PER_OPERATION = int(os.environ.get("COACH_FUZZ_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def api(fuzz_server):
    port, _, tokens = fuzz_server
    base = f"http://127.0.0.1:{port}"
    # something to find: a stored call with events and a scorecard
    with (EXAMPLES / "en-violations.json").open("rb") as handle:
        response = requests.post(f"{base}/v1/calls", files={"file": ("v.json", handle)}, data={"call_id": "fuzz-seed"},
                                 headers={"Authorization": f"Bearer {tokens['admin']}"}, timeout=300)
    assert response.status_code in (200, 201), response.text
    return base, tokens["admin"], schemathesis.openapi.from_url(f"{base}/openapi.json")


def test_no_server_errors_and_no_tracebacks(api):
    base, token, schema = api
    session = requests.Session()
    seen: dict[str, int] = {}
    failures: list[str] = []

    def check(case) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        response = case.call(base_url=base, session=session, timeout=120)
        name = f"{case.method.upper()} {case.operation.path}"
        seen[name] = seen.get(name, 0) + 1
        body = response.text
        if response.status_code >= 500 or "Traceback" in body or 'File "/' in body:
            failures.append(f"{name} -> {response.status_code}: {body[:300]}")
        kind = response.headers.get("content-type") or ""
        kind = kind[0] if isinstance(kind, list) and kind else kind  # schemathesis keeps header values as lists
        if response.status_code < 500 and response.status_code >= 400 and str(kind).startswith("application/json"):
            echoed = [value for value in _inputs(response.json()) if len(str(value)) > 200]
            if echoed:  # errors never echo long input
                failures.append(f"{name} -> {response.status_code}: echoes {len(str(echoed[0]))} characters of input")

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run = settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                           phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))(
                given(case=operation.as_strategy(mode))(check))
            try:
                run()
            except Unsatisfiable:  # nothing to get wrong (no parameters, no body): negative data cannot exist
                assert mode is GenerationMode.NEGATIVE
    assert not failures, "\n".join(failures[:20])
    assert sum(seen.values()) >= 3 * len(operations), seen


def _inputs(value) -> list:
    """Every ``input`` a validation error body quotes."""
    if isinstance(value, dict):
        return ([value["input"]] if "input" in value else []) + [i for v in value.values() for i in _inputs(v)]
    if isinstance(value, list):
        return [i for v in value for i in _inputs(v)]
    return []

"""Logs never carry API tokens, even those passed in links."""

from __future__ import annotations

import json
import logging

from server.logs import JsonFormatter


def test_tokens_in_urls_are_masked_in_logs():
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
                               ("10.0.0.1", "GET", "/v1/calls/x/audio?access_token=coach_s3cr3t-x&seek=1", "1.1", 200), None)
    line = json.loads(JsonFormatter().format(record))
    assert "coach_s3cr3t" not in line["message"] and "access_token=***&seek=1" in line["message"]


def test_stream_tokens_are_masked_in_logs():
    # uvicorn logs a WebSocket's path with its query string
    record = logging.LogRecord("uvicorn.error", logging.INFO, "", 0, '%s - "WebSocket %s" [accepted]',
                               ("127.0.0.1:5000", "/v1/stream?lang=en&token=coach_s3cr3t-y"), None)
    line = json.loads(JsonFormatter().format(record))
    assert "coach_s3cr3t" not in line["message"] and "/v1/stream?lang=en&token=***" in line["message"]
    record = logging.LogRecord("x", logging.INFO, "", 0, "opened /v1/stream?token=coach_abc", None, None)
    assert "coach_abc" not in JsonFormatter().format(record)


def test_tokens_under_a_percent_encoded_name_and_in_tracebacks_are_masked():
    """The server reads ``?access%5Ftoken=`` as ``access_token`` (an attack helper's find): so does
    the mask. A traceback that quotes a URL is masked as the message is."""
    for name in ("access%5Ftoken", "%61ccess_token", "%74oken"):
        record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '"GET %s HTTP/1.1" 200',
                                   (f"/v1/me?{name}=coach_s3cr3t-z",), None)
        assert "coach_s3cr3t" not in JsonFormatter().format(record), name
    try:
        raise ValueError("bad request to /v1/calls?access_token=coach_s3cr3t-w")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, "", 0, "failed", None, sys.exc_info())
    assert "coach_s3cr3t" not in JsonFormatter().format(record)
    record = logging.LogRecord("x", logging.INFO, "", 0, "GET /v1/calls?tokens=kept&limit=5", None, None)
    assert "tokens=kept" in JsonFormatter().format(record)  # only the token parameters are masked

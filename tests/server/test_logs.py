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

"""Structured logs: one JSON object per line, with the call id when there is one."""

from __future__ import annotations

import json
import logging
import re
import time

#: API tokens passed in a URL (``?access_token=`` for the audio player and report links, ``?token=``
#: for the live-call WebSocket from a browser).
_TOKEN_IN_URL = re.compile(r"([?&](?:access_)?token=)[^&\s\"']+")


class JsonFormatter(logging.Formatter):
    FIELDS = ("call_id", "event", "code", "client", "seconds", "lag")

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": _TOKEN_IN_URL.sub(r"\1***", record.getMessage()),
        }
        for name in self.FIELDS:
            if hasattr(record, name):
                data[name] = getattr(record, name)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def configure(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.Formatter.converter = time.gmtime

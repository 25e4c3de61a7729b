"""Structured logs: one JSON object per line, with the call id when there is one."""

from __future__ import annotations

import json
import logging
import re
import time
from urllib.parse import unquote_plus

#: A URL's query parameter: API tokens travel in one (``?access_token=`` for the audio player and
#: report links, ``?token=`` for the live-call WebSocket from a browser).
_QUERY_PARAMETER = re.compile(r"([?&])([^=&\s\"'?#]+)=([^&\s\"'#]*)")
#: Parameter names that carry a token, as the server reads them (percent-decoded: ``access%5Ftoken``
#: is ``access_token`` to Starlette, so it must be to the mask too).
_TOKEN_NAMES = frozenset({"token", "access_token"})


def mask_tokens(text: str) -> str:
    """``text`` with the value of every token query parameter replaced by ``***``."""
    def mask(match: re.Match[str]) -> str:
        if unquote_plus(match.group(2)).lower() in _TOKEN_NAMES:
            return f"{match.group(1)}{match.group(2)}=***"
        return match.group(0)
    return _QUERY_PARAMETER.sub(mask, text)


class JsonFormatter(logging.Formatter):
    FIELDS = ("call_id", "event", "code", "client", "seconds", "lag")

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": mask_tokens(record.getMessage()),
        }
        for name in self.FIELDS:
            if hasattr(record, name):
                data[name] = getattr(record, name)
        if record.exc_info:
            data["exception"] = mask_tokens(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False)


def configure(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.Formatter.converter = time.gmtime

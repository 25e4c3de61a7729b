"""Reading a platform's JSON text message into its model, with errors that never echo the input."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from coach.errors import InputError, describe_validation_error

Message = TypeVar("Message", bound=BaseModel)


def parse_json_message(text: str | None, model: type[Message], platform: str) -> Message:
    """``text`` as ``model``, or InputError saying what is wrong with it."""
    try:
        data = json.loads(text or "")
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InputError(f"not a JSON message ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise InputError(f"a {platform} message is a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"invalid {platform} message:\n" + describe_validation_error(exc)) from None

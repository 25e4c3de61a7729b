"""Genesys AudioHook messages: read as Genesys sends them."""

from __future__ import annotations

import json

import pytest

from coach.errors import InputError
from coach.telephony.audiohook import ServerMessages, duration, parse_message, roles, seconds

OPEN = {"version": "2", "type": "open", "seq": 1, "serverseq": 0, "id": "e160e428-53e2-487c-977d-96989bf5c99d",
        "position": "PT0S", "parameters": {
            "organizationId": "d7934305-0972-4844-938e-9060eef73d05", "conversationId": "090eaa2f-72fa-480a-83e0-8667ff89c0ec",
            "participant": {"id": "883efee8-3d6c-4537-b500-6d7ca4b92fa0", "ani": "+1-555-555-1234", "dnis": "+1-800-555-6789"},
            "media": [{"type": "audio", "format": "PCMU", "channels": ["external", "internal"], "rate": 8000},
                      {"type": "audio", "format": "PCMU", "channels": ["external"], "rate": 8000},
                      {"type": "audio", "format": "PCMU", "channels": ["internal"], "rate": 8000}],
            "language": "zh-CN"}}


def test_an_open_message_picks_both_channels_and_the_language():
    parameters = parse_message(json.dumps(OPEN)).open_parameters()
    media = parameters.chosen_media()
    assert media.channels == ["external", "internal"] and roles(media) == ["debtor", "agent"]
    assert parameters.call_language() == "zh"


def test_what_coach_cannot_take_is_said():
    bad = json.loads(json.dumps(OPEN))
    bad["parameters"]["media"] = [{"type": "audio", "format": "L16", "channels": ["external"], "rate": 16000}]
    with pytest.raises(InputError, match="PCMU"):
        parse_message(json.dumps(bad)).open_parameters().chosen_media()
    bad["parameters"]["language"] = "fr-FR"
    with pytest.raises(InputError, match="English and Chinese"):
        parse_message(json.dumps(bad)).open_parameters().call_language()
    with pytest.raises(InputError, match="version"):
        parse_message(json.dumps({**OPEN, "version": "1"}))
    with pytest.raises(InputError, match="conversationId"):
        parse_message(json.dumps({**OPEN, "parameters": {"media": OPEN["parameters"]["media"]}})).open_parameters()


def test_durations_and_server_sequence_numbers():
    assert seconds("PT0S") == 0 and seconds("PT1M2.5S") == 62.5 and seconds("PT1H") == 3600
    for bad in ("PT", "1.5", "P1D", None):
        with pytest.raises(InputError):
            seconds(bad)
    assert duration(2.0) == "PT2S" and duration(2.25) == "PT2.250S"
    messages = ServerMessages("s1")
    messages.clientseq = 4
    first, second = json.loads(messages.make("opened", {})), json.loads(messages.make("pong", {}, position=1.5))
    assert (first["seq"], second["seq"], second["clientseq"], second["position"]) == (1, 2, 4, "PT1.500S")

"""Twilio's Media Streams messages: read as Twilio sends them, written as Twilio would."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from coach.errors import InputError
from coach.telephony.twilio import parse_message, twilio_messages

# Twilio's documented messages (https://www.twilio.com/docs/voice/media-streams/websocket-messages).
CONNECTED = '{"event": "connected", "protocol": "Call", "version": "1.0.0"}'
START = json.dumps({
    "event": "start", "sequenceNumber": "1",
    "start": {"accountSid": "AC" + "1" * 32, "streamSid": "MZ" + "2" * 32, "callSid": "CA" + "3" * 32,
              "tracks": ["inbound", "outbound"], "customParameters": {"token": "t", "agent_id": "a17"},
              "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}},
    "streamSid": "MZ" + "2" * 32})
MEDIA = json.dumps({"event": "media", "sequenceNumber": "3",
                    "media": {"track": "outbound", "chunk": "1", "timestamp": "5", "payload": "no+JhoaJjpzSHxAKBgYJDhUf"},
                    "streamSid": "MZ" + "2" * 32})
STOP = json.dumps({"event": "stop", "sequenceNumber": "5", "stop": {"accountSid": "AC" + "1" * 32, "callSid": "CA" + "3" * 32},
                   "streamSid": "MZ" + "2" * 32})
DTMF = json.dumps({"event": "dtmf", "streamSid": "MZ" + "2" * 32, "sequenceNumber": "5",
                   "dtmf": {"track": "inbound_track", "digit": "1"}})
MARK = json.dumps({"event": "mark", "sequenceNumber": "4", "streamSid": "MZ" + "2" * 32, "mark": {"name": "my label"}})


def test_twilios_documented_messages_are_read():
    assert parse_message(CONNECTED).event == "connected"
    start = parse_message(START).start
    assert start.callSid.startswith("CA") and start.tracks == ["inbound", "outbound"]
    assert start.audio_format().channels == 2 and start.customParameters["agent_id"] == "a17"
    media = parse_message(MEDIA).media
    assert media.track == "outbound" and int(media.timestamp) == 5 and len(media.audio()) == 18
    assert parse_message(STOP).event == "stop"
    assert parse_message(DTMF).dtmf["digit"] == "1" and parse_message(MARK).event == "mark"


@pytest.mark.parametrize("text, problem", [
    ("{not json", "not a JSON message"),
    ("[1, 2]", "JSON object"),
    ('{"event": "start"}', "start"),
    ('{"event": "media", "media": {"track": "sideways", "timestamp": "1", "payload": ""}}', "track"),
    ('{"event": "media", "media": {"track": "inbound", "timestamp": "-4", "payload": ""}}', "timestamp"),
])
def test_malformed_messages_are_refused_clearly(text, problem):
    with pytest.raises(InputError, match=problem):
        parse_message(text)


def test_bad_base64_and_other_media_formats_are_refused():
    media = parse_message(MEDIA.replace("no+JhoaJjpzSHxAKBgYJDhUf", "***")).media
    with pytest.raises(InputError, match="base64"):
        media.audio()
    wide = parse_message(START.replace('"sampleRate": 8000', '"sampleRate": 16000')).start
    with pytest.raises(InputError, match="unsupported Twilio media format"):
        wide.audio_format()


def test_a_recording_is_written_as_twilio_streams_it():
    audio = np.zeros((2, 16_000), dtype=np.float32)  # one second, both tracks
    messages = [json.loads(text) for _, text in twilio_messages(audio, call_sid="CA1", dtmf={0.5: "7"})]
    assert [m["event"] for m in messages[:2]] == ["connected", "start"] and messages[-1]["event"] == "stop"
    media = [m for m in messages if m["event"] == "media"]
    assert len(media) == 100  # 50 chunks of 20 ms per track
    assert {m["media"]["track"] for m in media} == {"inbound", "outbound"}
    assert all(len(base64.b64decode(m["media"]["payload"])) == 160 for m in media)
    assert [m["media"]["timestamp"] for m in media[:4]] == ["0", "0", "20", "20"]
    assert [m["dtmf"]["digit"] for m in messages if m["event"] == "dtmf"] == ["7"]
    assert [int(m["sequenceNumber"]) for m in messages[1:]] == list(range(1, len(messages)))

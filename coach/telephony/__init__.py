"""Telephony platforms' audio streams, turned into the product's one live call.

Each platform sends a call its own way (Twilio: JSON messages with base64 mu-law, one track per party);
the modules here read that wire format and give :class:`~coach.live.LiveCall` what any stream gives
it: interleaved frames in a declared :class:`~coach.audio.formats.AudioFormat`, one channel per party.
They never import the web stack: the server's endpoints only move bytes.
"""

"""Audio in: wire formats, voice activity and streaming transcription."""

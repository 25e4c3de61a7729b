"""Recorded calls for coaches: transcription of recordings, the review pipeline and reports."""

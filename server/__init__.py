"""The FastAPI + WebSocket app: a thin adapter over the ``coach`` library."""

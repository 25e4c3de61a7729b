"""What ``coach serve`` checks before it starts: the port can be had and the speech model is on this
machine. Each failure is a :class:`~coach.errors.CoachError`, so the command exits with the README's
code (5 a bad setting: the port; 4 a model that is not available) and one clear line, instead of a
server that logs a traceback, or one that runs without the model it needs."""

from __future__ import annotations

import errno
import socket

from coach.config import Settings
from coach.errors import ConfigError
from coach.models import resolve_model_path


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port``, for uvicorn to serve on (no window for another process
    to take the port between this check and the server's start)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on {host!r}: {exc.strerror}", hint="give an address of this machine with --host") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is no obstacle
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} on {host} is already in use",
                              hint="stop the server that holds it, or choose another port with --port") from None
        if exc.errno == errno.EACCES:
            raise ConfigError(f"no permission to listen on port {port}", hint="ports below 1024 need root; use --port 8000") from None
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}", hint="check --host and --port") from None
    sock.set_inheritable(True)
    return sock


def check_speech_models(settings: Settings, languages: tuple[str, ...] = ("en",)) -> None:
    """The speech model of each language the server preloads is on this machine (or may be
    downloaded); :class:`~coach.errors.ModelUnavailableError` otherwise. Loading it still happens
    in the background after start-up (``/readyz``)."""
    for language in languages:
        name = settings.asr_model(language)
        if name:
            resolve_model_path(name, allow_downloads=settings.allow_downloads,
                               kind=f"speech model (COACH_ASR_MODEL_{language.upper()})")

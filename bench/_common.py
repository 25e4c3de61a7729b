"""Shared helpers for the benchmark scripts: machine description, percentiles, JSON results.

Not part of the product. Every script writes ``bench/results/<name>.json`` (git-ignored).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from coach.embeddings import _library_version  # the one lookup of an installed version

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
SHARED_DATA = Path(os.environ.get("COACH_BENCH_DATA", REPO.parent / "shared" / "data"))

if str(REPO) not in sys.path:  # run as `python bench/NAME.py` from anywhere
    sys.path.insert(0, str(REPO))


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = platform.processor() or ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    memory_gb = None
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpu_model": model,
        "cpus": os.cpu_count(),
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    # read from the installed metadata: importing them would cost seconds (torch) or build a dictionary
    # (rjieba), and rjieba has no __version__
    for name, distribution in (("torch", "torch"), ("sklearn", "scikit-learn"), ("sentence_transformers", "sentence-transformers"),
                               ("numpy", "numpy"), ("rjieba", "rjieba")):
        if (version := _library_version(distribution)) != "-":
            info[f"{name}_version"] = version
    try:
        info["git_commit"] = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "coach", "playbooks"],
            capture_output=True, text=True, check=False,
        ).stdout.strip()
        info["library_uncommitted_changes"] = bool(dirty)
    except OSError:
        pass
    return info


def wait_until_ready(port: int, server: subprocess.Popen, timeout_s: float = 600) -> None:
    """Wait for a `coach serve` started by a benchmark to answer /readyz (its models loaded); exit with
    a message if it dies or never gets there."""
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server exited while starting")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("the server never became ready")


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), q in [0, 100]."""
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), q))


def coach_settings() -> dict[str, Any]:
    """The model settings the engine will use, and whether they are the shipped offline defaults."""
    from coach.config import Settings, get_settings

    current = get_settings()
    defaults = Settings.model_construct()  # field defaults only: no environment, no .env
    keys = ("embedding_model_en", "embedding_model_zh", "nli_model", "sentiment_model_en", "sentiment_model_zh",
            "allow_downloads", "device", "embedding_backend", "torch_threads")
    used = {k: getattr(current, k) for k in keys}
    return {"settings": used, "offline_defaults": all(used[k] == getattr(defaults, k) for k in keys)}


def write_result(name: str, result: dict[str, Any], started: float, tag: str | None = None) -> Path:
    """Write ``bench/results/<name>.json`` (or ``<name>.<tag>.json`` for a variant run)."""
    result.setdefault("benchmark", name)
    result["date_utc"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    result["command"] = "python " + " ".join([f"bench/{name}.py", *sys.argv[1:]])
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    result.setdefault("machine", {})["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / (f"{name}.{tag}.json" if tag else f"{name}.json")
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


class CpuContention:
    """How busy the machine was with *other* processes while a block ran (from /proc/stat and this
    process's own CPU time): 0 means we had it to ourselves, 1.0 means one full other core busy.
    Only meaningful for single-process measurements."""

    def __enter__(self) -> Self:
        self._stat0 = _proc_stat_busy()
        self._own0 = time.process_time()
        self._wall0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        busy1 = _proc_stat_busy()
        wall = time.perf_counter() - self._wall0
        own = time.process_time() - self._own0
        self.other_cores = None
        if self._stat0 is not None and busy1 is not None and wall > 0:
            ticks = os.sysconf("SC_CLK_TCK")
            total_busy = (busy1 - self._stat0) / ticks
            self.other_cores = round(max(0.0, total_busy - own) / wall, 2)


def _proc_stat_busy() -> int | None:
    try:
        with open("/proc/stat") as handle:
            fields = [int(x) for x in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields[:8]) - idle


def wait_for_idle(max_wait_s: float, threshold_cores: float = 0.25, window_s: float = 5.0) -> dict[str, Any]:
    """Wait (up to ``max_wait_s``) until other processes use less than ``threshold_cores`` over a
    ``window_s`` window. Returns what happened, for the result file."""
    started = time.perf_counter()
    last = None
    while True:
        with CpuContention() as load:
            time.sleep(window_s)
        last = load.other_cores
        waited = time.perf_counter() - started
        if last is not None and last < threshold_cores:
            return {"idle": True, "waited_s": round(waited, 1), "other_cores": last}
        if waited >= max_wait_s:
            return {"idle": False, "waited_s": round(waited, 1), "other_cores": last}


def free_port() -> int:
    """A TCP port nothing listens on now, for a benchmark's own server."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]

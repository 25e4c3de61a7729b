"""Batch review on Ray Data: the plain review's per-call stages, spread over a machine's or a
cluster's cores.

``coach review`` runs each file's stages one after another in one process. A night of recordings
needs more cores than one machine has, and the stages need different things: decoding and cutting
into speech is plain CPU work, speech recognition needs the Whisper models in memory (seconds to load,
hundreds of MB), analysis needs the fitted engines. On Ray each runs where it fits:

1. **hash** (CPU tasks): each file's SHA-256; files whose content is already stored are not reviewed
   again (the driver checks the database);
2. **read** (CPU tasks): a transcript read and checked, or a recording decoded and cut into speech
   (:func:`coach.review.pipeline.read_file`);
3. **hear** (an actor pool; each actor loads its speech models once): the language check and speech
   recognition (:func:`~coach.review.pipeline.recording_language`,
   :func:`~coach.review.pipeline.recognize_recording`);
4. **analyse** (an actor pool; each actor loads the fitted engines once, from the disk cache of
   :mod:`coach.engine_cache`): :func:`~coach.review.pipeline.analyse_call`;
5. **store** (the driver): results are written as they stream in, in the order the files were given,
   each call in its own transaction as in the plain review; duplicates and taken names are decided
   there, in that order, by the same functions.

Every stage calls the functions the plain review calls, so the stored calls are identical, call for
call. A user's mistake in one file (:class:`~coach.errors.CoachError`) travels with that file to the
driver and is reported in its place; the other files go on.

``import ray`` happens only here and only when asked for, so coach works without Ray installed.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coach.config import Settings
from coach.engine import get_engine
from coach.errors import CoachError, ConfigError, InputError
from coach.review.pipeline import (
    DecodedRecording,
    ReviewedCall,
    ReviewRequest,
    StoredReview,
    analyse_call,
    check_file,
    check_playbook_language,
    check_recording_roles,
    earlier_review,
    file_hash,
    from_file,
    read_file,
    recognize_recording,
    recording_language,
    store_replacing,
)
from coach.storage import CallStore

log = logging.getLogger(__name__)

#: How long a cluster address may take to accept a TCP connection before it counts as not answering.
PROBE_SECONDS = 3.0
#: How long joining a cluster that answers may take (a healthy one takes one to three seconds).
CONNECT_SECONDS = 15.0
#: One analysis actor for this many CPUs. Of a call's CPU time, analysis takes 4 % (Chinese) to 15 %
#: (English: two embedding models), reading it (decoding, voice activity) 5-9 %, the language check
#: and speech recognition the rest, 76-91 % (measured: docs/scaling.md); a floor of both languages
#: needs about 8 % for each of the first two.
CPUS_PER_ANALYSER = 12
#: One CPU for the read tasks for this many CPUs.
CPUS_PER_READER = 12


class RemoteError(CoachError):
    """A user's mistake found on a Ray worker: its message and exit code, as the plain review gives them."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class _Work:
    """One file on its way through the stages (a Ray Data row holds it as a Python object)."""

    path: Path
    digest: str | None
    #: What the last stage made of it: a transcript's call, a decoded or heard recording, the reviewed call.
    stage: Any = None
    #: A user's mistake, (message, exit code): the later stages pass the file on untouched.
    error: tuple[str, int] | None = None

    def fail(self, exc: CoachError) -> None:
        self.stage, self.error = None, (str(exc), exc.exit_code)


@dataclass(frozen=True)
class Plan:
    """How many actors of each kind, and the logical CPUs each reserves."""

    recognizers: int
    recognizer_cpus: float
    analysers: int
    analyser_cpus: float
    reader_cpus: float

    @classmethod
    def for_cluster(cls, cpus: float, settings: Settings) -> Plan:
        """Actors for a cluster's CPUs. A speech recognition actor takes as many CPUs as the model has
        workers (``COACH_ASR_WORKERS``: CTranslate2 decodes a call's batch of windows on both); analysis and
        reading get their measured shares. On a machine smaller than one of each, the reservations are
        scaled down to fit: they are Ray's bookkeeping, not limits, and the processes share the cores
        as the plain review's threads do."""
        analysers = max(1, math.ceil(cpus / CPUS_PER_ANALYSER))
        readers = max(1, math.ceil(cpus / CPUS_PER_READER))
        per_recognizer = float(settings.asr_workers)
        recognizers = max(1, int((cpus - analysers - readers) // per_recognizer))
        demand = recognizers * per_recognizer + analysers + readers
        scale = min(1.0, cpus / demand) if cpus > 0 else 1.0
        return cls(recognizers=recognizers, recognizer_cpus=round(per_recognizer * scale, 3), analysers=analysers,
                   analyser_cpus=round(scale, 3), reader_cpus=round(scale, 3))


# -- connecting --------------------------------------------------------------------------------


def _ray():
    try:
        import ray
    except ImportError:
        raise ConfigError("--ray needs Ray, which is not installed",
                          hint="pip install 'coach[ray]' (or: pip install 'ray[data]')") from None
    return ray


@contextlib.contextmanager
def ray_session(address: str | None = None, settings: Settings | None = None, *, num_cpus: int | None = None,
                verbose: bool = False) -> Iterator[Any]:
    """Ray for the length of a review: the cluster at ``address``, or a local one started here (the
    default), or the one this process already joined (left running). Connecting fails with an
    :class:`InputError` within :data:`PROBE_SECONDS` when nothing answers at the address, and within
    :data:`CONNECT_SECONDS` when something answers but does not let us join."""
    if settings is not None and settings.device != "cpu":
        # the actors would need GPUs placed for them, speech and analysis alike (their results must
        # match the plain review's on the same device): not done yet, see docs/scaling.md
        raise ConfigError(f"--ray reviews on CPUs only, and COACH_DEVICE is {settings.device!r}",
                          hint="unset COACH_DEVICE (or set it to cpu) for --ray, or review without --ray on this GPU")
    ray = _ray()
    if ray.is_initialized():
        _quiet_ray_data(ray, verbose)
        yield ray
        return
    if not verbose:
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")  # Ray's own C++ warnings; -v shows them
    options: dict[str, Any] = {
        "include_dashboard": False, "log_to_driver": verbose, "logging_level": logging.INFO if verbose else logging.WARNING,
        # workers on other machines see the driver's configuration (models, thresholds, playbooks)
        "runtime_env": {"env_vars": {k: v for k, v in os.environ.items() if k.startswith("COACH_")}},
    }
    if address:
        _probe(address)
        _join(ray, address, options)
    else:
        # "local": always a Ray of our own, never one that `ray start` left on this machine (a stale one
        # would keep ray.init retrying for minutes) nor one that RAY_ADDRESS names
        ray.init(address="local", num_cpus=num_cpus, **options)
    _quiet_ray_data(ray, verbose)
    try:
        yield ray
    finally:
        ray.shutdown()


def _probe(address: str) -> None:
    """Refuse quickly an address where nothing answers (Ray itself retries for a minute or more)."""
    target = address.removeprefix("ray://")
    if target == "auto":
        return
    host, sep, port = target.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise InputError(f"{address!r} is not a Ray cluster address",
                         hint="give the head node's host:port, as printed by `ray start --head` (e.g. 10.0.0.5:6379)")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_SECONDS):
            pass
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or type(exc).__name__).lower()
        raise InputError(f"no Ray cluster answers at {address} ({reason}); nothing was reviewed",
                         hint="start one with `ray start --head` on that machine, or leave out --ray-address to run "
                              "Ray on this machine") from None


def _join(ray: Any, address: str, options: dict[str, Any]) -> None:
    """``ray.init`` on a thread, given up after :data:`CONNECT_SECONDS` (it may otherwise wait for
    minutes on an address that answers but is not a Ray head node)."""
    outcome: dict[str, Exception | None] = {}
    finished = threading.Event()

    def connect() -> None:
        try:
            ray.init(address=address, **options)
            outcome["error"] = None
        except (OSError, ValueError, RuntimeError, ray.exceptions.RayError) as exc:  # handed to the caller's thread
            outcome["error"] = exc
        finally:
            finished.set()

    threading.Thread(target=connect, name="ray-connect", daemon=True).start()
    if not finished.wait(CONNECT_SECONDS):
        raise InputError(f"the Ray cluster at {address} did not let us join within {CONNECT_SECONDS:.0f} s; nothing was "
                         "reviewed", hint="check that the address is the head node's GCS port (ray start --head prints it); "
                                          "a cluster with token authentication (Ray's default) also needs RAY_AUTH_MODE=token "
                                          "and its token here (~/.ray/auth_token or RAY_AUTH_TOKEN)")
    if "error" not in outcome:  # an unexpected failure, already reported on the thread
        raise InputError(f"cannot join the Ray cluster at {address}; nothing was reviewed")
    error = outcome["error"]
    if error is not None:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(f"cannot join the Ray cluster at {address}: {first}; nothing was reviewed") from None


def _quiet_ray_data(ray: Any, verbose: bool) -> None:
    """Ray Data's progress reports only with -v: the review prints each call as it is stored."""
    import ray.data

    with warnings.catch_warnings():  # Ray's own deprecated settings, read when the context is made
        warnings.simplefilter("ignore", DeprecationWarning)
        context = ray.data.DataContext.get_current()
    context.enable_progress_bars = verbose
    logging.getLogger("ray.data").setLevel(logging.INFO if verbose else logging.ERROR)


def cluster_plan(ray: Any, settings: Settings) -> Plan:
    resources = ray.cluster_resources()
    return Plan.for_cluster(float(resources.get("CPU", 1)), settings)


# -- the stages (run on Ray workers) ------------------------------------------------------------


def _in_directory(directory: str) -> None:
    """Relative paths mean what they mean to the driver (on a cluster, through a shared mount)."""
    if os.getcwd() != directory and os.path.isdir(directory):
        os.chdir(directory)


def _hash(row: dict[str, Any], directory: str) -> dict[str, Any]:
    _in_directory(directory)
    path = Path(row["path"])
    return {"index": row["index"], "digest": file_hash(path) if path.is_file() else None}


def _read(row: dict[str, Any], request: ReviewRequest, settings: Settings, directory: str) -> dict[str, Any]:
    _in_directory(directory)
    work: _Work = row["work"]
    try:
        check_file(work.path)
        work.stage = read_file(work.path, request, settings)
    except CoachError as exc:
        work.fail(exc)
    return row


class Recognizer:
    """A speech recognition actor: the language check and Whisper, models loaded once per actor."""

    def __init__(self, request: ReviewRequest, settings: Settings, directory: str) -> None:
        _in_directory(directory)
        self.request, self.settings = request, settings
        with contextlib.suppress(CoachError):  # warm-up only; a call that needs a missing model reports it
            from coach.live import load_speech_model, speech_model_named

            if settings.language_id_model:
                speech_model_named(settings.language_id_model, settings)
            if request.language in ("en", "zh", None):
                load_speech_model(request.language or "en", settings)

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        work: _Work = row["work"]
        if isinstance(work.stage, DecodedRecording):
            try:
                language, decoded = recording_language(work.stage, self.request, self.settings)
                _check_playbook(self.request, language, str(work.path))
                work.stage = recognize_recording(decoded, language, self.request, self.settings)
            except CoachError as exc:
                work.fail(exc)
        return row


def _check_playbook(request: ReviewRequest, language: str, source: str) -> None:
    """The plain review refuses an unusable playbook (or one for another language than the one
    heard) before recognition; so does this stage (the engine itself is fitted in the analysis
    actors, which report the same error)."""
    from coach.playbook.loader import default_playbook_id, load_playbook

    check_playbook_language(request, language, source)
    load_playbook(request.playbook or default_playbook_id(language))


class Analyser:
    """An analysis actor: the engine (fitted once per actor, or loaded from the disk cache) runs the call."""

    def __init__(self, request: ReviewRequest, settings: Settings, directory: str) -> None:
        _in_directory(directory)
        self.request, self.settings = request, settings
        with contextlib.suppress(CoachError):  # warm-up only; a call whose playbook cannot be used reports it
            # the engine itself (review_engine would refuse a playbook for the guessed language, and warm nothing)
            get_engine(request.playbook, language=request.language if request.language in ("en", "zh") else "en",
                       settings=settings)

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        work: _Work = row["work"]
        if work.error is None:
            try:
                reviewed = analyse_call(work.stage, self.request, self.settings)
                work.stage = from_file(reviewed, work.path, work.digest or file_hash(work.path))
            except CoachError as exc:
                work.fail(exc)
        return row


# -- the driver ---------------------------------------------------------------------------------


def review_on_ray(store: CallStore, paths: Sequence[Path], request: ReviewRequest, *, source: str,
                  settings: Settings, plan: Plan | None = None) -> Iterator[tuple[Path, StoredReview | CoachError]]:
    """Review and store ``paths`` on Ray (joined by :func:`ray_session`): for each file, in the order
    given, what the plain review gives (:func:`coach.review.pipeline.review_into_store`): the stored
    call, or the user's mistake."""
    import ray
    import ray.data

    paths = [Path(p) for p in paths]
    if not paths:
        return
    directory = os.getcwd()
    plan = plan or cluster_plan(ray, settings)
    log.info("reviewing %d files on Ray: %s", len(paths), plan)
    rows = [{"index": i, "path": str(p)} for i, p in enumerate(paths)]
    hashed = ray.data.from_items(rows, override_num_blocks=len(rows)).map(
        _hash, fn_kwargs={"directory": directory}, num_cpus=plan.reader_cpus)
    digests: dict[int, str | None] = {row["index"]: row["digest"] for row in hashed.iter_rows()}
    # content stored before this run is not reviewed again, unless the request asks for another review
    # (within the run, the write-time check decides)
    earlier = {i: earlier_review(store, digests[i], request) for i in range(len(paths))}
    todo = [i for i in range(len(paths)) if earlier[i][0] is None]
    results = _review([_Work(paths[i], digests[i]) for i in todo], todo, request, settings, directory, plan)
    waiting: dict[int, _Work] = {}
    pending = iter(todo)
    upcoming = next(pending, None)
    for index in range(len(paths)):
        if index != upcoming:
            yield paths[index], _store(store, paths[index], digests[index], None, None, request, source, settings)
            continue
        while index not in waiting:
            done_index, work = next(results)
            waiting[done_index] = work
        yield paths[index], _store(store, paths[index], digests[index], waiting.pop(index), earlier[index][1], request,
                                   source, settings)
        upcoming = next(pending, None)


def _review(works: list[_Work], indexes: list[int], request: ReviewRequest, settings: Settings,
            directory: str, plan: Plan) -> Iterator[tuple[int, _Work]]:
    """The read, hear and analyse stages, one file per block (each call moves on as soon as its stage
    is done: a call is seconds of work, a block's overhead milliseconds); yields (index, work) as calls
    finish, in any order."""
    import ray.data

    if not works:
        return
    rows = [{"index": i, "work": w} for i, w in zip(indexes, works)]
    arguments = {"request": request, "settings": settings, "directory": directory}
    dataset = (
        ray.data.from_items(rows, override_num_blocks=len(rows))
        .map(_read, fn_kwargs=arguments, num_cpus=plan.reader_cpus)
        .map(Recognizer, fn_constructor_kwargs=arguments, compute=ray.data.ActorPoolStrategy(size=plan.recognizers),
             num_cpus=plan.recognizer_cpus)
        .map(Analyser, fn_constructor_kwargs=arguments, compute=ray.data.ActorPoolStrategy(size=plan.analysers),
             num_cpus=plan.analyser_cpus)
    )
    for row in dataset.iter_rows():
        yield row["index"], row["work"]


def _store(store: CallStore, path: Path, digest: str | None, work: _Work | None, replacing: str | None,
           request: ReviewRequest, source: str, settings: Settings) -> StoredReview | CoachError:
    """What the plain review gives for this file, decided now, in the files' order: a duplicate when
    its content is stored and answers the request (before this run or by an earlier file of it), else
    its error, else the stored call (replacing the earlier review of it the request asked to redo)."""
    try:
        duplicate, _ = earlier_review(store, digest, request)
        if duplicate is not None:
            check_recording_roles(path, request)  # as the plain review: wrong roles are no duplicate's
            return duplicate
        if work is None:  # not reviewed because stored before the run, and since deleted: not expected
            raise InputError(f"{path}: was stored when the review began and is gone now; review it again")
        if work.error is not None:
            return RemoteError(*work.error)
        reviewed: ReviewedCall = work.stage
        return store_replacing(store, reviewed, request, replacing, source=source, settings=settings)
    except CoachError as exc:
        return exc


"""Time to fit a playbook edited by one example (a new engine to the cache), with the embeddings of
earlier fits kept on disk (``<COACH_CACHE_DIR>/embeddings``) and without them.

    python bench/refit.py                                   # both shipped playbooks
    python bench/refit.py --playbooks en-US-collections --runs 2

Each pair adds a line no fit has seen to the first intent, so the engine cache misses, and each fit
starts with the embedder's memory of recent texts emptied; the fit "without" turns the store off
(nothing on disk is removed). Models are loaded before the clock starts; no fitted engine is kept.
The added line is kept in the store, like any text a fit embeds. Run the two interleaved,
after one fit of the playbook has filled the store (``bash scripts/demo.sh`` or any ``coach``
command does), on an otherwise idle machine: this VM's speed drifts by a third within an hour.

Runtime: about 4 minutes per English pair and 2.5 per Chinese pair on a 2-core machine.
"""

from __future__ import annotations

import argparse
import time
from unittest import mock

import _common  # noqa: F401  (puts the repo on sys.path)
from _common import machine, write_result

from coach import embeddings, engine_cache
from coach.config import get_settings
from coach.engine import CoachEngine
from coach.playbook import load_playbook


def fit_edited(playbook_id: str, line: str, store: bool) -> tuple[float, CoachEngine]:
    """Seconds to fit ``playbook_id`` with ``line`` as a new example, and the engine: the line is new
    to the engine cache, and neither fit is kept there."""
    playbook = load_playbook(playbook_id)
    first, *rest = playbook.intents
    edited = playbook.model_copy(update={"intents": [first.model_copy(update={"examples": [*first.examples, line]}), *rest]})
    settings = get_settings()
    embedder = embeddings.load_embedder(  # the engine's own (shared) embedder: forget what it embedded
        settings.embedding_model(playbook.language), allow_downloads=settings.allow_downloads, device=settings.device,
        backend=settings.embedding_backend, cache_dir=settings.cache_dir, threads=settings.torch_threads,
        weights=settings.embedding_weights)
    if embedder is not None:
        embedder.clear_cache()
    began = time.perf_counter()
    # neither fit is kept in the engine cache, where it would push out the engines in use
    with mock.patch.object(engine_cache, "store", lambda *args: None):
        if store:
            engine = CoachEngine(edited)
        else:
            with mock.patch.object(embeddings, "store_for", lambda *args: None):
                engine = CoachEngine(edited)
    return round(time.perf_counter() - began, 1), engine


def largest_difference(a: CoachEngine, b: CoachEngine) -> float:
    """The largest difference between two engines' objection scores on the playbook's calibration
    lines: the vectors kept on disk must fit the engine that embedding afresh fits."""
    texts = [example.text for example in a.playbook.calibration_examples]
    scores = [[engine.detector._scores(engine.space.encode([text])) for text in texts] for engine in (a, b)]
    return max(abs(x[k] - y[k]) for x, y in zip(*scores) for k in x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--playbooks", nargs="+", default=["en-US-collections", "zh-CN-bank-collections"])
    parser.add_argument("--runs", type=int, default=1, help="interleaved pairs per playbook")
    args = parser.parse_args()
    started = time.perf_counter()
    figures: dict[str, dict[str, list[float]]] = {}
    for playbook_id in args.playbooks:
        load_playbook(playbook_id)
        runs = figures[playbook_id] = {"with_store_s": [], "without_store_s": [], "largest_score_difference": []}
        for run in range(args.runs):
            line = f"a line added to time a refit {time.time_ns()}"
            order = (True, False) if run % 2 == 0 else (False, True)  # alternated: the machine drifts
            timed = {store: fit_edited(playbook_id, line, store) for store in order}
            (with_store, stored), (without_store, fresh) = timed[True], timed[False]
            runs["with_store_s"].append(with_store)
            runs["without_store_s"].append(without_store)
            runs["largest_score_difference"].append(largest_difference(stored, fresh))
            print(f"{playbook_id}: with the store {with_store} s, without {without_store} s; largest difference in "
                  f"objection scores {runs['largest_score_difference'][-1]:.2g}", flush=True)
    path = write_result("refit", {"machine": machine(), "playbooks": figures}, started)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

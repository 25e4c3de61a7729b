"""Mining at about a thousand stored calls: `coach mine` end to end and its peak memory, the trainer
page's first view, and whether a planted topic the playbooks lack is found (docs/mining.md, Figures).

    python bench/mining_scale.py                   # 15 seeds: 1,065 calls
    python bench/mining_scale.py --seeds 3 --keep  # a smaller set, and keep its database to look at
    python bench/mining_scale.py --ray --no-page   # plain coach mine against coach mine --ray, no page

The calls are the mining tests' (tests/mining/calls.py: English and Chinese, four weeks, three agents
and two teams per language, objections the playbooks know answered on or off script, and questions
about the credit report, which no intent covers) under ``--seeds`` seeds, each call id prefixed with
its seed. Each is reviewed by the real engine of its language and stored as `coach review` stores it
(coach.review.pipeline), into a throwaway SQLite database in a temporary folder. Then:

- `coach mine --format json` runs ``--runs`` times as its own process over that database: wall time
  and peak resident memory (the process's own, from wait4), and how busy the machine was meanwhile
  with other work (the fitted engines are cached first, as any earlier `coach` command leaves them);
- from its clusters, per language: the cluster holding most planted utterances, the share of all
  planted utterances it holds (recall) and the share of its members that are planted (purity);
- a real `coach serve` over the database, and the trainer page in headless Chromium (the system's),
  signed in as a trainer: time from opening the page to the objections drawn (its first view) and to
  everything drawn, read from the page's own performance marks; first on a server that has mined
  nothing yet, then the three mining requests the page makes (intents, responses, clusters) timed
  alone, then the page again (``--openings`` in all).

Writes bench/results/mining_scale.json (mining_scale.ray.json with --ray, mining_scale.no-page.json with
only --no-page).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)
from _common import REPO, CpuContention, free_port, machine, wait_until_ready, write_result

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PARTS = ("intents", "responses", "clusters")


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


# -- the calls -----------------------------------------------------------------------------------

def build(database: str, seeds: int) -> dict:
    """Review and store the calls of ``seeds`` seeds; how many, how long, and the planted utterances."""
    from coach.config import Settings
    from coach.engine import get_engine
    from coach.review.pipeline import review_transcript, store_review
    from coach.storage import CallStore
    from coach.transcript import Call
    from tests.mining.calls import EN_PLANTED, ZH_PLANTED, transcripts

    started = time.perf_counter()
    engines = {"en": get_engine(language="en"), "zh": get_engine(language="zh")}
    loaded = time.perf_counter() - started
    store = CallStore(database, Settings(data_dir=Path(database.removeprefix("sqlite:///")).parent))
    planted = {"en": set(EN_PLANTED), "zh": set(ZH_PLANTED)}
    calls, planted_calls = 0, {"en": 0, "zh": 0}
    try:
        for seed in range(seeds):
            for document in transcripts(seed):
                document["call_id"] = f"s{seed:02d}-{document['call_id']}"
                call = Call.model_validate(document)
                store_review(store, review_transcript(call, engines[call.language]), source="cli")
                calls += 1
                planted_calls[call.language] += any(u.text in planted[call.language] for u in call.utterances)
            print(f"  seed {seed}: {calls} calls stored", file=sys.stderr, flush=True)
    finally:
        store.close()
    seconds = time.perf_counter() - started
    return {"calls": calls, "seeds": seeds, "planted_utterances": planted_calls, "engines_load_s": round(loaded, 1),
            "review_and_store_s": round(seconds - loaded, 1),
            "calls_per_s": round(calls / max(seconds - loaded, 1e-9), 1)}


def planted_counts(seeds: int) -> dict[str, int]:
    """Calls with a planted utterance per language, as :func:`build` counts them (without storing)."""
    from tests.mining.calls import EN_PLANTED, ZH_PLANTED, transcripts

    planted = {"en": set(EN_PLANTED), "zh": set(ZH_PLANTED)}
    out = {"en": 0, "zh": 0}
    for seed in range(seeds):
        for document in transcripts(seed):
            out[document["language"]] += any(u["text"] in planted[document["language"]] for u in document["utterances"])
    return out


# -- coach mine ----------------------------------------------------------------------------------

def warm_engines(env: dict[str, str]) -> float:
    """Fit and cache both engines for the library as it is now, in a process of its own (untimed): what
    any earlier `coach` command on this machine leaves behind, so the runs time mining, not a refit of
    a library edited since the calls were stored. Seconds it took."""
    began = time.perf_counter()
    script = "from coach.engine import get_engine\nfor language in ('en', 'zh'): get_engine(language=language)"
    subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, check=True)
    return round(time.perf_counter() - began, 1)


def mine_once(env: dict[str, str], *extra: str) -> tuple[dict, dict]:
    """`coach mine --format json` (with ``extra`` arguments, such as --ray) as its own process:
    (figures, the JSON it printed). With --ray the peak memory is the driver's (where clustering
    runs): Ray's actors are other processes, not its children."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, CpuContention() as load:
        began = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "coach.cli", "mine", "--format", "json", *extra], cwd=REPO,
                                   env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - began
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise SystemExit(f"coach mine failed ({process.returncode}): {err.read().decode(errors='replace')[-2000:]}")
        mined = json.loads(out.read())
    cpu = usage.ru_utime + usage.ru_stime
    # CpuContention counts every process but this one: `coach mine` itself is taken out too
    others = None if load.other_cores is None else round(max(0.0, load.other_cores - cpu / wall), 2)
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024), "cpu_s": round(cpu, 1),
            "other_cores_busy": others}, mined


def planted_topic(mined: dict, planted_utterances: dict[str, int]) -> dict:
    """Per language: the cluster with most planted utterances, its recall and purity."""
    from tests.mining.calls import EN_PLANTED, ZH_PLANTED

    planted = {"en": set(EN_PLANTED), "zh": set(ZH_PLANTED)}
    out = {}
    for language, lines in planted.items():
        clusters = [c for c in mined["clusters"] if c["language"] == language]
        if not clusters:
            out[language] = {"found": False}
            continue
        best = max(clusters, key=lambda c: sum(m["text"] in lines for m in c["members"]))
        hits = sum(m["text"] in lines for m in best["members"])
        out[language] = {"found": hits > 0, "cluster": best["id"], "label": best["label"], "size": best["size"],
                         "planted_in_it": hits, "planted_total": planted_utterances[language],
                         "recall": round(hits / planted_utterances[language], 3) if planted_utterances[language] else None,
                         "purity": round(hits / best["size"], 3), "new": best["new"],
                         "clusters_in_language": len(clusters),
                         # wordings not in it, and where they went: another cluster, or none (noise,
                         # ordinary answers, or set aside as covered by an intent)
                         "missed_wordings": {text: next((c["id"] for c in clusters if c is not best and any(
                             m["text"] == text for m in c["members"])), None)
                             for text in sorted(lines - {m["text"] for m in best["members"]})}}
    return out


# -- the trainer page ----------------------------------------------------------------------------

def api_times(url: str, token: str) -> dict[str, float]:
    """The three mining requests the trainer page makes, one after the other: seconds each."""
    out = {}
    for part in PARTS:
        request = urllib.request.Request(f"{url}/v1/mining/{part}", headers={"Authorization": f"Bearer {token}"})
        began = time.perf_counter()
        with urllib.request.urlopen(request, timeout=600) as response:
            body = response.read()
        out[part] = round(time.perf_counter() - began, 2)
        out[f"{part}_kb"] = round(len(body) / 1024)
    return out


def page_times(url: str, token: str, openings: int) -> list[dict]:
    """Open the trainer page ``openings`` times, signed in; when each part was drawn (s since opening)."""
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        try:
            for _ in range(openings):
                context = browser.new_context(viewport={"width": 1500, "height": 1000})
                context.add_init_script(f"localStorage.setItem('coach.review.token', {json.dumps(token)})")
                page = context.new_page()
                page.goto(f"{url}/trainer")
                page.wait_for_function("(document.body.dataset.loaded || '').split(' ').length === 3", timeout=600_000)
                marks = page.evaluate("Object.fromEntries(performance.getEntriesByType('mark')"
                                      ".filter(m => m.name.startsWith('coach:')).map(m => [m.name.slice(6), m.startTime]))")
                drawn = {part: round(marks[part] / 1000, 2) for part in PARTS}
                out.append({"first_view_s": drawn["intents"], "everything_s": max(drawn.values()), "drawn_s": drawn,
                            "bars": page.locator("#intent-bars g.bar").count(),
                            "clusters": page.locator("#clusters li.cluster").count()})
                context.close()
        finally:
            browser.close()
    return out


def serve_and_time(env: dict[str, str], token: str, openings: int) -> dict:
    port = free_port()
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen([sys.executable, "-m", "coach.cli", "serve", "--port", str(port)], cwd=REPO, env=env,
                                  stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_ready(port, server)
            url = f"http://127.0.0.1:{port}"
            # the page first, on a server that has mined nothing yet (its engines for responses and
            # clusters not loaded): a trainer's first look of the day; then the requests alone, then
            # the page again
            page = page_times(url, token, 1)
            api = api_times(url, token)
            page += page_times(url, token, openings - 1)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return {"page": page, "api_warm": api}


# -- main ----------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=15, help="seeds of tests/mining/calls.py (71 calls each)")
    parser.add_argument("--runs", type=int, default=2, help="times `coach mine` runs")
    parser.add_argument("--openings", type=int, default=2, help="times the trainer page is opened (at least 1)")
    parser.add_argument("--ray", action="store_true",
                        help="also time `coach mine --ray` (a local Ray on this machine) as many times, and check that "
                             "its JSON is the plain one's")
    parser.add_argument("--no-page", action="store_true", help="skip the trainer page (coach serve and Chromium)")
    parser.add_argument("--reuse", type=Path, metavar="FOLDER",
                        help="mine the database a run with --keep left in FOLDER (built with the same --seeds) instead of "
                             "building the calls again")
    parser.add_argument("--keep", action="store_true", help="keep the database's folder (printed) instead of deleting it")
    args = parser.parse_args()
    if args.seeds < 1 or args.runs < 1 or args.openings < 1:
        parser.error("--seeds, --runs and --openings are at least 1")
    began = time.perf_counter()
    load_before = uptime()
    folder = args.reuse.resolve() if args.reuse else Path(tempfile.mkdtemp(prefix="coach-mining-scale-"))
    try:
        database = f"sqlite:///{folder / 'coach.db'}"
        if args.reuse:
            built = {"reused": str(folder), "calls": None, "calls_per_s": None,
                     "planted_utterances": planted_counts(args.seeds)}
        else:
            print(f"building the calls in {folder}", file=sys.stderr)
            built = build(database, args.seeds)
        env = {**os.environ, "COACH_DATA_DIR": str(folder), "COACH_DATABASE_URL": database}
        built["engines_warm_s"] = warm_engines(env)
        runs, mined = [], None
        for _ in range(args.runs):
            figures, mined = mine_once(env)
            runs.append(figures)
            print(f"  coach mine: {figures}", file=sys.stderr, flush=True)
        ray_runs = []
        for _ in range(args.runs if args.ray else 0):
            figures, on_ray = mine_once(env, "--ray")
            figures["same_json_as_plain"] = on_ray == mined
            ray_runs.append(figures)
            print(f"  coach mine --ray: {figures}", file=sys.stderr, flush=True)
        topic = planted_topic(mined, built["planted_utterances"])
        from coach.config import Settings
        from coach.storage import CallStore

        served = None
        if not args.no_page:
            store = CallStore(database, Settings(data_dir=folder))
            token = store.create_token("bench-trainer", "trainer")[0]
            store.close()
            served = serve_and_time(env, token, args.openings)
    finally:
        if args.keep or args.reuse:
            print(f"kept {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    result = {"calls": built, "mine": runs, "mine_ray": ray_runs, "mined_window": mined["window"] if mined else None, "planted_topic": topic,
              "server": served, "uptime_before": load_before, "uptime_after": uptime(), "machine": machine()}
    # the trainer page's figures (bench/results/mining_scale.json) are kept when this run has none
    path = write_result("mining_scale", result, began, tag="ray" if args.ray else ("no-page" if args.no_page else None))
    print_table(result)
    print(f"written to {path}")


def print_table(result: dict) -> None:
    calls = result["calls"]
    rows = [("calls stored", f"{calls['calls']} ({calls['calls_per_s']} calls/s reviewed and stored)" if not calls.get("reused")
             else f"reused {calls['reused']}")]
    for i, run in enumerate(result["mine"], 1):
        figures = f"{run['wall_s']} s, peak {run['peak_rss_mb']} MB, other cores busy {run['other_cores_busy']}"
        rows.append((f"coach mine, run {i}", figures))
    for i, run in enumerate(result.get("mine_ray") or [], 1):
        figures = (f"{run['wall_s']} s, driver's peak {run['peak_rss_mb']} MB, other cores busy {run['other_cores_busy']}, "
                   f"same JSON as plain: {run['same_json_as_plain']}")
        rows.append((f"coach mine --ray, run {i}", figures))
    for language, found in result["planted_topic"].items():
        figures = "not found"
        if found.get("found"):
            figures = (f"{found['cluster']}: {found['planted_in_it']}/{found['planted_total']} found "
                       f"({found['recall']:.0%}), purity {found['purity']:.0%}")
        rows.append((f"planted topic ({language})", figures))
    server = result["server"]
    for i, page in enumerate(server["page"] if server else [], 1):
        rows.append((f"trainer page, opening {i}", f"first view {page['first_view_s']} s, everything {page['everything_s']} s"))
    if server:
        api = server["api_warm"]
        rows.append(("its API requests, warm", ", ".join(f"{p} {api[p]} s ({api[p + '_kb']} kB)" for p in PARTS)))
    before, after = (result[k].split("load average:")[-1].strip() for k in ("uptime_before", "uptime_after"))
    rows.append(("load average before / after", f"{before} / {after}"))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


if __name__ == "__main__":
    main()

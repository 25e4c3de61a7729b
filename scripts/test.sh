#!/usr/bin/env bash
# Installs coach with its test dependencies and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
COACH_EXTRAS=dev bash scripts/setup.sh
# Audio tests synthesise speech (espeak-ng) and convert it (sox, ffmpeg); page tests drive Chromium.
missing=""
for tool in espeak-ng sox ffmpeg chromium; do command -v "$tool" >/dev/null || missing="$missing $tool"; done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng sox ffmpeg chromium >/dev/null
  else
    echo "the tests need:$missing (sudo apt-get install espeak-ng sox ffmpeg chromium)" >&2; exit 1
  fi
fi
# Storage tests run against SQLite and a real PostgreSQL server, started here unless one is given.
pg_dir=""
if [ -z "${COACH_TEST_POSTGRES_URL:-}" ]; then
  if started=$(bash scripts/postgres.sh); then
    export COACH_TEST_POSTGRES_URL="${started%%$'\n'*}"
    pg_dir="${started#*$'\n'}"
    trap 'bash scripts/postgres.sh stop "$pg_dir"' EXIT  # the server started here goes with the run
  elif [ "${CI:-}" = true ]; then
    echo "CI needs PostgreSQL for the storage tests" >&2; exit 1
  else
    echo "warning: no PostgreSQL; storage tests run on SQLite only" >&2
  fi
fi
# Fit both shipped playbooks' engines (and their speaker-role classifiers) once, before the workers start: each would otherwise fit its own
# copy at the same moment (the fit is cached on disk, keyed by the playbook and the fitting code).
.venv/bin/python -c "
from coach.engine import get_engine
from coach.review.speakers import role_classifier
for playbook in ('en-US-collections', 'zh-CN-bank-collections'):
    role_classifier(get_engine(playbook))  # mono recordings' speaker roles, cached beside the engine
"
# Three workers (COACH_TEST_WORKERS; 0 runs in this process): the slowest tests play calls at real-time
# pace and wait on servers and subprocesses, so a third worker fills two cores' idle time (on two
# cores: 2 workers 9 min 15 s, 3 workers 6 min 39 s, 4 workers 8 min 6 s; docs/benchmarks.md section 71).
# A test file stays on one worker (its module fixtures).
# The slowest tests are listed at the end: the suite's time is a budget (~7 min on two cores).
# In a process group of its own, so a stopped run (Ctrl-C, a CI timeout) takes its workers and the
# servers they started with it instead of leaving them running. Ctrl-C reaches it as TERM (a job
# started with & in a script ignores SIGINT), and the script waits for the group to finish.
tests=""
trap '[ -z "$tests" ] || kill -TERM -- "-$tests" 2>/dev/null || true' INT TERM HUP
setsid -w .venv/bin/python -m pytest -n "${COACH_TEST_WORKERS:-3}" --dist loadfile --durations=25 "$@" <&0 &
tests=$!
status=0
wait "$tests" || status=$?
while kill -0 "$tests" 2>/dev/null; do wait "$tests" || status=$?; done  # a signal ended the wait, not the run
exit "$status"

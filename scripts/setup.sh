#!/usr/bin/env bash
# Creates .venv and installs coach into it. Sourced by demo.sh and test.sh; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# PyTorch first, pinned to the CPU build: anything that pulls torch in later then finds it satisfied
# instead of downloading gigabytes of CUDA packages.
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  .venv/bin/pip install --quiet "torch==2.13.0"
fi
EXTRAS=${COACH_EXTRAS:-}
stamp=".venv/.coach-installed${EXTRAS:+-$EXTRAS}"
# Within constraints.txt: the library versions the judgement was measured with (docs/benchmarks.md).
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
  .venv/bin/pip install --quiet -c constraints.txt -e ".${EXTRAS:+[$EXTRAS]}"
  touch "$stamp"
fi

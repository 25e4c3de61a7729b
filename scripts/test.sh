#!/usr/bin/env bash
# Installs coach with its test dependencies and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
COACH_EXTRAS=dev bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"

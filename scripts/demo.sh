#!/usr/bin/env bash
# The main job on the built-in defaults: analyse the bundled sample calls, one per language.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/coach analyze examples/en-hardship.json
.venv/bin/coach analyze examples/zh-violations.json

#!/usr/bin/env bash
# The main job on the built-in defaults: analyse bundled sample calls in both languages, then review
# two-channel recordings in both languages (speech recognition included: tiny.en for English, Whisper
# base for Chinese, both offline) and write the coach's HTML report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/coach analyze examples/en-hardship.json
.venv/bin/coach analyze examples/zh-violations.json
.venv/bin/coach review examples/audio/zh-violations.flac --language zh --no-store --report demo-report-zh.html
.venv/bin/coach review examples/audio/en-violations.flac examples/zh-hardship.json --no-store --report demo-report.html
echo "open demo-report.html (and demo-report-zh.html) in a browser for the coach's report; 'coach serve' for the console (/) and review page (/review)"

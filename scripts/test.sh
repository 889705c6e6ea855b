#!/usr/bin/env bash
# Install backcheck with its test tools into .venv, then lint, type-check and run the tests.
# Browser tests need Debian's chromium and chromium-driver (.ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
pip install --quiet --upgrade pip
pip install --quiet -e ".[test]"
# The pose model is built once from the PyPI mediapipe wheel when Google's model host
# can't be reached; BACKCHECK_MODEL_DIR keeps it between runs.
python -c "from models.provision import resolve_model; print('pose model:', resolve_model('full').path)"
ruff check .
mypy
# Everything runs here: a test that needs ../shared/data fails, rather than skips, without it.
export BACKCHECK_REQUIRE_SHARED=1
python -m pytest "$@"

#!/usr/bin/env bash
# Install backcheck with its test tools into .venv, then lint, type-check and run the tests.
# Browser tests need Debian's chromium and chromium-driver (.ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
pip install --quiet --upgrade pip
pip install --quiet -e ".[test,scale]"
# The pose models are built once when Google's model host can't be reached: full from the
# PyPI mediapipe wheel, lite and heavy from it and the npm package @mediapipe/pose (needs
# npm); BACKCHECK_MODEL_DIR keeps them between runs. A failure is one line and stops here.
python -m models.provision lite full heavy
ruff check .
ruff format --check .
mypy
# Everything runs here: a test that needs ../shared/data fails, rather than skips, without it.
export BACKCHECK_REQUIRE_SHARED=1
python -m pytest "$@"

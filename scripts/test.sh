#!/usr/bin/env bash
# Set up a virtualenv with Aurora and its test tools, then run every check and test.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -e ".[test]"
ruff check server tests benchmarks
ruff format --check server tests benchmarks
mypy
python -m pytest "$@"

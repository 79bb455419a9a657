#!/usr/bin/env bash
# Set up Aurora and run its main job on a real workspace: the Django 5.2.19 wheel from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
DEMO="${AURORA_DEMO_DIR:-${TMPDIR:-/tmp}/aurora-demo}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -e .
mkdir -p "$DEMO"
python -m pip download --quiet --no-deps django==5.2.19 -d "$DEMO"
if [ ! -d "$DEMO/django-5.2.19/django" ]; then
  python -m zipfile -e "$DEMO"/django-5.2.19-py3-none-any.whl "$DEMO/django-5.2.19"
fi
aurora-lsp index "$DEMO/django-5.2.19"
echo
aurora-lsp symbols "$DEMO/django-5.2.19" QuerySet.filter --limit 5
echo
aurora-lsp symbols "$DEMO/django-5.2.19" getresp --limit 5
echo
# what to read to work inside BaseHandler.get_response, in 1,500 tokens; then a question
aurora-lsp context "$DEMO/django-5.2.19" --file django/core/handlers/base.py --line 140 --budget 1500 --limit 12
echo
aurora-lsp context "$DEMO/django-5.2.19" --query "csrf token middleware" --budget 1500 --limit 8
echo
aurora-lsp stats "$DEMO/django-5.2.19"

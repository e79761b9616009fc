#!/usr/bin/env bash
# The whole test suite on a fresh machine: make the virtualenv, install, lint, run pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -r requirements-dev.txt
"$VENV/bin/ruff" check .
"$VENV/bin/python" -m pytest "$@"

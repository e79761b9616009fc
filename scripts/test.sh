#!/usr/bin/env bash
# The whole test suite on a fresh machine: make the virtualenv, install, lint, run pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

# Debian packages the device tests use, installed when missing (as root; CI runs as root):
# python3-numpy  tests/test_install.py installs the device side beside Bookworm's own numpy 1.24, as on a Pi
# systemd        tests/test_deploy.py checks the unit with systemd-analyze verify (reads files; no running systemd)
# gcc            tests/test_edgetpu.py and test_doctor.py build stand-in libedgetpu libraries
apt_missing=""
[ ! -x /usr/bin/python3 ] || /usr/bin/python3 -c "import numpy" 2>/dev/null || apt_missing="$apt_missing python3-numpy"
command -v systemd-analyze >/dev/null || apt_missing="$apt_missing systemd"
command -v cc >/dev/null || apt_missing="$apt_missing gcc"
if [ -n "$apt_missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get -o DPkg::Lock::Timeout=300 install -y -q $apt_missing >/dev/null ||
        { apt-get update -q >/dev/null && apt-get -o DPkg::Lock::Timeout=300 install -y -q $apt_missing >/dev/null; }
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -r requirements-dev.txt
"$VENV/bin/ruff" check .
"$VENV/bin/python" -m pytest "$@"

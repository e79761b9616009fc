#!/usr/bin/env bash
# The whole test suite on a fresh machine: make the virtualenv, install, lint, run pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

# Debian packages the tests use, installed when missing (as root; CI runs as root):
# mosquitto, openssl      tests/test_mqtt.py starts a real broker on 127.0.0.1 (TLS and passwords too)
# chromium, -driver       tests/test_web_page.py drives the status page in a real headless browser
# python3-numpy           tests/test_install.py installs the device side beside Bookworm-like OS numpy, as on a Pi
# systemd                 tests/test_deploy.py checks the unit with systemd-analyze verify (no running systemd)
# gcc                     tests/test_edgetpu.py and test_doctor.py build stand-in libedgetpu libraries
missing=()
command -v mosquitto >/dev/null || missing+=(mosquitto)
command -v mosquitto_passwd >/dev/null || missing+=(mosquitto)
command -v openssl >/dev/null || missing+=(openssl)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
[ ! -x /usr/bin/python3 ] || /usr/bin/python3 -c "import numpy" 2>/dev/null || missing+=(python3-numpy)
command -v systemd-analyze >/dev/null || missing+=(systemd)
command -v cc >/dev/null || missing+=(gcc)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
        echo "missing ${missing[*]}: run 'sudo apt-get install -y ${missing[*]}' (the MQTT, web page and device tests need them)" >&2
    else
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
            --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -r requirements-dev.txt
"$VENV/bin/ruff" check .
# Two workers, whole files each (module fixtures are built once), the slowest files first (tests/conftest.py
# SLOW_FIRST). The session's tiny run and export are built once and shared (tests/conftest.py built_once). On a
# fresh clone and 2 idle cores: pytest 2.9 minutes for 450 tests on this CPU (3.2 for 444), 5.9 for 438 on the slower one
# of earlier sessions (8.3 there before in-process TensorFlow runs; 19 in one process).
# -n 0: one process.
# Bytecode for the checkout's own modules: the suite starts `python -m edge_app ...` a few hundred times, and
# where the environment sets PYTHONDONTWRITEBYTECODE (this machine's image does) each start compiles them anew.
unset PYTHONDONTWRITEBYTECODE
"$VENV/bin/python" -m pytest -n 2 --dist loadfile --no-loadscope-reorder "$@"

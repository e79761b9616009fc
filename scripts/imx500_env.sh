#!/usr/bin/env bash
# Makes (once) the IMX500 toolchain's own virtualenv, .venv-imx500 (IMX500_VENV=DIR for another place), from
# requirements-imx500.txt, and checks that it imports. The main .venv is not touched. Then:
#   .venv-imx500/bin/python -m export --target imx500 --model models/number_detector.tflite --calibration calib.npz --out out/imx500
# Needs Python 3.10 or 3.11 (PYTHON=python3.11) and, for the converter, a Java runtime (apt-get install
# openjdk-17-jre-headless).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${IMX500_VENV:-.venv-imx500}
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || { echo "imx500_env: $PYTHON not found: the toolchain needs Python 3.10 or 3.11 (PYTHON=...)" >&2; exit 2; }
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
pip=("$VENV/bin/pip" install -q --disable-pip-version-check)
"${pip[@]}" -r requirements-imx500.txt
# The converter's packages without their pin of mct-quantizers (see requirements-imx500.txt).
"${pip[@]}" --no-deps $(awk '/^# --no-deps/{f=1; next} f{sub(/^# /, ""); print}' requirements-imx500.txt)
command -v java >/dev/null || echo "imx500_env: no java on PATH: the converter needs it (apt-get install -y openjdk-17-jre-headless)" >&2
"$VENV/bin/python" -c "import model_compression_toolkit as mct, tensorflow as tf; print('imx500 env:', 'tf', tf.__version__, 'mct', mct.__version__)"
command -v "$VENV/bin/imxconv-tf" >/dev/null && echo "imx500 env: $VENV/bin/imxconv-tf"

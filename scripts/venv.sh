# Sourced by main.sh and gpu_recipe.sh (from the repo root, $VENV set): step() prints a heading; then the
# training virtualenv is made once and its requirements installed, and $PY is its python.
step() { printf '\n== %s\n' "$*"; }

step "virtualenv ($VENV) and requirements"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -r requirements-train.txt
PY="$VENV/bin/python"

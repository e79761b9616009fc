#!/usr/bin/env bash
# The main job, start to finish on a CPU: synthetic data -> train the edge model -> calibrate ->
# export int8 -> read real pictures with the edge app (the fresh model and the shipped one).
#
#   bash scripts/main.sh            # quick: about 10 minutes on a 2-core CPU, artifacts in out/main
#   bash scripts/main.sh --full     # the recipe of the shipped model (hours on a CPU; use a GPU)
#
# SVHN=DIR points at the real data (default ../shared/data/svhn); without it the job trains on
# synthetic pictures only and reads synthetic pictures.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-quick}
VENV=${VENV:-.venv}
OUT=${OUT:-out/main}
SVHN=${SVHN:-../shared/data/svhn}
export TF_CPP_MIN_LOG_LEVEL=3 PYTHONPATH=.

step() { printf '\n== %s\n' "$*"; }

step "virtualenv ($VENV) and requirements"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -r requirements-train.txt
PY="$VENV/bin/python"

if [ "$MODE" = "--full" ]; then
  COUNT=100000; STEPS=20000; OUT=${OUT%/main}/full
else
  COUNT=3000; STEPS=500
fi
mkdir -p "$OUT"

REAL_DIGITS=(); DATA="$OUT/synth"; CALIB_DATA="$OUT/synth"; EVAL="$OUT/synth"; PICTURES="$OUT/synth"
if [ -d "$SVHN/recon/train" ]; then
  REAL_DIGITS=(--real-digits "$SVHN/format2_train_dev")
  DATA="$OUT/synth:0.7,$SVHN/recon/train:0.3"
  CALIB_DATA="$OUT/synth,$SVHN/recon/train"
  EVAL="$SVHN/recon/test"            # evaluation only: nothing is trained, tuned or picked on it
  PICTURES="$SVHN/format1_samples/test"
else
  echo "note: no real SVHN data at $SVHN: synthetic only (commercially clean, lower accuracy on real pictures)"
fi

step "synthetic house numbers: $COUNT pictures"
[ -f "$OUT/synth/digitStruct.csv" ] || "$PY" -m train.synth --out "$OUT/synth" --count "$COUNT" --seed 0 "${REAL_DIGITS[@]}"

step "train the edge network: $STEPS steps"
if [ -f "$OUT/run/metrics.json" ]; then echo "already trained: $OUT/run"
elif [ -f "$OUT/run/config.json" ]; then "$PY" -m train --out "$OUT/run" --resume
else "$PY" -m train --data "$DATA" --arch edge --out "$OUT/run" --steps "$STEPS" --eval-every 250 --val-fraction 0.2
fi

step "calibration set (training data only)"
"$PY" -m calibration --data "$CALIB_DATA" --count 300 --out "$OUT/calib.npz"

step "export full-integer int8 TF Lite + parity report"
"$PY" -m export --model "$OUT/run/model.keras" --calibration "$OUT/calib.npz" --out "$OUT/models" --force \
  --eval-data "$EVAL" --eval-limit 500

step "edge app (no TensorFlow needed) on real pictures: the model just trained"
"$PY" -m edge_app --model "$OUT/models/house_numbers.tflite" --source "$PICTURES" --boxes --threshold 0 \
  --jsonl "$OUT/readings_new_model.jsonl"

step "edge app: the shipped model on the same pictures"
"$PY" -m edge_app --source "$PICTURES" --boxes --threshold 0 --jsonl "$OUT/readings_shipped_model.jsonl"

step "summary"
"$PY" - "$OUT" "$EVAL" <<'PYEOF'
import json, sys
from pathlib import Path
out, data = Path(sys.argv[1]), sys.argv[2]
r = json.loads((out / "models" / "report.json").read_text())
int8 = r["variants"]["int8"]
print(f"trained model    {out / 'run' / 'model.keras'}")
print(f"int8 model       {out / 'models' / 'house_numbers.tflite'} ({int8['bytes'] / 1e6:.2f} MB)")
print(f"on {data} (first {r['count']}): float sequence accuracy {r['keras']['sequence_accuracy']:.3f}, "
      f"int8 {int8['sequence_accuracy']:.3f}, agreement {int8['agreement_with_float']:.3f}, "
      f"int8 latency {int8['latency_1_thread']['mean_ms']:.2f} ms (1 thread)")
print(f"parity report    {out / 'models' / 'report.md'}")
print(f"edge readings    {out / 'readings_new_model.jsonl'}, {out / 'readings_shipped_model.jsonl'}")
PYEOF

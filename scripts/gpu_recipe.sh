#!/usr/bin/env bash
# The full-SVHN recipe for a CUDA workstation: download train+test+extra, cache them, train the paper's
# `goodfellow` network, distil the `edge` network from it, export int8 and evaluate on the official
# test split (13,068 pictures).
#
#   bash scripts/gpu_recipe.sh                 # everything, in out/gpu (hours on one GPU; about 6 GB of disk)
#   STEPS=2000 EDGE_STEPS=2000 bash scripts/gpu_recipe.sh   # a shorter try
#
# Every step is resumable: rerun the same command after a stop and finished steps are skipped.
# Uses every GPU of the machine (MirroredStrategy) and mixed precision (float16 with loss scaling).
# Not run here: the machines this project is built on have no GPU with TensorFlow and no internet.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
OUT=${OUT:-out/gpu}
SVHN=${SVHN:-data/svhn}                # where the official archives are unpacked
ARCHIVES=${ARCHIVES:-}                 # a folder of archives fetched by hand (no network needed then)
STEPS=${STEPS:-60000}                  # goodfellow steps (batch 128: about 33 passes over train+extra)
EDGE_STEPS=${EDGE_STEPS:-60000}
BATCH=${BATCH:-128}
DISTILL_WEIGHT=${DISTILL_WEIGHT:-0.5}
export TF_CPP_MIN_LOG_LEVEL=3 PYTHONPATH=.

source scripts/venv.sh  # step(), the virtualenv, $PY
"$PY" -c "import tensorflow as tf; g = tf.config.list_physical_devices('GPU'); print(f'{len(g)} GPU(s):', *g)"

step "SVHN format 1: train, test, extra (2.6 GB of archives; resumes, checks MD5)"
"$PY" -m train.svhn download --splits train,test,extra --dir "$SVHN" ${ARCHIVES:+--archives "$ARCHIVES"}

step "crop caches (64x64 regions of every picture, built once, reused while the folders are unchanged)"
"$PY" - "$SVHN" <<'PYEOF'
import sys
from pathlib import Path
from train.cache import load_crops
for split in ("train", "extra", "test"):
    crops = load_crops(Path(sys.argv[1]) / split, skip_bad=True)
    print(f"{split}: {len(crops)} regions")
PYEOF

# The paper trains on train + extra; 2% of each (at most 3,000) is held out to pick the best model.
DATA="$SVHN/train:0.3,$SVHN/extra:0.7"
COMMON=(--batch-size "$BATCH" --mixed-precision --val-fraction 0.02 --val-max 3000 --eval-every 2000
        --checkpoint-every 1000 --skip-bad --seed 0)

train() {  # train RUN ARGS...: start, resume, or skip when finished
  local run=$1; shift
  if [ -f "$run/metrics.json" ]; then echo "already trained: $run"
  elif [ -f "$run/config.json" ]; then "$PY" -m train --out "$run" --resume
  else "$PY" -m train --out "$run" "$@"
  fi
}

step "teacher: goodfellow, $STEPS steps"
train "$OUT/goodfellow" --data "$DATA" --arch goodfellow --steps "$STEPS" "${COMMON[@]}"

step "student: edge distilled from the teacher, $EDGE_STEPS steps"
train "$OUT/edge" --data "$DATA" --arch edge --steps "$EDGE_STEPS" "${COMMON[@]}" \
  --teacher "$OUT/goodfellow/model.keras" --distill-weight "$DISTILL_WEIGHT"

step "calibration set (train split only) and int8 export, evaluated on the official test split"
"$PY" -m calibration --data "$SVHN/train" --count 1000 --out "$OUT/calib.npz"
"$PY" -m export --model "$OUT/edge/model.keras" --calibration "$OUT/calib.npz" --out "$OUT/export" --force \
  --variants int8,float --eval-data "$SVHN/test"

step "official test split (13,068 pictures): teacher (Keras) and the int8 edge model"
"$PY" -m train.evaluate --model "$OUT/goodfellow/model.keras" --data "$SVHN/test" --json "$OUT/test_goodfellow.json"
"$PY" -m train.evaluate --model "$OUT/export/house_numbers.tflite" --data "$SVHN/test" --json "$OUT/test_edge_int8.json"
"$PY" - "$OUT" <<'PYEOF'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
for name in ("goodfellow", "edge_int8"):
    r = json.loads((out / f"test_{name}.json").read_text())
    print(f"{name:12s} sequence accuracy {r['sequence_accuracy']:.4f} on {r['count']} official test pictures")
for run in ("goodfellow", "edge"):
    m = json.loads((out / run / "metrics.json").read_text())
    print(f"{run:12s} trained {m['steps']} steps at {m['train_images_per_second']} pictures/s on {m['replicas']} device(s)")
print(f"int8 model: {out / 'export' / 'house_numbers.tflite'} (copy it and its .json into models/ to ship it)")
PYEOF

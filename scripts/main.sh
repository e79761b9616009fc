#!/usr/bin/env bash
# The main job, start to finish on a CPU: synthetic data -> train the edge model -> calibrate ->
# export int8 -> read real pictures with the edge app (the fresh model and the shipped one); then the
# same for the number detector: synthetic scenes -> train -> calibrate -> export -> measure on the dev scenes.
#
#   bash scripts/main.sh            # quick: about 12 minutes on a 2-core CPU (4 of them installing), in out/main
#   bash scripts/main.sh --full     # the recipe of the shipped model (about an hour on a 2-core CPU)
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

source scripts/venv.sh  # step(), the virtualenv, $PY

# Quick: a few minutes of everything. Full: the recipe of the shipped model (two synthetic sets of
# 30k and 70k pictures, 12k steps; about 40 minutes of training on a 2-core CPU, minutes on a GPU).
if [ "$MODE" = "--full" ]; then
  OUT=${OUT%/main}/full; SETS=("synth30k 30000 100" "synth70k 70000 200"); STEPS=12000; EVAL_EVERY=1000
  DET_SCENES=12000; DET_STEPS=6000
else
  SETS=("synth 6000 0"); STEPS=1500; EVAL_EVERY=500
  DET_SCENES=1500; DET_STEPS=300
fi
APP_FRAMES=100  # scenes the edge app reads with --detect at the end
mkdir -p "$OUT"

REAL_DIGITS=(); SYNTH=(); for s in "${SETS[@]}"; do SYNTH+=("$OUT/${s%% *}"); done
SHARE=$(python3 -c "print(round(0.75 / ${#SYNTH[@]}, 4))")
DATA=$(printf "%s:$SHARE," "${SYNTH[@]}"); DATA=${DATA%,}
CALIB_DATA=${SYNTH[0]}; EVAL=${SYNTH[0]}; PICTURES=${SYNTH[0]}
if [ -d "$SVHN/recon/train" ]; then
  # recon/train is rebuilt from format2_train_dev's crops: the run's validation pictures (seed 0, 20%) keep
  # their digits out of the synthetic numbers, or its validation accuracy on them would be optimistic
  [ -d "$OUT/val_recon" ] || "$PY" scripts/validation_pictures.py --folder "$SVHN/recon/train" --val-fraction 0.2 \
    --out "$OUT/val_recon"
  REAL_DIGITS=(--real-digits "$SVHN/format2_train_dev" --hold-out "$OUT/val_recon")
  DATA="$DATA,$SVHN/recon/train:0.25"
  CALIB_DATA="${SYNTH[0]},$SVHN/recon/train"
  EVAL="$SVHN/recon/test"            # evaluation only: nothing is trained, tuned or picked on it
  PICTURES="$SVHN/recon/test"        # the app reads its first 20 pictures; evaluation only
else
  echo "note: no real SVHN data at $SVHN: synthetic only (commercially clean, lower accuracy on real pictures)"
fi

for s in "${SETS[@]}"; do
  read -r name count seed <<<"$s"
  step "synthetic house numbers: $count pictures ($name, seed $seed)"
  [ -f "$OUT/$name/digitStruct.csv" ] || "$PY" -m train.synth --out "$OUT/$name" --count "$count" --seed "$seed" "${REAL_DIGITS[@]}"
done

step "train the edge network: $STEPS steps"
if [ -f "$OUT/run/metrics.json" ]; then echo "already trained: $OUT/run"
elif [ -f "$OUT/run/config.json" ]; then "$PY" -m train --out "$OUT/run" --resume
else "$PY" -m train --data "$DATA" --arch edge --out "$OUT/run" --steps "$STEPS" --eval-every "$EVAL_EVERY" \
       --checkpoint-every 500 --val-fraction 0.2 --val-max 1000 --seed 0
fi

step "calibration set (training data only)"
"$PY" -m calibration --data "$CALIB_DATA" --count 500 --out "$OUT/calib.npz"

step "export full-integer int8 TF Lite + parity report"
"$PY" -m export --model "$OUT/run/model.keras" --calibration "$OUT/calib.npz" --out "$OUT/models" --force \
  --eval-data "$EVAL" --eval-limit 500

step "edge app (no TensorFlow needed) on real pictures: the model just trained"
rm -f "$OUT"/readings_*.jsonl
"$PY" -m edge_app --model "$OUT/models/house_numbers.tflite" --source "$PICTURES" --boxes --threshold 0 \
  --max-frames 20 --jsonl "$OUT/readings_new_model.jsonl"

step "edge app: the shipped model on the same pictures"
"$PY" -m edge_app --source "$PICTURES" --boxes --threshold 0 --max-frames 20 --jsonl "$OUT/readings_shipped_model.jsonl"

step "detector: $DET_SCENES training scenes at 192x144 (synthetic only; half cluttered, as for the shipped detector)"
[ -f "$OUT/scenes/scenes.json" ] || "$PY" -m train.synth scenes --out "$OUT/scenes" --count "$DET_SCENES" --seed 1 \
  --size 192x144 --clutter 0.5 --quiet
DET_EVAL=()
if [ -d "$SVHN/recon/test" ]; then
  step "dev scenes: 640x480 frames of real SVHN test numbers (evaluation only)"
  "$PY" scripts/make_dev_scenes.py --out "$OUT/dev_scenes" --svhn "$SVHN"
  DET_EVAL=(--eval-data "$OUT/dev_scenes"); SCENES="$OUT/dev_scenes"
else
  step "app scenes: $APP_FRAMES synthetic 640x480 frames (no real data here)"
  [ -f "$OUT/app_scenes/scenes.json" ] || "$PY" -m train.synth scenes --out "$OUT/app_scenes" --count "$APP_FRAMES" \
    --seed 7 --quiet
  SCENES="$OUT/app_scenes"
fi

step "train the detector: $DET_STEPS steps"
if [ -f "$OUT/det_run/metrics.json" ]; then echo "already trained: $OUT/det_run"
elif [ -f "$OUT/det_run/config.json" ]; then "$PY" -m train --out "$OUT/det_run" --resume
else "$PY" -m train --data "$OUT/scenes" --arch detector --out "$OUT/det_run" --steps "$DET_STEPS" --batch-size 16 \
       --eval-every 200 --checkpoint-every 200 --val-fraction 0.1 --val-max 300 --learning-rate 3e-3 --warmup-steps 50
fi

step "detector: calibration (training scenes) and int8 export + report on the dev scenes"
"$PY" -m calibration --kind detector --data "$OUT/scenes" --count 200 --out "$OUT/det_calib.npz"
"$PY" -m export --model "$OUT/det_run/model.keras" --calibration "$OUT/det_calib.npz" --out "$OUT/detector" --force \
  --name number_detector "${DET_EVAL[@]}"

step "edge app --detect (no ROI, no boxes) on $APP_FRAMES whole frames of $SCENES: the detector just trained, then the shipped one"
rm -f "$OUT"/detect_*.jsonl
"$PY" -m edge_app --source "$SCENES" --detector "$OUT/detector/number_detector.tflite" --max-frames "$APP_FRAMES" \
  --jsonl "$OUT/detect_new_detector.jsonl" --quiet
"$PY" -m edge_app --source "$SCENES" --max-frames "$APP_FRAMES" --jsonl "$OUT/detect_shipped_detector.jsonl" --quiet

step "summary"
"$PY" - "$OUT" "$EVAL" "$PICTURES" "$SCENES" "$APP_FRAMES" <<'PYEOF'
import json, sys
from pathlib import Path
from edge_app.annotations import read_annotations
from edge_app.scenes import read_scenes
from edge_app.sources import natural_key
out, data, pictures, scenes, app_frames = Path(sys.argv[1]), sys.argv[2], sys.argv[3], Path(sys.argv[4]), int(sys.argv[5])
truth = {a.name: "".join(map(str, a.digits)) for a in read_annotations(pictures)}
for which in ("new", "shipped"):
    events = [json.loads(line) for line in (out / f"readings_{which}_model.jsonl").read_text().splitlines()]
    right = sum(e["reading"] == truth.get(e["file"]) for e in events)
    print(f"edge app, {which} model: {right} of {len(events)} pictures of {pictures} read right")
r = json.loads((out / "models" / "report.json").read_text())
int8 = r["variants"]["int8"]
print(f"trained model    {out / 'run' / 'model.keras'}")
print(f"int8 model       {out / 'models' / 'house_numbers.tflite'} ({int8['bytes'] / 1e6:.2f} MB)")
print(f"on {data} (first {r['count']}): float sequence accuracy {r['keras']['sequence_accuracy']:.3f}, "
      f"int8 {int8['sequence_accuracy']:.3f}, agreement {int8['agreement_with_float']:.3f}, "
      f"int8 latency {int8['latency_1_thread']['mean_ms']:.2f} ms (1 thread)")
print(f"parity report    {out / 'models' / 'report.md'}")
det = out / "detector" / "report.json"
if det.exists():
    d = json.loads(det.read_text())["variants"]["int8"]
    e = d["eval"]
    print(f"detector int8    {out / 'detector' / 'number_detector.tflite'} ({d['bytes'] / 1e6:.2f} MB): on {e['frames']} dev "
          f"scenes recall {e['recall']:.3f}, precision {e['precision']:.3f}, mean IoU {e['mean_iou']:.3f} at IoU 0.5 "
          f"(threshold {d['threshold']}); latency {d['latency_1_thread']['p50_ms']:.2f} ms (1 thread)")
frames = sorted(read_scenes(scenes), key=lambda f: natural_key(f.name))[:app_frames]  # the app's order
truth = {f.name: {"".join(map(str, n.digits)) for n in f.numbers} for f in frames}
with_number = sum(bool(t) for t in truth.values())
for which in ("new", "shipped"):
    events = [json.loads(line) for line in (out / f"detect_{which}_detector.jsonl").read_text().splitlines()]
    right = sum(e["reading"] in truth[e["file"]] for e in events)
    false_empty = sum(not truth[e["file"]] for e in events)
    print(f"edge app --detect, {which} detector: {right} of {with_number} frames with a number read right, "
          f"precision {right / max(len(events), 1):.3f} ({len(events)} readings), {false_empty} readings on "
          f"{len(frames) - with_number} frames without a number")
print(f"edge readings    {out / 'readings_new_model.jsonl'}, {out / 'readings_shipped_model.jsonl'}, "
      f"{out / 'detect_new_detector.jsonl'}, {out / 'detect_shipped_detector.jsonl'}")
PYEOF

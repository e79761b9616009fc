#!/usr/bin/env bash
# The number detector on a GPU machine that has JAX but no TensorFlow: scenes made on every core, then
# train.portable --arch detector (Keras 3 on JAX). Export the run afterwards on a workstation with
# TensorFlow (python -m calibration --kind detector / python -m export), after making the same scenes
# there (same seeds and counts give the same frames): export picks its gate on the run's validation frames.
#
#   bash scripts/gpu_detector.sh                                  # 2 x 24k scenes, 192x144, half cluttered
#   DEADLINE=$(( $(date +%s) + 540 )) bash scripts/gpu_detector.sh   # bound the whole job (epoch seconds)
#   CLEAN=1 bash scripts/gpu_detector.sh                          # synthetic numbers only (commercially clean)
#   PLATES=0.5 DATA=data/gpu_det_plates bash scripts/gpu_detector.sh   # half the drawn numbers modern plates
# RUNDIR puts the run folder elsewhere (default DATA/run).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
DATA=${DATA:-data/gpu_det}
SVHN=${SVHN:-data/svhn}     # recon/train only (training pictures)
# The real numbers pasted into half the scenes. The shipped detector's: all of recon/train. Pass the reader's
# training pictures only (scripts/validation_pictures.py --training) to keep the scene-gate tuning numbers unseen.
REAL_PICTURES=${REAL_PICTURES:-$SVHN/recon/train}
COUNT=${COUNT:-24000}
CLUTTER=${CLUTTER:-0.5}     # share of frames with things that are not numbers (train/synth/clutter.py)
PLATES=${PLATES:-0}         # share of drawn numbers that are modern plates (train/synth/plates.py); 0: as shipped
EVAL=${EVAL:-500}
STEPS=${STEPS:-60000}
BATCH=${BATCH:-256}
export KERAS_BACKEND=${KERAS_BACKEND:-jax}

if [ -n "${CLEAN:-}" ]; then SETS=("s41 41" "s42 42"); RUN=run_clean
else SETS=("s41 41" "r42 42 --real $REAL_PICTURES --real-share 0.5"); RUN=run; fi
for set in "${SETS[@]}"; do
  read -r name seed real <<<"$set"
  [ -f "$DATA/$name/scenes.json" ] || "$PY" -m train.synth scenes --out "$DATA/$name" --count "$COUNT" \
      --seed "$seed" --size 192x144 --clutter "$CLUTTER" --plates "$PLATES" --workers "$(nproc)" ${real:-} --quiet
done
TRAIN="$DATA/${SETS[0]%% *}:0.5,$DATA/${SETS[1]%% *}:0.5"
MINUTES=""
if [ -n "${DEADLINE:-}" ]; then MINUTES="--minutes $(awk -v s=$(( DEADLINE - $(date +%s) - 100 )) 'BEGIN{print s/60}')"; fi
"$PY" -m train.portable --arch detector --data "$TRAIN" --out "${RUNDIR:-$DATA/$RUN}" \
  --steps "$STEPS" --batch-size "$BATCH" --learning-rate 5e-3 --warmup-steps 1000 --eval-every "$EVAL" \
  --val-fraction 0.03 --val-max 300 $MINUTES

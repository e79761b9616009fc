#!/usr/bin/env bash
# The shipped reader's recipe on a GPU machine that has JAX (or PyTorch) but no TensorFlow: synthetic
# numbers on every core, then train.portable (Keras 3 on JAX). Calibrate and export the run afterwards on
# a workstation with TensorFlow (python -m calibration / python -m export); the run folder is the same.
#
#   bash scripts/gpu_portable.sh                      # 2 x 60k synthetic + recon/train, 20k steps of 512
#   DATA=data/gpu STEPS=12000 DEADLINE=$(( $(date +%s) + 900 )) bash scripts/gpu_portable.sh
#   CLEAN=1 bash scripts/gpu_portable.sh              # the commercially clean model: synthetic pictures only
#   EXTRA=data/reader_neg:0.1 bash scripts/gpu_portable.sh   # more folders mixed in (scripts/reader_negatives.py)
#
# DEADLINE (epoch seconds) bounds the whole job: training gets what is left after the data, less a margin.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
DATA=${DATA:-data/gpu}
CLEAN=${CLEAN:-}
SVHN=${SVHN:-data/svhn}     # recon/train and format2_train_dev (training data only)
COUNT=${COUNT:-60000}
STEPS=${STEPS:-20000}
VAL_FRACTION=${VAL_FRACTION:-0.2}  # of each folder, for validation: 100 of recon/train's 498 pictures
export KERAS_BACKEND=${KERAS_BACKEND:-jax}

if [ -n "$CLEAN" ]; then SETS=("clean_a 500" "clean_b 600 --focus"); REAL=(); RUN=run_clean; SHARE=0.5
else
  SETS=("synthA 300" "synthB 400 --focus"); RUN=run; SHARE=0.375
  # recon/train is rebuilt from format2_train_dev's crops: the numbers made of those crops leave out the
  # digits of the run's validation pictures, which stay unseen (an honest validation and scene-gate tuning set)
  [ -d "$DATA/val_recon" ] || "$PY" scripts/validation_pictures.py --folder "$SVHN/recon/train" \
      --val-fraction "$VAL_FRACTION" --out "$DATA/val_recon"
  REAL=(--real-digits "$SVHN/format2_train_dev" --hold-out "$DATA/val_recon")
fi
for set in "${SETS[@]}"; do
  read -r name seed focus <<<"$set"
  [ -f "$DATA/$name/digitStruct.csv" ] || "$PY" -m train.synth --out "$DATA/$name" --count "$COUNT" --seed "$seed" \
      "${REAL[@]}" ${focus:-} --quiet
done
TRAIN="$DATA/${SETS[0]%% *}:$SHARE,$DATA/${SETS[1]%% *}:$SHARE"
[ -n "$CLEAN" ] || TRAIN="$TRAIN,$SVHN/recon/train:0.25"
[ -z "${EXTRA:-}" ] || TRAIN="$TRAIN,$EXTRA"
MINUTES=""
if [ -n "${DEADLINE:-}" ]; then MINUTES="--minutes $(awk -v s=$(( DEADLINE - $(date +%s) - 90 )) 'BEGIN{print s/60}')"; fi
"$PY" -m train.portable --data "$TRAIN" --out "$DATA/$RUN" \
  --steps "$STEPS" --batch-size 512 --learning-rate 4e-3 --warmup-steps 1000 --eval-every 500 --val-max 2000 \
  --val-fraction "$VAL_FRACTION" $MINUTES

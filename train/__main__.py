"""Train a house-number reader, or the detector that finds numbers in whole frames.

Examples (on a CPU): the compact edge reader on synthetic plus real SVHN train pictures, and the
detector on scenes from `python -m train.synth scenes`:

    python -m train --data data/synth:0.7,../shared/data/svhn/recon/train:0.3 --arch edge \
        --out runs/edge --steps 3000
    python -m train --data data/scenes --arch detector --out runs/detector --steps 4000 --batch-size 32

Interrupt with Ctrl-C (or SIGTERM): the run is checkpointed; continue it with `--out runs/edge --resume`.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import fields

from .config import ARCH_NAMES, TrainConfig


def parse_args(argv=None) -> tuple[argparse.Namespace, set[str]]:
    defaults = TrainConfig(data="", out="")
    p = argparse.ArgumentParser(prog="python -m train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=str, help="labelled folders, comma-separated, each DIR or DIR:WEIGHT (required for a new run)")
    p.add_argument("--out", type=str, required=True, help="run folder (model.keras, config.json, logs, checkpoints)")
    p.add_argument("--arch", choices=ARCH_NAMES, help=f"architecture (default {defaults.arch})")
    p.add_argument("--steps", type=int, help="training steps (batches); overrides --epochs")
    p.add_argument("--epochs", type=float, help=f"passes over the training pictures (default {defaults.epochs})")
    p.add_argument("--batch-size", type=int, help=f"pictures per step (default {defaults.batch_size})")
    p.add_argument("--learning-rate", type=float, help=f"peak learning rate, cosine decay after warm-up (default {defaults.learning_rate})")
    p.add_argument("--warmup-steps", type=int, help=f"linear warm-up steps (default {defaults.warmup_steps})")
    p.add_argument("--weight-decay", type=float, help=f"AdamW weight decay (default {defaults.weight_decay})")
    p.add_argument("--dropout", type=float, help="dropout rate (default: the architecture's)")
    p.add_argument("--val-fraction", type=float, help=f"share of each folder held out for validation (default {defaults.val_fraction})")
    p.add_argument("--val-max", type=int, help=f"at most this many validation pictures per folder (default {defaults.val_max})")
    p.add_argument("--eval-every", type=int, help=f"validate every N steps (default {defaults.eval_every})")
    p.add_argument("--checkpoint-every", type=int, help=f"checkpoint every N steps (default {defaults.checkpoint_every})")
    p.add_argument("--seed", type=int, help=f"seed for the split, shuffling and augmentation (default {defaults.seed})")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None, help="on-the-fly augmentation (default on)")
    p.add_argument("--mixed-precision", action=argparse.BooleanOptionalAction, default=None, help="float16 compute on GPU (default off)")
    p.add_argument("--skip-bad", action="store_true", default=None, help="leave unreadable pictures out instead of stopping")
    p.add_argument("--init", type=str, help="start from the weights of this .keras model (fine-tuning)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out where it stopped")
    args = p.parse_args(argv)
    if not args.resume and not args.data:
        p.error("--data is required for a new run")
    given = {f.name for f in fields(TrainConfig) if getattr(args, f.name, None) is not None}
    return args, given


def main(argv=None) -> int:
    args, given = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from .cache import DataError
    from .config import TASK_OF_ARCH
    from .tasks import TASKS

    try:
        if args.data:  # a typo in --data should not cost a TensorFlow start-up
            TASKS[TASK_OF_ARCH[args.arch or TrainConfig.arch]].check_data(args.data)
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from .checkpoint import CheckpointError
    from .fit import Interrupted, RunError, train

    cfg = TrainConfig(**{k: getattr(args, k) for k in given | {"out"}} | {"data": args.data or ""})
    try:
        metrics = train(cfg, resume=args.resume, given=given)
    except (DataError, RunError, CheckpointError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Interrupted as err:
        print(f"interrupted: {err}", file=sys.stderr)
        return 130
    metric = metrics["metric"]
    print(f"done: {cfg.out}/model.keras (best validation {metric.replace('_', ' ')} {metrics[f'best_val_{metric}']:.3f} "
          f"at step {metrics['best_step']}; {metrics['train_images_per_second']} img/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

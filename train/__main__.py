"""Train a house-number reader, or the detector that finds numbers in whole frames.

Examples (on a CPU): the compact edge reader on synthetic plus real SVHN train pictures, and the
detector on scenes from `python -m train.synth scenes`:

    python -m train --data data/synth:0.7,../shared/data/svhn/recon/train:0.3 --arch edge \\
        --out runs/edge --steps 3000
    python -m train --data data/scenes --arch detector --out runs/detector --steps 4000 --batch-size 32

Interrupt with Ctrl-C (or SIGTERM): the run is checkpointed; continue it with `--out runs/edge --resume`.
Exit codes: 0 done, 1 failed mid-run (disk), 2 bad arguments or data, 130 interrupted (checkpointed).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
from dataclasses import fields
from pathlib import Path

from edge_app import cli

from .config import ARCH_NAMES, TrainConfig

log = logging.getLogger("train")


def parse_args(argv=None) -> tuple[argparse.Namespace, set[str]]:
    d = TrainConfig(data="", out="")
    p = cli.parser("python -m train", __doc__)
    p.add_argument("--data", type=str, help="labelled folders, comma-separated, each DIR or DIR:WEIGHT "
                   "(required for a new run)")
    p.add_argument("--out", type=str, required=True, help="run folder (model.keras, config.json, logs, checkpoints)")
    p.add_argument("--arch", choices=ARCH_NAMES, help=f"architecture (default {d.arch})")
    p.add_argument("--steps", type=cli.positive_int, help="training steps (batches); overrides --epochs")
    p.add_argument("--epochs", type=cli.positive_float, help=f"passes over the training pictures (default {d.epochs})")
    p.add_argument("--batch-size", type=cli.positive_int, help=f"pictures per step (default {d.batch_size})")
    p.add_argument("--learning-rate", type=cli.positive_float,
                   help=f"peak learning rate, cosine decay after warm-up (default {d.learning_rate})")
    p.add_argument("--warmup-steps", type=cli.nonnegative_int, help=f"linear warm-up steps (default {d.warmup_steps})")
    p.add_argument("--weight-decay", type=cli.float_range(0.0), help=f"AdamW weight decay (default {d.weight_decay})")
    p.add_argument("--dropout", type=cli.float_range(0.0, 0.95), help="dropout rate (default: the architecture's)")
    p.add_argument("--val-fraction", type=cli.float_range(0.0, 0.9),
                   help=f"share of each folder held out for validation (default {d.val_fraction})")
    p.add_argument("--val-max", type=cli.positive_int,
                   help=f"at most this many validation pictures per folder (default {d.val_max})")
    p.add_argument("--eval-every", type=cli.positive_int, help=f"validate every N steps (default {d.eval_every})")
    p.add_argument("--checkpoint-every", type=cli.positive_int,
                   help=f"checkpoint every N steps (default {d.checkpoint_every})")
    p.add_argument("--seed", type=cli.nonnegative_int, help=f"seed for the split, shuffling and augmentation "
                   f"(default {d.seed})")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None, help="on-the-fly augmentation "
                   "(default on)")
    p.add_argument("--mixed-precision", action=argparse.BooleanOptionalAction, default=None,
                   help="float16 compute on GPU, bfloat16 on CPU; heads and saved models stay float32 (default off)")
    p.add_argument("--devices", type=cli.nonnegative_int, help="devices of this machine to split each batch between "
                   "(default: every GPU when there are several; on a CPU-only machine N>1 makes N logical CPU devices, "
                   "for testing)")
    p.add_argument("--workers", action="store_true", default=None,
                   help="train on several machines together; each runs the same command with its own TF_CONFIG")
    p.add_argument("--teacher", type=str, help="distil from this trained .keras model (soft targets on the same batch)")
    p.add_argument("--distill-weight", type=cli.float_range(0.0, 1.0),
                   help=f"share of the loss from the teacher (default {d.distill_weight})")
    p.add_argument("--skip-bad", action="store_true", default=None,
                   help="leave out pictures that cannot be read or whose label is bad (each is named), "
                   "instead of stopping")
    p.add_argument("--init", type=str, help="start from the weights of this .keras model (fine-tuning)")
    p.add_argument("--train-only", type=str, help="train only these layers (comma-separated names, e.g. length), "
                   "the rest frozen with their batch-norm statistics: teach one head something new with --init")
    p.add_argument("--resume", action="store_true", help="continue the run in --out where it stopped")
    args = p.parse_args(argv)
    if not args.resume and not args.data:
        p.error("--data is required for a new run")
    given = {f.name for f in fields(TrainConfig) if getattr(args, f.name, None) is not None}
    return args, given


def main(argv=None) -> int:
    args, given = parse_args(argv)
    cli.setup_logging(args.verbose, args.quiet)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from .cache import DataError

    return cli.run(lambda: _main(args, given), errors=(DataError,))


def _main(args, given: set[str]) -> int:
    from .config import TASK_OF_ARCH
    from .tasks import TASKS

    if args.data:  # a typo in --data should not cost a TensorFlow start-up
        arch = args.arch
        if arch is None and args.resume and (Path(args.out) / "config.json").is_file():
            arch = TrainConfig.load(Path(args.out) / "config.json").arch  # the run's own, not the default
        TASKS[TASK_OF_ARCH[arch or TrainConfig.arch]].check_data(args.data)
    cfg = TrainConfig(**{k: getattr(args, k) for k in given | {"out"}} | {"data": args.data or ""})
    problem = cfg.run_folder_problem(args.resume, given)
    if problem:  # said before TensorFlow starts (fit checks again, for runs started from Python)
        raise cli.UserError(problem)
    # Every picture is read (or found in the cache) before TensorFlow starts too: a bad one costs a second, not ten.
    data_cfg = TrainConfig.load(Path(cfg.out) / "config.json") if args.resume else cfg
    splits = TASKS[TASK_OF_ARCH[data_cfg.arch]].load(data_cfg)
    from .checkpoint import CheckpointError
    from .distribute import PlacementError
    from .fit import Interrupted, RunError, train

    out = Path(cfg.out)
    created = not out.exists()
    try:
        metrics = train(cfg, resume=args.resume, given=given, splits=splits)
    except Interrupted as err:
        log.warning("interrupted: %s", err)
        return cli.EXIT_INTERRUPTED
    except (RunError, CheckpointError, PlacementError) as err:
        raise cli.UserError(str(err)) from None
    except BaseException:
        if created and not (out / "ckpt").exists():  # nothing trained yet: leave no half-made run folder
            shutil.rmtree(out, ignore_errors=True)
        raise
    metric = metrics["metric"]
    log.info("done: %s/model.keras (best validation %s %.3f at step %s; %s img/s)", cfg.out, metric.replace("_", " "),
             metrics[f"best_val_{metric}"], metrics["best_step"], metrics["train_images_per_second"])
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

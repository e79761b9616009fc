"""Training without TensorFlow: Keras 3 on JAX (or PyTorch), for GPU machines that have one of those.

Same TrainConfig, tasks (the reader, or --arch detector on scene folders), validation split,
best-by-validation rule and run folder as train/fit.py, so `python -m calibration` and
`python -m export` take the result unchanged on a workstation with TensorFlow. The augmentation
runs inside the jitted training step, on the GPU; the detector's zoom in the batches.

    KERAS_BACKEND=jax python -m train.portable --data data/synth:0.75,data/svhn/recon/train:0.25 \\
        --out runs/gpu --steps 20000 --batch-size 512 --minutes 30
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")  # before keras is imported: this path exists for machines without TF

import keras  # noqa: E402

from edge_app.atomic import atomic_path, write_atomic  # noqa: E402

from .config import TASK_OF_ARCH, TrainConfig  # noqa: E402
from .folders import record_provenance  # noqa: E402
from .models import build_model  # noqa: E402
from .ops_augment import Augment, FrameAugment  # noqa: E402
from .plots import plot_training  # noqa: E402
from .portable_data import ZOOM_SHARE, FrameBatches, RegionBatches  # noqa: E402
from .tasks import task_for  # noqa: E402


class Schedule(keras.callbacks.Callback):
    """Per epoch (= eval_every steps): a cosine learning rate over the run, validation, best kept, time limit.

    Progress is the larger of steps done and time spent, so a run cut short by --minutes still ends
    annealed. The rate changes between epochs only, where every backend holds its weights in the model.
    """

    def __init__(self, cfg: TrainConfig, task, net, val, out: Path, steps: int, seconds: float):
        super().__init__()
        self.cfg, self.task, self.net, self.val, self.out = cfg, task, net, val, out
        self.steps, self.seconds = steps, seconds
        self.state = {"best": -1.0, "history": []}
        self.step, self.started = 0, time.time()

    def progress(self) -> float:
        return min(1.0, max(self.step / self.steps, (time.time() - self.started) / self.seconds))

    def on_epoch_begin(self, epoch, logs=None):
        peak = self.cfg.learning_rate
        lr = peak * min(1.0,
                        (self.step + self.cfg.eval_every) / max(self.cfg.warmup_steps,
                                                                1)) if self.step < self.cfg.warmup_steps \
            else peak * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * self.progress())))
        self.model.optimizer.learning_rate.assign(lr)

    def on_epoch_end(self, epoch, logs=None):
        self.step += self.cfg.eval_every
        self.validate(logs or {})
        if self.progress() >= 1.0:
            self.model.stop_training = True

    def validate(self, logs: dict) -> None:
        if hasattr(self.model, "jax_state_sync"):  # JAX keeps the weights outside the model while it trains
            self.model.jax_state_sync()
        scores = {name: self.task.score(self.net, inputs, targets) for name, inputs, targets in self.val}
        mean = float(np.mean(list(scores.values())))
        metric = self.task.metric
        self.state["history"].append({"step": self.step, f"val_{metric}": mean,
                                      "loss": float(logs.get("loss", 0.0)),
                                      **{f"val/{k}": v for k, v in scores.items()}})
        print(f"step {self.step} ({time.time() - self.started:.0f} s, lr "
              f"{float(self.model.optimizer.learning_rate):.1e}, "
              f"loss {logs.get('loss', 0.0):.3f}): validation {metric} {mean:.3f} "
              + " ".join(f"{k}={v:.3f}" for k, v in scores.items()), flush=True)
        if mean > self.state["best"]:
            with atomic_path(self.out / "model.keras", suffix=".keras") as tmp:
                self.net.save(tmp)
            self.state.update(best=mean, best_step=self.step)


def train_portable(cfg: TrainConfig, minutes: float | None = None) -> dict:
    """Train cfg.arch on cfg.data into cfg.out with the current Keras backend; returns metrics.json's content."""
    out = Path(cfg.out)
    if (out / "metrics.json").exists():
        raise SystemExit(f"{out} already holds a finished run; pick a new --out")
    out.mkdir(parents=True, exist_ok=True)
    cfg.save(out / "config.json")
    record_provenance(cfg.data, out)
    keras.utils.set_random_seed(cfg.seed)
    task = task_for(cfg.arch)  # what is learnt: data, losses, validation metric (tasks.py), as in fit.py
    task.check_data(cfg.data)
    splits = task.load(cfg)
    n_train = sum(len(s.train) for s in splits)
    steps = cfg.steps or max(1, math.ceil(cfg.epochs * n_train / cfg.batch_size))

    net = build_model(cfg.arch, cfg.dropout)
    if cfg.init:
        net.set_weights(keras.models.load_model(cfg.init, compile=False).get_weights())
    if task.kind == "detector":
        inputs = keras.Input(net.input.shape[1:], dtype="uint8", name="frames")
        augmented = FrameAugment(seed=cfg.seed)(inputs) if cfg.augment else inputs
        batches = FrameBatches(splits, cfg.batch_size, cfg.eval_every, cfg.seed,
                               zoom=ZOOM_SHARE if cfg.augment else 0.0)
    else:
        inputs = keras.Input((64, 64, 3), dtype="uint8", name="regions")
        augmented = Augment(seed=cfg.seed, photometric=cfg.augment)(inputs)
        batches = RegionBatches(splits, cfg.batch_size, cfg.eval_every, cfg.seed)
    trainer = keras.Model(inputs, net(augmented))
    trainer.compile(optimizer=keras.optimizers.AdamW(cfg.learning_rate, weight_decay=cfg.weight_decay),
                    loss=task.losses(),
                    jit_compile=keras.backend.backend() == "jax")  # TF's XLA cannot compile the warp

    schedule = Schedule(cfg, task, net, task.validation(splits), out, steps, 60 * minutes if minutes else float("inf"))
    epochs = math.ceil(steps / cfg.eval_every)
    # Loss-metric and optimizer state made before fit traces its step: on TensorFlow a step that creates
    # variables is traced twice (15 s of a short run). Keras does this itself only under a strategy.
    trainer._symbolic_build(data_batch=batches[0])
    started = time.perf_counter()
    trainer.fit(batches, epochs=epochs, verbose=0, callbacks=[schedule])
    seconds = time.perf_counter() - started
    metrics = {"arch": cfg.arch, "task": task.kind, "metric": task.metric, "steps": steps,
               "steps_done": schedule.step, f"best_val_{task.metric}": schedule.state["best"],
               "best_step": schedule.state.get("best_step"), "history": schedule.state["history"],
               "train_images_per_second": round(schedule.step * cfg.batch_size / max(seconds, 1e-9), 1),
               "data": cfg.data,
               "backend": keras.backend.backend(), "seconds": round(seconds, 1), "config": asdict(cfg)}
    plot_training(schedule.state["history"], out / "training_curve.png", task.metric)
    write_atomic(out / "metrics.json", json.dumps(metrics, indent=2))
    return metrics


def main(argv=None) -> int:
    """`python -m train.portable`: the flags of `python -m train` that this path supports, plus --minutes."""
    from edge_app import cli

    from .cache import DataError

    p = cli.parser("python -m train.portable", __doc__)
    p.add_argument("--data", required=True, help="DIR[:WEIGHT],DIR[:WEIGHT]... training folders")
    p.add_argument("--out", required=True, help="run folder to create")
    p.add_argument("--arch", default="edge", choices=tuple(TASK_OF_ARCH), help="architecture")
    p.add_argument("--steps", type=cli.positive_int, required=True, help="training steps")
    p.add_argument("--batch-size", type=cli.positive_int, default=512, help="pictures per step")
    p.add_argument("--learning-rate", type=cli.positive_float, default=4e-3, help="peak learning rate")
    p.add_argument("--warmup-steps", type=cli.nonnegative_int, default=500, help="linear warm-up steps")
    p.add_argument("--eval-every", type=cli.positive_int, default=1000, help="validate every N steps")
    p.add_argument("--val-fraction", type=cli.float_range(0.0, 0.9), default=0.1, help="held out of each folder")
    p.add_argument("--val-max", type=cli.positive_int, default=2000, help="at most N validation pictures a folder")
    p.add_argument("--seed", type=cli.nonnegative_int, default=0, help="seed")
    p.add_argument("--init", help="start from this model's weights")
    p.add_argument("--minutes", type=cli.positive_float, help="stop (validated and saved) after this many minutes")
    a = p.parse_args(argv)
    cli.setup_logging(a.verbose, a.quiet)
    cfg = TrainConfig(data=a.data, out=a.out, arch=a.arch, steps=a.steps, batch_size=a.batch_size,
                      learning_rate=a.learning_rate, warmup_steps=a.warmup_steps, eval_every=a.eval_every,
                      checkpoint_every=a.eval_every, val_fraction=a.val_fraction, val_max=a.val_max, seed=a.seed,
                      init=a.init)
    return cli.run(lambda: _main(cfg, a.minutes), errors=(DataError,))


def _main(cfg: TrainConfig, minutes: float | None) -> int:
    metrics = train_portable(cfg, minutes)
    metric = metrics["metric"]
    print(f"done: {metrics['steps_done']} steps, best validation {metric} "
          f"{metrics['best_val_' + metric]:.3f} at step {metrics['best_step']}, "
          f"{metrics['train_images_per_second']:.0f} pictures/s ({metrics['backend']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

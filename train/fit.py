"""The training loop: resumable, checkpointed, interruptible, with the best model kept by validation accuracy."""

from __future__ import annotations

import json
import math
import shutil
import signal
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from tqdm import tqdm

from edge_app.atomic import atomic_path, write_atomic

from . import checkpoint, distill
from .config import TrainConfig
from .distill import student_of
from .distribute import compute_policy, place
from .folders import record_provenance
from .models import build_model
from .plots import plot_training
from .tasks import task_for


class RunError(RuntimeError):
    """A run folder or configuration that the trainer refuses."""


class Interrupted(Exception):
    """SIGTERM or Ctrl-C arrived; the run was checkpointed and can be resumed."""


def train(cfg: TrainConfig, resume: bool = False, given: set[str] | None = None, splits: list | None = None) -> dict:
    """Train (or resume) a run in cfg.out; returns metrics.json's content.

    On resume the saved config wins; `given` names the settings the user passed explicitly, which
    must agree with it (only `steps` may change, to extend a run). With several workers only the chief
    writes cfg.out; the others write their checkpoints to a temporary folder, removed at the end.
    `splits` is the run's data when the caller has loaded it already (the CLI does, before TensorFlow starts).
    """
    placement = place(cfg.devices, cfg.workers)
    out = Path(cfg.out)
    if placement.chief:
        cfg = _prepare_run_folder(cfg, out, resume, given if given is not None else set())
    elif resume:
        cfg = TrainConfig.load(out / "config.json")  # written by the chief: --out must be shared to resume
    own = out if placement.chief else Path(tempfile.mkdtemp(prefix=f"worker{placement.worker}-"))
    task = task_for(cfg.arch)  # what is learnt: data, losses, validation metric (tasks.py)
    splits = task.load(cfg) if splits is None else splits
    n_train = sum(len(s.train) for s in splits)
    steps = cfg.steps or max(1, math.ceil(cfg.epochs * n_train / cfg.batch_size))
    if cfg.batch_size % placement.replicas:
        raise RunError(f"--batch-size {cfg.batch_size} does not split evenly between {placement.replicas} replicas")
    keras.mixed_precision.set_global_policy(compute_policy(cfg.mixed_precision))
    try:
        with placement.strategy.scope():
            if resume and any((out / "ckpt" / f).exists() for f in ("last.keras", "prev.keras")):
                if placement.chief:
                    checkpoint.sweep(out / "ckpt")
                model, state = checkpoint.load(out / "ckpt", custom_objects=task.losses())
            else:
                model, state = _new_model(cfg, steps, task.losses()), {"best": -1.0, "history": []}
        return _loop(task, cfg, placement, model, state, splits, steps, own)
    finally:
        keras.mixed_precision.set_global_policy("float32")
        if not placement.chief:
            shutil.rmtree(own, ignore_errors=True)


def _loop(task, cfg: TrainConfig, placement, model, state: dict, splits, steps: int, out: Path) -> dict:
    """Steps until `steps`: validate, checkpoint, stop cleanly on SIGTERM/Ctrl-C."""
    student = student_of(model, cfg.arch)
    step = int(model.optimizer.iterations.numpy())
    val = task.validation(splits)
    data = task.batches(splits, cfg, step)
    # Keras's own distributed step: each global batch is split between the replicas.
    batches = iter(placement.strategy.experimental_distribute_dataset(data))
    # Loss-metric and optimizer state made before the step is traced: Keras defers it to the first trace when
    # no strategy was set, and a tf.function that creates variables is traced twice (15 s of a short run).
    with placement.strategy.scope():
        model._symbolic_build(data_batch=data.element_spec)
    model.make_train_function()
    train_step = _worker_step(model, placement.strategy) if placement.workers > 1 else model.train_function
    writer = tf.summary.create_file_writer(str(out / "logs"))

    set_rate = _rate_setter(model.optimizer, cfg, steps)

    stop = _StopFlag()
    started, start_step = time.perf_counter(), step
    bar = tqdm(total=steps, initial=step, desc=f"train {cfg.arch}", unit="step", dynamic_ncols=True,
               disable=not placement.chief)
    with stop, bar:
        while step < steps:
            set_rate(step)
            losses = train_step(batches)
            step += 1
            bar.update(1)
            if step % 10 == 0:
                loss = float(losses["loss"])
                model.reset_metrics()  # the loss shown is the mean over the last 10 steps
                bar.set_postfix(loss=f"{loss:.3f}", lr=f"{float(model.optimizer.learning_rate):.1e}")
                with writer.as_default(step=step):
                    tf.summary.scalar("train/loss", loss)
            if step % cfg.eval_every == 0 or step == steps:
                state = _validate(task, student, val, step, state, out, writer, bar, cfg.mixed_precision)
            if step % cfg.checkpoint_every == 0 or step == steps or stop.requested:
                checkpoint.save(model, out / "ckpt", state)
            if stop.requested:
                raise Interrupted(f"stopped at step {step} of {steps}; checkpoint saved in {out / 'ckpt'}; "
                                  f"continue with: python -m train --out {cfg.out} --resume")
    seconds = time.perf_counter() - started
    return _finish(task, cfg, out, student, state, steps,
                   (step - start_step) * cfg.batch_size / max(seconds, 1e-9), placement)


def _worker_step(model, strategy):
    """Keras's train_step on each replica; the losses reduced over workers as scalars.

    (Keras 3.15's own multi-worker reduction asks for axis 0 of the scalar loss and fails.)
    """
    @tf.function
    def step(iterator):
        logs = strategy.run(model.train_step, args=(next(iterator),))
        return {k: strategy.reduce("MEAN", v, axis=None) for k, v in logs.items()}

    return step


def _new_model(cfg: TrainConfig, steps: int, loss: dict) -> keras.Model:
    keras.utils.set_random_seed(cfg.seed)  # the same first weights on one device, several, or several workers
    model = build_model(cfg.arch, cfg.dropout)
    if cfg.init:  # fine-tuning: same architecture, weights from another run
        try:
            model.set_weights(keras.models.load_model(cfg.init, compile=False).get_weights())
        except Exception as err:  # noqa: BLE001 - a missing file, a bad zip or another architecture: all refused
            raise RunError(f"--init {cfg.init}: not a {cfg.arch} model to start from ({type(err).__name__})") from None
    if cfg.train_only:  # frozen layers keep their weights and, for batch norm, their statistics
        names = set(cfg.train_only.split(","))
        if unknown := names - {layer.name for layer in model.layers}:
            raise RunError(f"--train-only {cfg.train_only}: {cfg.arch} has no layer {', '.join(sorted(unknown))}")
        for layer in model.layers:
            layer.trainable = layer.name in names
    if cfg.teacher:
        model, loss = distill.with_teacher(model, cfg.teacher), distill.losses(cfg.distill_weight)
    model.compile(optimizer=keras.optimizers.AdamW(learning_rate_at(cfg, steps, 0), weight_decay=cfg.weight_decay),
                  loss=loss)
    return model


def learning_rate_at(cfg: TrainConfig, steps: int, step: int) -> float:
    """Linear warm-up to the learning rate, then cosine decay to 2% of it at the last step (Keras's CosineDecay)."""
    warmup = min(cfg.warmup_steps, steps // 2)
    if step < warmup:
        return cfg.learning_rate * step / warmup
    done = min((step - warmup) / max(steps - warmup, 1), 1.0)
    return cfg.learning_rate * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * done)))


def _rate_setter(optimizer, cfg: TrainConfig, steps: int):
    """What sets each step's learning rate, before the step; `steps` may be a resumed run's new length.

    The rate is a variable assigned here, not a Keras schedule: AdamW evaluates a schedule once more for each
    weight it decays, and tracing those sixty copies made the first step of every run about 7 s slower.
    A checkpoint saved with a schedule (by an older version) gets a schedule stretched to `steps`.
    """
    if isinstance(optimizer.learning_rate, keras.Variable):
        return lambda step: optimizer.learning_rate.assign(learning_rate_at(cfg, steps, step))
    optimizer.learning_rate = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=max(steps - cfg.warmup_steps, 1), warmup_target=cfg.learning_rate,
        warmup_steps=min(cfg.warmup_steps, steps // 2), alpha=0.02)
    return lambda step: None


def float32_twin(model: keras.Model, arch: str, dropout: float | None) -> keras.Model:
    """The same weights in a float32 model: what a mixed-precision run saves for export."""
    keras.mixed_precision.set_global_policy("float32")
    twin = build_model(arch, dropout)
    twin.set_weights(model.get_weights())
    return twin


def _validate(task, model, val, step: int, state: dict, out: Path, writer, bar, mixed: bool = False) -> dict:
    """The task's metric on each folder's held-out part; the mean over folders picks the best model."""
    if not val:
        return state
    scores = {name: task.score(model, inputs, targets) for name, inputs, targets in val}
    mean = float(np.mean(list(scores.values())))
    with writer.as_default(step=step):
        for name, value in scores.items():
            tf.summary.scalar(f"val/{name}/{task.metric}", value)
    history = state["history"] + [{"step": step, f"val_{task.metric}": mean,
                                   **{f"val/{k}": v for k, v in scores.items()}}]
    state = {**state, "history": history}
    each = " ".join(f"{k}={v:.3f}" for k, v in scores.items())
    bar.write(f"step {step}: validation {task.metric} {mean:.3f} {each}")
    if mean > state["best"]:
        _save_atomic(model, out / "best.keras", mixed)
        state = {**state, "best": mean, "best_step": step}
    return state


def _finish(task, cfg: TrainConfig, out: Path, model, state: dict, steps: int, images_per_second: float,
            placement) -> dict:
    metrics = {"arch": cfg.arch, "task": task.kind, "metric": task.metric, "steps": steps,
               f"best_val_{task.metric}": state["best"],
               "best_step": state.get("best_step"), "history": state["history"],
               "train_images_per_second": round(images_per_second, 1), "data": cfg.data,
               "replicas": placement.replicas, "workers": placement.workers}
    if not placement.chief:
        return metrics  # the chief writes the model and the metrics
    best = out / "best.keras"
    if best.exists():
        with atomic_path(out / "model.keras", suffix=".keras") as tmp:
            shutil.copyfile(best, tmp)
    else:
        _save_atomic(model, out / "model.keras", cfg.mixed_precision)
    plot_training(state["history"], out / "training_curve.png", task.metric)
    write_atomic(out / "metrics.json", json.dumps(metrics, indent=2))
    return metrics


def _save_atomic(model, path: Path, mixed: bool = False) -> None:
    if mixed:  # export wants float32 layers; the weights are float32 either way
        policy = keras.mixed_precision.global_policy()
        model = float32_twin(model, model.name, None)
        keras.mixed_precision.set_global_policy(policy)
    with atomic_path(path, suffix=".keras") as tmp:
        model.save(tmp)


def _prepare_run_folder(cfg: TrainConfig, out: Path, resume: bool, given: set[str]) -> TrainConfig:
    problem = cfg.run_folder_problem(resume, given)
    if problem:
        raise RunError(problem)
    saved = out / "config.json"
    if resume:
        old = TrainConfig.load(saved)
        old.steps = cfg.steps or old.steps  # a resumed run may be extended
        old.save(saved)
        return old
    out.mkdir(parents=True, exist_ok=True)
    cfg.save(saved)
    record_provenance(cfg.data, out)
    return cfg


class _StopFlag:
    """Turns SIGTERM/SIGINT into a flag the loop checks after each step, so the checkpoint is whole."""

    requested = False

    def __enter__(self):
        self._old = {s: signal.signal(s, self._handle) for s in (signal.SIGTERM, signal.SIGINT)}
        return self

    def __exit__(self, *exc):
        for s, h in self._old.items():
            signal.signal(s, h)

    def _handle(self, signum, frame):
        self.requested = True

"""Checkpoints to resume from: last.keras (model + optimizer state) and the one before it, saved atomically.

A checkpoint is two files (the model and its state), so no single rename can swap them together.
Each state records the step of its model, and load() only pairs a model with the state of the same
step: a kill between two renames can lose the newest checkpoint, never mix two.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
from pathlib import Path

import keras

from edge_app.atomic import atomic_path, write_atomic

NAMES = ("last", "tmp", "prev")  # newest first; tmp.* is a complete save caught between its renames
log = logging.getLogger("train.checkpoint")


class CheckpointError(RuntimeError):
    """No usable checkpoint to resume from."""


def save(model: keras.Model, folder: Path, state: dict) -> None:
    """Save model+optimizer and `state` as last.*; the previous last.* becomes prev.*."""
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / "tmp.keras", suffix=".keras") as tmp:
        model.save(tmp)
    write_atomic(folder / "tmp.json", json.dumps({**state, "step": _step(model)}))
    for kind in ("keras", "json"):
        if (folder / f"last.{kind}").exists():
            os.replace(folder / f"last.{kind}", folder / f"prev.{kind}")
    os.replace(folder / "tmp.json", folder / "last.json")
    os.replace(folder / "tmp.keras", folder / "last.keras")


def sweep(folder: Path) -> list[str]:
    """Remove the temp files of saves that a kill (SIGKILL, power loss) cut short; their names.

    Only the process that writes the folder may call this (the chief, before it resumes).
    """
    stale = sorted(folder.glob(".tmp.*"))  # atomic_path's temp names for tmp.keras and tmp.json
    for path in stale:
        path.unlink(missing_ok=True)
    if stale:
        log.info("removed %d temp files of a checkpoint save cut short by a kill", len(stale))
    return [p.name for p in stale]


def load(folder: Path, custom_objects: dict | None = None) -> tuple[keras.Model, dict]:
    """The newest readable checkpoint whose model and state belong together, and its state.

    custom_objects: the run's losses by head; the plain functions among them (the detector's) are
    found again by name, as Keras saved them.
    """
    functions = {f.__name__: f for f in (custom_objects or {}).values() if inspect.isfunction(f)}
    states = {}
    for name in NAMES:
        try:
            states[name] = json.loads((folder / f"{name}.json").read_text())
        except (OSError, ValueError):
            continue
    errors = []
    for name in NAMES:
        path = folder / f"{name}.keras"
        if not path.exists():
            continue
        try:
            model = keras.models.load_model(path, custom_objects=functions)
        except Exception as err:  # noqa: BLE001 - a corrupt zip, h5 or json all mean "unusable"
            errors.append(f"{path} is unreadable ({type(err).__name__})")
            if name == "last":  # set it aside so the next save cannot push it over the good one
                os.replace(path, folder / "last.keras.corrupt")
                errors[-1] += " (kept as last.keras.corrupt)"
            continue
        state = _state_for(model, name, states)
        if state is None:
            errors.append(f"{path} has no state of its step {_step(model)}")
            continue
        if errors:
            log.warning("%s; resuming from %s", "; ".join(errors), path)
        return model, state
    raise CheckpointError("; ".join(errors) or f"no checkpoint in {folder}; start the run again without --resume")


def _state_for(model, name: str, states: dict) -> dict | None:
    step = _step(model)
    for state in states.values():
        if state.get("step") == step:
            return state
    old = states.get(name)  # checkpoints written before states recorded their step
    return old if old is not None and "step" not in old else None


def _step(model) -> int:
    return int(model.optimizer.iterations.numpy())

"""Checkpoints to resume from: last.keras (model + optimizer state) and the one before it, saved atomically."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import keras


class CheckpointError(RuntimeError):
    """No usable checkpoint to resume from."""


def save(model: keras.Model, folder: Path, state: dict) -> None:
    """Save model+optimizer and `state` as last.*; the previous last.* becomes prev.* (never half-written)."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "tmp.keras"
    model.save(tmp)
    (folder / "tmp.json").write_text(json.dumps(state))
    if (folder / "last.keras").exists():
        os.replace(folder / "last.keras", folder / "prev.keras")
        if (folder / "last.json").exists():
            os.replace(folder / "last.json", folder / "prev.json")
    os.replace(folder / "tmp.json", folder / "last.json")
    os.replace(tmp, folder / "last.keras")


def load(folder: Path) -> tuple[keras.Model, dict]:
    """The newest readable checkpoint (last, else prev with a warning) and its state."""
    errors = []
    for name in ("last", "prev"):
        path = folder / f"{name}.keras"
        if not path.exists():
            continue
        try:
            model = keras.models.load_model(path)
            state = json.loads((folder / f"{name}.json").read_text())
        except Exception as err:  # noqa: BLE001 - a corrupt zip, h5 or json all mean "unusable"
            errors.append(f"{path} is unreadable ({type(err).__name__})")
            continue
        if errors:  # set the corrupt one aside so the next save cannot push it over the good one
            os.replace(folder / "last.keras", folder / "last.keras.corrupt")
            print(f"warning: {errors[0]} (kept as last.keras.corrupt); resuming from {path}", file=sys.stderr)
        return model, state
    raise CheckpointError("; ".join(errors) or f"no checkpoint in {folder}; start the run again without --resume")

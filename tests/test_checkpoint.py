"""A checkpoint is a model file and a state file: a kill between their renames never pairs the wrong two."""

import json
import os

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from train import checkpoint  # noqa: E402


def _model():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.compile(optimizer="adam", loss="mse")
    return model


def _step(model, n=1):
    for _ in range(n):
        model.train_on_batch(np.ones((4, 3)), np.zeros((4, 2)))


def _saves(folder, steps):
    model = _model()
    for s in steps:
        _step(model, s - int(model.optimizer.iterations.numpy()))
        checkpoint.save(model, folder, {"history": [s]})
    return model


def test_a_kill_after_the_first_rename_pairs_the_model_with_its_own_state(tmp_path):
    model = _saves(tmp_path, [1, 2])
    # The third save, killed after last.keras -> prev.keras: prev.keras is step 2, prev.json still step 1.
    _step(model)
    model.save(tmp_path / "tmp.keras")
    (tmp_path / "tmp.json").write_text(json.dumps({"history": [3], "step": 3}))
    os.replace(tmp_path / "last.keras", tmp_path / "prev.keras")
    loaded, state = checkpoint.load(tmp_path)
    assert int(loaded.optimizer.iterations.numpy()) == 3 and state["history"] == [3]  # the whole tmp.* pair
    (tmp_path / "tmp.keras").unlink()
    loaded, state = checkpoint.load(tmp_path)
    assert int(loaded.optimizer.iterations.numpy()) == 2 and state["history"] == [2]  # prev.keras + last.json


def test_a_state_without_its_model_is_never_used(tmp_path):
    _saves(tmp_path, [1, 2])
    (tmp_path / "last.json").write_text(json.dumps({"history": ["other"], "step": 9}))
    os.replace(tmp_path / "prev.json", tmp_path / "gone.json")
    with pytest.raises(checkpoint.CheckpointError, match="no state of its step"):
        checkpoint.load(tmp_path)


def test_resume_sweeps_the_temp_files_of_a_killed_save(tmp_path):
    _saves(tmp_path, [1, 2])
    (tmp_path / ".tmp.keras.k1ll3d.keras").write_bytes(b"PK\x03\x04 half a zip")  # SIGKILL inside model.save
    (tmp_path / ".tmp.json.k1ll3d.tmp").write_text("{")
    assert checkpoint.sweep(tmp_path) == [".tmp.json.k1ll3d.tmp", ".tmp.keras.k1ll3d.keras"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.json", "last.keras", "prev.json", "prev.keras"]
    loaded, state = checkpoint.load(tmp_path)
    assert state["history"] == [2]

"""Training without TensorFlow's input pipeline (train.portable) and runs trained on another machine."""

import filecmp
import json
import os
import subprocess
import sys

import keras
import numpy as np

from edge_app.contract import CROP_RANGE, crop_at
from train.config import TrainConfig
from train.folders import load_splits
from train.ops_augment import Augment

from .conftest import ROOT, run_main


def test_augment_layer_crops_as_the_contract_does():
    """Without the photometric part, every training input is one of the contract's 54x54 crops of its region."""
    regions = np.random.default_rng(0).integers(0, 256, (16, 64, 64, 3), dtype=np.uint8)
    out = np.asarray(Augment(seed=1, photometric=False)(regions, training=True))
    assert out.shape == (16, 54, 54, 3) and out.dtype == np.uint8
    offsets = [(t, left) for t in range(CROP_RANGE + 1) for left in range(CROP_RANGE + 1)]
    for region, crop in zip(regions, out):
        assert any(np.array_equal(crop, crop_at(region, t, left)) for t, left in offsets)
    centre = np.asarray(Augment(seed=1)(regions, training=False))
    np.testing.assert_array_equal(centre[0], crop_at(regions[0], CROP_RANGE // 2, CROP_RANGE // 2))
    varied = np.asarray(Augment(seed=2)(regions, training=True))
    assert varied.shape == out.shape and not np.array_equal(varied, out)


def test_portable_run_is_a_run_that_export_reads(tmp_path, synth, svhn, monkeypatch):
    """A few steps through the CLI (here on Keras's TensorFlow backend): best model, metrics, provenance."""
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")  # train.portable's default is JAX, absent here
    out = tmp_path / "run"
    proc = run_main("train.portable", "--data", f"{synth}:0.5,{svhn / 'recon' / 'train'}:0.5", "--out", out,
                    "--steps", "6", "--batch-size", "16", "--eval-every", "3", "--warmup-steps", "2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["steps_done"] == 6 and metrics["backend"] == "tensorflow"
    assert [h["step"] for h in metrics["history"]] == [3, 6]
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance[str(synth)]["generator"] == "train.synth" and provenance[str(svhn / "recon" / "train")] is None
    model = keras.models.load_model(out / "model.keras", compile=False)
    probs = model.predict(np.zeros((2, 54, 54, 3), np.uint8), verbose=0)
    assert probs["length"].shape == (2, 7) and probs["digit5"].shape == (2, 11)


def test_validation_pictures_are_redrawn_byte_for_byte(tmp_path, synth):
    """The held-out pictures of a train.synth folder are drawn again here, identical, from (seed, index) alone."""
    run = tmp_path / "run"
    run.mkdir()
    TrainConfig(data=str(synth), out=str(run), val_fraction=0.1, seed=3).save(run / "config.json")
    count, seed = len(list(synth.glob("*.png"))), 5  # the conftest fixture: 300 pictures, seed 5
    proc = subprocess.run([sys.executable, "scripts/validation_pictures.py", "--run", run, "--count", str(count),
                           "--seed", str(seed), "--out", tmp_path / "val"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ}, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    split = load_splits(str(synth), 0.1, 3)[0]
    held_out = sorted(split.crops.names[i] for i in split.val)
    assert sorted(p.name for p in (tmp_path / "val").glob("*.png")) == held_out
    assert all(filecmp.cmp(synth / n, tmp_path / "val" / n, shallow=False) for n in held_out)


def test_frame_augment_changes_colour_not_geometry():
    """The detector's in-step augmentation: same frames outside training; inside, colour, blur and noise that
    leave every edge where it was (the boxes stay right)."""
    from train.ops_augment import FrameAugment

    frames = np.zeros((8, 144, 192, 3), np.uint8)
    frames[:, 40:100, 60:120] = 220  # a bright patch: its edges must not move
    layer = FrameAugment(seed=3)
    np.testing.assert_array_equal(np.asarray(layer(frames, training=False)), frames)
    out = np.asarray(layer(frames, training=True)).astype(np.float32)
    assert out.shape == frames.shape and not np.array_equal(out, frames)
    for frame in out:
        grey = frame.mean(axis=2)
        inside, outside = grey[50:90, 70:110].mean(), np.concatenate([grey[:30].ravel(), grey[110:].ravel()]).mean()
        assert abs(inside - outside) > 20  # the patch is still there (inverted or not) ...
        assert abs(grey[70, 62] - grey[70, 57]) > 10 and abs(grey[70, 117] - grey[70, 122]) > 10  # ... edges in place

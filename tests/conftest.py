"""Shared fixtures: the real SVHN data in ../shared, and a real tiny model trained and exported once per session."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .hostile import copy_labelled  # noqa: F401 - tests import it from here

ROOT = Path(__file__).resolve().parents[1]
SVHN = ROOT.parent / "shared" / "data" / "svhn"


def run_module(*args, env=None, timeout=600, **kwargs) -> subprocess.CompletedProcess:
    """Run `python -m ...` from the repo root, as a user would."""
    return subprocess.run([sys.executable, "-m", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}, **kwargs)


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Keep the crop caches of the test run out of the user's ~/.cache."""
    os.environ["HOUSE_NUMBERS_CACHE"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def svhn() -> Path:
    """The folder of real SVHN data that ships beside the repo (read-only)."""
    if not SVHN.is_dir():
        pytest.fail(f"real SVHN data not found at {SVHN}; the tests need ../shared beside the repo")
    return SVHN


@pytest.fixture(scope="session")
def synth(tmp_path_factory) -> Path:
    """300 synthetic pictures from the real generator."""
    from train.synth.generate import generate

    return generate(tmp_path_factory.mktemp("data") / "synth", 300, seed=5, workers=1, progress=False)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, synth, svhn) -> Path:
    """A real (tiny) training run of the edge network: 40 steps on synthetic + recon/train pictures."""
    out = tmp_path_factory.mktemp("runs") / "tiny"
    proc = run_module("train", "--data", f"{synth}:0.5,{svhn / 'recon' / 'train'}:0.5", "--arch", "edge",
                      "--out", out, "--steps", "40", "--batch-size", "32", "--eval-every", "20",
                      "--checkpoint-every", "20", "--val-fraction", "0.1", "--learning-rate", "0.003",
                      "--warmup-steps", "5")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


@pytest.fixture(scope="session")
def tiny_export(tmp_path_factory, tiny_run, svhn) -> Path:
    """The tiny run calibrated on training data and exported (int8 + float) with a parity report."""
    folder = tmp_path_factory.mktemp("export")
    calib = folder / "calib.npz"
    proc = run_module("calibration", "--data", svhn / "recon" / "train", "--count", "64", "--out", calib)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = folder / "models"
    proc = run_module("export", "--model", tiny_run / "model.keras", "--calibration", calib, "--out", out,
                      "--variants", "int8,float", "--eval-data", svhn / "recon" / "test", "--eval-limit", "100")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out

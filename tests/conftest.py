"""Shared fixtures: the real SVHN data in ../shared, and a real tiny model trained and exported once per test run."""

import contextlib
import fcntl
import importlib
import io
import logging
import os
import shutil
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


def run_main(module: str, *args) -> subprocess.CompletedProcess:
    """`python -m module ARGS` inside this test process: the same main(), exit code, stdout and stderr.

    For TensorFlow runs whose process boundary is not what a test is about (signals, start-up refusals and
    TensorFlow-free imports keep run_module): a TensorFlow start-up costs 7 s. A bug still raises here.
    """
    environ = dict(os.environ)  # what a module sets at import (train.portable: KERAS_BACKEND) must not leak
    out, err = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level  # main() installs its own handler; pytest's come back after
    root.handlers.clear()
    try:
        found = importlib.import_module(module)
        main = (importlib.import_module(f"{module}.__main__") if hasattr(found, "__path__") else found).main
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in args])
            except SystemExit as exit_:  # argparse
                code = exit_.code
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        os.environ.clear()
        os.environ.update(environ)
    return subprocess.CompletedProcess([module, *map(str, args)], code, out.getvalue(), err.getvalue())


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


def built_once(tmp_path_factory, name: str, build) -> Path:
    """The folder `name`, made by build(folder) once per test run and reused.

    Under pytest-xdist every worker has a session of its own: the first worker to ask builds the folder in
    the run's common temp folder while the others wait on a lock, then all read the same one.
    """
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder, done = root / name, root / f"{name}.done"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():  # not built yet, or a worker's build failed: (re)build it, failing here too
            shutil.rmtree(folder, ignore_errors=True)
            build(folder)
            done.touch()
    return folder


@pytest.fixture(scope="session")
def synth(tmp_path_factory) -> Path:
    """300 synthetic pictures from the real generator."""
    from train.synth.generate import generate

    return built_once(tmp_path_factory, "synth", lambda out: generate(out, 300, seed=5, workers=1, progress=False))


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, synth, svhn) -> Path:
    """A real (tiny) training run of the edge network: 40 steps on synthetic + recon/train pictures."""
    def build(out):
        proc = run_main("train", "--data", f"{synth}:0.5,{svhn / 'recon' / 'train'}:0.5", "--arch", "edge",
                          "--out", out, "--steps", "40", "--batch-size", "32", "--eval-every", "20",
                          "--checkpoint-every", "20", "--val-fraction", "0.1", "--learning-rate", "0.003",
                          "--warmup-steps", "5")
        assert proc.returncode == 0, proc.stderr[-2000:]

    return built_once(tmp_path_factory, "tiny_run", build)


@pytest.fixture(scope="session")
def tiny_export(tmp_path_factory, tiny_run, svhn) -> Path:
    """The tiny run calibrated on training data and exported (int8 + float) with a parity report."""
    def build(folder):
        folder.mkdir()
        calib = folder / "calib.npz"
        proc = run_module("calibration", "--data", svhn / "recon" / "train", "--count", "64", "--out", calib)
        assert proc.returncode == 0, proc.stderr[-2000:]
        proc = run_main("export", "--model", tiny_run / "model.keras", "--calibration", calib,
                          "--out", folder / "models", "--variants", "int8,float",
                          "--eval-data", svhn / "recon" / "test", "--eval-limit", "100")
        assert proc.returncode == 0, proc.stderr[-2000:]

    return built_once(tmp_path_factory, "tiny_export", build) / "models"


# The costliest files first (measured with --durations), so that on two xdist workers (scripts/test.sh) neither is
# left alone with a long file at the end; the others keep their order, and each file its tests' order. The MQTT
# tests, which mostly wait on the broker and the app's reconnects, go beside the several-worker test, which keeps
# both cores busy with its two training processes.
SLOW_FIRST = ("test_workers.py", "test_mqtt.py", "test_distributed.py", "test_train.py", "test_detector.py",
              "test_portable.py", "test_export.py", "test_faults.py", "test_distill.py", "test_install.py",
              "test_fuzz.py")


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))

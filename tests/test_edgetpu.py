"""Coral that cannot crash the app: the delegate is tried in a child first, with stand-in libedgetpu builds."""

from __future__ import annotations

import signal
import sys

import pytest

from edge_app import edgetpu
from edge_app.inference.card import ModelError
from edge_app.inference.reader import HouseNumberModel

from .conftest import run_module
from .standins import edgetpu_model, libedgetpu


@pytest.fixture(scope="module")
def stand(tmp_path_factory):
    folder = tmp_path_factory.mktemp("edgetpu")
    return {kind: libedgetpu(kind, folder) for kind in ("ok", "crash", "refuse")} | {"model": edgetpu_model(folder)}


def app(stand, library, svhn):
    return run_module("edge_app", "--model", stand["model"], "--edgetpu", "--source", svhn / "recon" / "test" / "1.png",
                      "--boxes", "--threshold", "0", env={edgetpu.ENV_LIBRARY: str(library)}, timeout=120)


def test_delegate_that_segfaults_exits_2_with_the_clash_named(stand, svhn):
    proc = app(stand, stand["crash"], svhn)
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()  # one line: no traceback, no "Segmentation fault" from the app
    assert "crashed the interpreter (SIGSEGV)" in line and "ai-edge-litert 2.3.0" in line
    assert str(stand["crash"]) in line and "tflite_runtime 2.17.1" in line and "#812" in line


def test_delegate_that_loads_runs_the_model(stand, svhn):
    proc = app(stand, stand["ok"], svhn)
    assert proc.returncode == 0, proc.stderr
    assert "1.png" in proc.stdout and "reading" in proc.stdout


def test_no_accelerator_is_one_line_with_the_library_reason(stand, svhn):
    proc = app(stand, stand["refuse"], svhn)
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert "no Edge TPU found" in line and "libedgetpu1-std" in line


def test_missing_libedgetpu(stand, tmp_path, monkeypatch):
    monkeypatch.setenv(edgetpu.ENV_LIBRARY, str(tmp_path / "nowhere.so.1"))
    assert edgetpu.find_library() is None
    with pytest.raises(ModelError, match="libedgetpu.so.1 not found: install libedgetpu1-std"):
        HouseNumberModel(stand["model"], edgetpu=True)


def test_a_child_killed_by_any_signal_is_reported_not_propagated(stand):
    kill = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGABRT)"]
    with pytest.raises(edgetpu.EdgeTpuError, match=r"\(SIGABRT\): ai-edge-litert") as err:
        edgetpu.check_child(kill, "ai_edge_litert", "/usr/lib/aarch64-linux-gnu/libedgetpu.so.1")
    assert "\n" not in str(err.value)


def test_a_hanging_child_times_out(stand):
    hang = [sys.executable, "-c", "import time; time.sleep(30)"]
    with pytest.raises(edgetpu.EdgeTpuError, match="did not load in 1 s"):
        edgetpu.check_child(hang, "ai_edge_litert", "libedgetpu.so.1", timeout=1)


def test_signal_names():
    assert "SIGSEGV" in edgetpu.clash_message(-signal.SIGSEGV, "tflite_runtime", "x")


def test_with_edgetpu_the_detector_runs_compiled_when_it_is_there(tmp_path, caplog):
    """--edgetpu takes number_detector_edgetpu.tflite beside the detector (sharing its card); without one the
    detector stays on the CPU and a log line says how to compile it."""
    import logging

    from edge_app.detect import detector_for

    detector = tmp_path / "number_detector.tflite"
    detector.write_bytes(b"")
    assert detector_for(detector, False) == (detector, False)
    caplog.set_level(logging.INFO, logger="edge_app")
    assert detector_for(detector, True) == (detector, False)
    assert "no number_detector_edgetpu.tflite beside the detector" in caplog.text and "edgetpu_compiler" in caplog.text
    compiled = tmp_path / "number_detector_edgetpu.tflite"
    compiled.write_bytes(b"")
    assert detector_for(detector, True) == (compiled, True)
    assert detector_for(compiled, True) == (compiled, True)

"""Stand-ins for hardware that is not here, built from source at test time: libedgetpu (cc) and a compiled model."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT

STANDIN_C = ROOT / "tests" / "fakes" / "libedgetpu" / "standin.c"


def libedgetpu(kind: str, folder: Path) -> Path:
    """Compile the stand-in libedgetpu: kind 'ok' (a delegate that claims no node), 'crash' (SIGSEGV) or 'refuse'."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.fail("the Edge TPU tests build a stand-in libedgetpu with a C compiler: apt-get install -y gcc")
    out = folder / f"libedgetpu_{kind}.so.1"
    flags = {"ok": [], "crash": ["-DCRASH"], "refuse": ["-DREFUSE"]}[kind]
    subprocess.run([compiler, "-shared", "-fPIC", *flags, "-o", str(out), str(STANDIN_C)], check=True)
    return out


def edgetpu_model(folder: Path) -> Path:
    """The shipped model under the compiled name (the stand-in delegate runs it on the CPU) with its card."""
    model = folder / "house_numbers_edgetpu.tflite"
    shutil.copy(ROOT / "models" / "house_numbers.tflite", model)
    shutil.copy(ROOT / "models" / "house_numbers.json", folder / "house_numbers.json")
    return model


def imx500_network(folder: Path, card, outputs: dict, **changes) -> Path:
    """A stand-in network.rpk for the fake IMX500 (tests/fakes/picamera2/devices): the card's network name, input
    size and output order, with `outputs` (role -> one array per frame); `changes` replaces any of them."""
    import numpy as np

    values = {"network_name": card.network_name, "input_size": np.array(card.input_size),
              "output_order": np.array([o["role"] for o in card.outputs]), **outputs, **changes}
    path = folder / "network.rpk"
    with open(path, "wb") as f:
        np.savez(f, **values)
    return path


def imx500_fixtures(recorded: Path, card_path: Path):
    """Two module-scoped pytest fixtures for a stand-in AI Camera: the recorded frames and the quantized network's
    real outputs (`fixture`, a dict of arrays from an .npz), and the network's card (`card`)."""
    import numpy as np

    from edge_app.sources.imx500_network import SensorCard

    @pytest.fixture(scope="module")
    def fixture():
        with np.load(recorded) as f:
            return {k: f[k] for k in f.files}

    @pytest.fixture(scope="module")
    def card():
        return SensorCard.read(card_path)

    return fixture, card


IMX500_TOOLCHAIN = ROOT / ".venv-imx500" / "bin" / "python"  # scripts/imx500_env.sh; absent in CI


def export_imx500(model: Path, calibration: Path, out: Path) -> subprocess.CompletedProcess:
    """`python -m export --target imx500` in the IMX500 toolchain's own environment, as docs/imx500.md runs it."""
    import os

    return subprocess.run([str(IMX500_TOOLCHAIN), "-m", "export", "--target", "imx500", "--model", model,
                           "--calibration", calibration, "--out", out], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})

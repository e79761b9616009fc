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

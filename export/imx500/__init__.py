"""export --target imx500: the detector or the reader for the Raspberry Pi AI Camera (Sony IMX500), own toolchain.

Runs only in the environment of requirements-imx500.txt (scripts/imx500_env.sh: TF 2.15, MCT, Sony's converter):
rebuild the model from the project's builder with the trained weights (rebuild.py, weights.py), check it
against the .tflite, quantize it with MCT post-training quantization on a calibration set of its kind, score
float and quantized (detector.py: dev scenes; reader.py: labelled pictures), convert to packerOut.zip, and write
its card (run.py).
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from ..checks import ExportError


@dataclass(frozen=True)
class Imx500Config:
    """One IMX500 export (from export's command line); the model's card says whether it is a detector or a reader."""

    model: Path  # the run's model.keras or the int8 .tflite (with its card beside it)
    calibration: Path  # python -m calibration of the same kind (--kind detector for the detector)
    out: Path
    name: str | None = None  # default: <the .tflite's stem>_imx500
    eval_data: Path | None = None  # detector: dev scenes; reader: a labelled folder (evaluation only)
    eval_limit: int | None = None
    fixture: Path | None = None
    fixture_count: int = 6


SETUP = "make it with bash scripts/imx500_env.sh and run .venv-imx500/bin/python -m export --target imx500 ..."


def converter_path() -> Path | None:
    """imxconv-tf of this environment (beside its python), else on PATH."""
    here = Path(sys.executable).with_name("imxconv-tf")
    found = here if here.is_file() else shutil.which("imxconv-tf")
    return Path(found) if found else None


def check_toolchain() -> None:
    """Refuse at once, in one line, an environment without the IMX500 toolchain (TF 2.14-2.15, MCT, converter)."""
    missing = [m for m in ("tensorflow", "model_compression_toolkit") if importlib.util.find_spec(m) is None]
    if missing:
        raise ExportError(f"--target imx500 needs the IMX500 toolchain ({', '.join(missing)} not installed here): "
                          + SETUP)
    from importlib import metadata

    version = metadata.version("tensorflow") if _has("tensorflow") else metadata.version("tensorflow-cpu")
    if not version.startswith(("2.14.", "2.15.")):
        raise ExportError(f"--target imx500 needs TensorFlow 2.14 or 2.15 (MCT and Sony's converter refuse newer); "
                          f"this environment has {version}: " + SETUP)
    if converter_path() is None:
        raise ExportError("--target imx500: Sony's converter imxconv-tf is not installed: " + SETUP)
    if shutil.which("java") is None:
        raise ExportError("--target imx500: the converter needs Java: sudo apt-get install -y openjdk-17-jre-headless")


def _has(dist: str) -> bool:
    from importlib import metadata

    try:
        metadata.version(dist)
    except metadata.PackageNotFoundError:
        return False
    return True

"""The TF Lite model on the device: LiteRT (or tflite-runtime) with the heads found by name from the sidecar.

Load once, run many: the interpreter is built and checked against the contract in __init__, and each
call only copies one 54x54x3 input in and six small outputs out.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from . import edgetpu as edgetpu_lib
from .contract import DIGIT_CLASSES, HEADS, INPUT_SIZE, LENGTH_CLASSES, MAX_DIGITS
from .decode import Reading, decode
from .package import models_dir

EDGETPU_LIBRARY = edgetpu_lib.LIBRARY
DEFAULT_MODEL = models_dir() / "house_numbers.tflite"  # the shipped model (installed or in the checkout)


class ModelError(ValueError):
    """A model file (or its sidecar) that the edge app cannot run."""


def sidecar_path(model_path) -> Path:
    """foo.tflite -> foo.json; foo_edgetpu.tflite shares foo.json."""
    path = Path(model_path)
    stem = path.stem[: -len("_edgetpu")] if path.stem.endswith("_edgetpu") else path.stem
    return path.with_name(stem + ".json")


def read_sidecar(model_path) -> dict:
    """The model's sidecar JSON (how outputs map to heads, training data, accuracy, threshold)."""
    path = sidecar_path(model_path)
    try:
        card = json.loads(path.read_text())
    except FileNotFoundError:
        raise ModelError(f"{path} is missing: export writes it beside the .tflite; copy both together") from None
    except (OSError, ValueError) as err:
        raise ModelError(f"{path}: not a readable model card ({err})") from None
    if not isinstance(card, dict) or not isinstance(card.get("outputs"), dict):
        raise ModelError(f"{path}: no 'outputs' mapping of tensors to heads; re-export the model")
    return card


def interpreter_class(edgetpu: bool = False):
    """LiteRT's Interpreter and load_delegate, else tflite-runtime's (which needs numpy<2).

    For the Edge TPU, tflite-runtime comes first: libedgetpu works only with the runtime it was built with,
    and the matched pairs users run are tflite-runtime builds (README, "Coral Edge TPU").
    """
    order = ("tflite_runtime", "ai_edge_litert") if edgetpu else ("ai_edge_litert", "tflite_runtime")
    for name in order:
        try:
            module = importlib.import_module(f"{name}.interpreter")
        except ImportError:
            continue
        return module.Interpreter, module.load_delegate
    raise ModelError("no TF Lite interpreter installed: pip install ai-edge-litert "
                     "(or tflite-runtime==2.14.0 with numpy<2 where LiteRT has no wheel)")


class HouseNumberModel:
    """A loaded .tflite house-number model: pixels in, six dequantised head probabilities and a Reading out."""

    def __init__(self, model_path, threads: int | None = None, edgetpu: bool = False):
        self.path = Path(model_path)
        if not self.path.is_file():
            raise ModelError(f"{self.path}: no such model file")
        self.card = read_sidecar(self.path)
        Interpreter, load_delegate = interpreter_class(edgetpu)
        delegates = []
        if edgetpu:
            if not self.path.stem.endswith("_edgetpu"):
                raise ModelError(f"{self.path}: --edgetpu needs the compiled *_edgetpu.tflite that export writes")
            library = edgetpu_lib.find_library() or EDGETPU_LIBRARY
            try:  # first in a child: a runtime/libedgetpu clash segfaults, and must not take the app with it
                edgetpu_lib.probe(self.path, Interpreter.__module__.split(".")[0], library)
                delegates = [load_delegate(library)]
            except edgetpu_lib.EdgeTpuError as err:
                raise ModelError(str(err)) from None
            except (OSError, ValueError, RuntimeError) as err:
                raise ModelError(f"cannot load the Edge TPU delegate {library} ({_first_line(err)}); install "
                                 "libedgetpu1-std (README, 'Coral Edge TPU') and plug the TPU in") from None
        try:
            with _without_native_info():
                self.interpreter = Interpreter(model_path=str(self.path), num_threads=threads,
                                               experimental_delegates=delegates or None)
                self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as err:
            raise ModelError(f"{self.path}: not a TF Lite model this interpreter can run ({_first_line(err)})") from None
        self._input = self._check_input(self.interpreter.get_input_details())
        self._outputs = self._map_outputs(self.interpreter.get_output_details())
        self.threshold = float(self.card.get("threshold_at_98") or 0.0)

    def _check_input(self, details: list[dict]) -> dict:
        want = [1, INPUT_SIZE, INPUT_SIZE, 3]
        if len(details) != 1 or list(details[0]["shape"]) != want:
            got = [[int(v) for v in d["shape"]] for d in details]
            raise ModelError(f"{self.path}: input is {got}, the contract needs one {want} picture")
        if details[0]["dtype"] not in (np.uint8, np.int8, np.float32):
            raise ModelError(f"{self.path}: input type {np.dtype(details[0]['dtype']).name} is not uint8, int8 or float32")
        return details[0]

    def _map_outputs(self, details: list[dict]) -> list[tuple[str, dict]]:
        # By name, never by position: the converter reorders the outputs of multi-output models.
        by_name = {d["name"]: d for d in details}
        mapping = self.card["outputs"]
        missing = [n for n in mapping if n not in by_name]
        heads = {h["head"] if isinstance(h, dict) else h for h in mapping.values()}
        if missing or heads != set(HEADS):
            raise ModelError(f"{self.path}: sidecar does not match the model's outputs "
                             f"(missing tensors {missing}, heads {sorted(heads)}); re-export the model")
        out = []
        for name, head in mapping.items():
            head = head["head"] if isinstance(head, dict) else head
            size = LENGTH_CLASSES if head == "length" else DIGIT_CLASSES
            if int(np.prod(by_name[name]["shape"])) != size:
                raise ModelError(f"{self.path}: output {name} for {head} has shape {list(by_name[name]['shape'])}")
            out.append((head, by_name[name]))
        return out

    def probabilities(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """54x54x3 uint8 pixels -> length (7,) and digit (5, 11) probabilities, dequantised to float."""
        self.interpreter.set_tensor(self._input["index"], quantize_input(pixels, self._input)[None])
        self.interpreter.invoke()
        heads = {head: dequantize(self.interpreter.get_tensor(d["index"])[0], d) for head, d in self._outputs}
        return heads["length"], np.stack([heads[f"digit{i + 1}"] for i in range(MAX_DIGITS)])

    def read(self, pixels: np.ndarray) -> Reading:
        """54x54x3 uint8 pixels -> the decoded Reading."""
        return decode(*self.probabilities(pixels))


def quantize_input(pixels: np.ndarray, detail: dict) -> np.ndarray:
    """Raw 0..255 pixels -> the input tensor's type: q = round(pixel / scale + zero_point)."""
    dtype = detail["dtype"]
    scale, zero = detail["quantization"]
    if dtype == np.float32:
        return pixels.astype(np.float32)  # scaling is a layer inside the model
    if scale == 0 or (scale == 1 and zero == 0 and dtype == np.uint8):
        return pixels.astype(dtype, copy=False)
    info = np.iinfo(dtype)
    return np.clip(np.round(pixels.astype(np.float32) / scale + zero), info.min, info.max).astype(dtype)


def dequantize(values: np.ndarray, detail: dict) -> np.ndarray:
    """Output tensor -> float: scale * (q - zero_point), widened first so uint8 cannot wrap."""
    scale, zero = detail["quantization"]
    if scale == 0:
        return values.astype(np.float64)
    return scale * (values.astype(np.int64) - zero)


@contextlib.contextmanager
def _without_native_info():
    """Drop the runtime's "INFO: Created TensorFlow Lite XNNPACK delegate" line; pass anything else on.

    The C++ runtime writes it straight to file descriptor 2 on every load, so Python's own
    logging cannot filter it, and it would precede every one-line error the app prints.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode(errors="replace").splitlines(keepends=True):
                if not line.startswith("INFO: Created TensorFlow Lite"):
                    sys.stderr.write(line)


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__

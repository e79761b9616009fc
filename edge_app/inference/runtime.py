"""The TF Lite runtime on the device: LiteRT (or tflite-runtime), loaded once, tensors found by name via the card.

`TFLiteModel` builds the interpreter, checks it against its card at load and raises a one-line
ModelError when they disagree; each call only copies the input in and the named outputs out.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import tempfile
from functools import cached_property
from pathlib import Path

import numpy as np

from .. import edgetpu as edgetpu_lib
from .card import ModelCard, ModelError, Tensor, card_path, file_sha256, read_card

EDGETPU_LIBRARY = edgetpu_lib.LIBRARY


def interpreter_class(edgetpu: bool = False):
    """LiteRT's Interpreter and load_delegate, else tflite-runtime's (which needs numpy<2).

    For the Edge TPU, tflite-runtime comes first: libedgetpu works only with the runtime it was built with,
    and the matched pairs users run are tflite-runtime builds (docs/coral.md).
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


class TFLiteModel:
    """A .tflite of a given card kind: input set by `run`, outputs returned dequantised by card name."""

    kind = "reader"
    flag = "--model"  # the command-line flag that takes this kind, for error lines

    def __init__(self, model_path, threads: int | None = None, edgetpu: bool = False):
        self.path = Path(model_path)
        if not self.path.is_file():
            raise ModelError(f"{self.path}: no such model file")
        self.card: ModelCard = read_card(self.path, self.kind, self.flag)
        Interpreter, load_delegate = interpreter_class(edgetpu)
        delegates = []
        if edgetpu:
            if not self.path.stem.endswith("_edgetpu"):
                raise ModelError(f"{self.path}: --edgetpu needs the compiled *_edgetpu.tflite that export writes")
            library = edgetpu_lib.find_library() or EDGETPU_LIBRARY
            failure = None
            with edgetpu_lib.quiet_failed_delegate():  # raised after it: the failed delegate must go first
                try:  # first in a child: a runtime/libedgetpu clash segfaults, and must not take the app with it
                    edgetpu_lib.probe(self.path, Interpreter.__module__.split(".")[0], library)
                    delegates = [load_delegate(library)]
                except edgetpu_lib.EdgeTpuError as err:
                    failure = str(err)
                except (OSError, ValueError, RuntimeError) as err:
                    failure = (f"cannot load the Edge TPU delegate {library} ({_first_line(err)}); install "
                               "libedgetpu1-std (docs/coral.md) and plug the TPU in")
            if failure:
                raise ModelError(failure)
        try:
            with without_native_info():
                self.interpreter = Interpreter(model_path=str(self.path), num_threads=threads,
                                               experimental_delegates=delegates or None)
                self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as err:
            why = _first_line(err)
            raise ModelError(f"{self.path}: not a TF Lite model this interpreter can run ({why})") from None
        self._input = self._check_input(self.interpreter.get_input_details())
        self._outputs = self._map_outputs(self.interpreter.get_output_details())
        self._check_file()  # last: a file that is no model, or has another input, is told so more precisely above

    @cached_property
    def sha256(self) -> str:
        """The model file's SHA-256 (as a scene gate names its reader), hashed once per model."""
        return file_sha256(self.path)

    def _check_file(self) -> None:
        """Refuse a card written for another model file (its licence and gate would be another model's)."""
        compiled = self.path.stem.endswith("_edgetpu")
        want = (self.card.edgetpu or {}).get("sha256") if compiled else self.card.sha256
        if want is not None and want != self.sha256:
            raise ModelError(f"{self.path} is not the model its card {card_path(self.path).name} was written for "
                             "(another file's sha256): copy the .tflite and its .json together from one export")

    def _check_input(self, details: list[dict]) -> dict:
        want = list(self.card.input.shape)
        if len(details) != 1 or list(details[0]["shape"]) != want:
            got = [[int(v) for v in d["shape"]] for d in details]
            raise ModelError(f"{self.path}: input is {got}, its card and the contract need one {want} picture")
        if details[0]["dtype"] not in (np.uint8, np.int8, np.float32):
            raise ModelError(f"{self.path}: input type {np.dtype(details[0]['dtype']).name} is not uint8, int8 or "
                             "float32")
        return details[0]

    def _map_outputs(self, details: list[dict]) -> dict[str, dict]:
        # By name, never by position: the converter reorders the outputs of multi-output models.
        by_name = {d["name"]: d for d in details}
        missing = [t.name for t in self.card.outputs.values() if t.name not in by_name]
        if missing:
            raise ModelError(f"{self.path}: its card names output tensors {missing} that the model does not have; "
                             "re-export the model")
        out = {}
        for role, spec in self.card.outputs.items():
            d = by_name[spec.name]
            if Tensor.from_detail(d).shape != spec.shape:
                raise ModelError(f"{self.path}: output {spec.name} ({role}) has shape {list(d['shape'])}, "
                                 f"its card says {list(spec.shape)}")
            out[role] = d
        return out

    def run(self, pixels: np.ndarray) -> dict[str, np.ndarray]:
        """One HxWx3 uint8 picture (the card's input size) -> each named output, dequantised, batch axis dropped."""
        self.interpreter.set_tensor(self._input["index"], quantize_input(pixels, self._input)[None])
        self.interpreter.invoke()
        return {role: dequantize(self.interpreter.get_tensor(d["index"])[0], d) for role, d in self._outputs.items()}


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
def without_native_info():
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

"""Coral Edge TPU: which ops it cannot run, and compiling with edgetpu_compiler when it is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from edge_app.inference.card import file_sha256

# Ops the Edge TPU compiler maps (coral.ai/docs/edgetpu/models-intro, "Supported operations").
EDGETPU_OPS = {
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "EXPAND_DIMS",
    "FULLY_CONNECTED", "L2_NORMALIZATION", "LOGISTIC", "LSTM", "MAXIMUM", "MAX_POOL_2D", "MEAN",
    "MINIMUM", "MUL", "PACK", "PAD", "PRELU", "QUANTIZE", "REDUCE_MAX", "REDUCE_MIN", "RELU",
    "RELU6", "RELU_N1_TO_1", "RESHAPE", "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "RSQRT",
    "SLICE", "SOFTMAX", "SPACE_TO_DEPTH", "SPLIT", "SQUARED_DIFFERENCE", "SQUEEZE", "STRIDED_SLICE",
    "SUB", "SUM", "TANH", "TRANSPOSE", "TRANSPOSE_CONV",
}
INSTALL_HINT = ("edgetpu_compiler is not installed: on x86-64 Debian/Ubuntu add Coral's apt repository "
                "(coral.ai/docs/edgetpu/compiler) and `sudo apt install edgetpu-compiler`, then rerun export")


def unsupported_ops(ops: list[str]) -> list[str]:
    """The distinct ops of a model that would fall back to the CPU on an Edge TPU."""
    return sorted(set(ops) - EDGETPU_OPS)


def compile_edgetpu(model: Path, out_dir: Path, compiler: str = "edgetpu_compiler", timeout: int = 300) -> dict:
    """Compile `model` into out_dir/<stem>_edgetpu.tflite; returns what happened (never pretends)."""
    exe = shutil.which(compiler)
    if exe is None:
        return {"compiled": False, "reason": INSTALL_HINT}
    proc = subprocess.run([exe, "-s", "-o", str(out_dir), str(model)], capture_output=True, text=True, timeout=timeout)
    target = out_dir / f"{model.stem}_edgetpu.tflite"
    if proc.returncode != 0 or not target.is_file():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"compiled": False, "reason": f"edgetpu_compiler failed (exit {proc.returncode}): {tail[0]}"}
    log = proc.stdout
    return {
        "compiled": True,
        "file": target.name,
        "sha256": file_sha256(target),  # the compiled model shares the card: this names its own file
        "ops_on_tpu": _count(log, r"Number of operations that will run on Edge TPU:\s*(\d+)"),
        "ops_on_cpu": _count(log, r"Number of operations that will run on CPU:\s*(\d+)"),
        "compiler_version": (re.search(r"Edge TPU Compiler version\s*(\S+)", log) or [None, None])[1],
    }


def _count(log: str, pattern: str) -> int | None:
    m = re.search(pattern, log)
    return int(m.group(1)) if m else None

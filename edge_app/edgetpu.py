"""The Coral Edge TPU delegate, tried first in a child process so that a clash cannot crash the app.

Coral's libedgetpu segfaults inside TF Lite runtimes newer than the one it was built against
(google-coral/edgetpu #812), and a segfault passes every Python error handler. So before the app loads the
delegate itself, a child loads it, builds the interpreter on the model and runs it once; if the child dies
from a signal, the app names the runtime and library versions that clash and how to fix it, and exits 2.

    python -m edge_app.edgetpu --model models/house_numbers_edgetpu.tflite   # the probe the app runs
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes.util
import gc
import os
import signal
import subprocess
import sys
from importlib import metadata
from pathlib import Path

LIBRARY = "libedgetpu.so.1"
ENV_LIBRARY = "HOUSE_NUMBERS_LIBEDGETPU"  # a libedgetpu somewhere else (a hand build); also how tests pass stand-ins
# Where Coral's and feranick's packages put it (Debian multiarch folders), for the doctor and the messages.
LIBRARY_FOLDERS = ("/usr/lib/aarch64-linux-gnu", "/usr/lib/arm-linux-gnueabihf", "/usr/lib/x86_64-linux-gnu",
                   "/usr/lib", "/usr/local/lib")
RUNTIMES = {"tflite_runtime": "tflite-runtime", "ai_edge_litert": "ai-edge-litert"}  # module -> distribution
FIX = ("install a matched pair, e.g. feranick's libedgetpu1-std 16.0tf2.17.1 with his tflite_runtime 2.17.1 "
       "(docs/coral.md), or run without --edgetpu")
PROBE_TIMEOUT = 120.0  # s: the first load on a USB accelerator uploads its firmware


class EdgeTpuError(RuntimeError):
    """The Edge TPU delegate cannot be used; the message says why and what to do."""


def find_library() -> str | None:
    """The path of libedgetpu.so.1 ($HOUSE_NUMBERS_LIBEDGETPU if set), or None when it is not installed."""
    override = os.environ.get(ENV_LIBRARY)
    if override:
        return override if Path(override).exists() else None
    for folder in LIBRARY_FOLDERS:
        path = Path(folder) / LIBRARY
        if path.exists():
            return str(path.resolve())
    return ctypes.util.find_library("edgetpu")


def library_package() -> str | None:
    """'libedgetpu1-std 16.0tf2.17.1-1' (or -max) as dpkg knows it, or None without dpkg or the package."""
    for name in ("libedgetpu1-std", "libedgetpu1-max"):
        try:
            proc = subprocess.run(["dpkg-query", "-W", "-f", "${Status} ${Version}", name],
                                  capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        status, _, version = proc.stdout.rpartition(" ")
        if proc.returncode == 0 and status.endswith("installed"):
            return f"{name} {version}"
    return None


def runtime_version(module: str) -> str:
    """'tflite-runtime 2.14.0' for an interpreter module name."""
    dist = RUNTIMES.get(module, module)
    try:
        return f"{dist} {metadata.version(dist)}"
    except metadata.PackageNotFoundError:
        return dist


def clash_message(returncode: int, runtime: str, library: str) -> str:
    """One line for a probe child killed by a signal."""
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    package = library_package() or "libedgetpu (no dpkg record)"
    return (f"the Edge TPU delegate crashed the interpreter ({name}): {runtime_version(runtime)} does not work with "
            f"{package} ({library}); Coral's own libedgetpu works only with TF Lite runtimes up to 2.11 "
            f"(google-coral/edgetpu #812): {FIX}")


def check_child(command: list[str], runtime: str, library: str, timeout: float = PROBE_TIMEOUT) -> None:
    """Run a probe command; raise EdgeTpuError with one line if it dies from a signal, fails or hangs."""
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise EdgeTpuError(f"the Edge TPU delegate did not load in {timeout:.0f} s (is the accelerator plugged in, "
                           "on a USB 3 port, and is there only one program using it?)") from None
    if proc.returncode < 0:
        raise EdgeTpuError(clash_message(proc.returncode, runtime, library))
    if proc.returncode != 0:
        # The child's own verdict is its last stdout line; else the last thing it wrote to stderr.
        lines = [line for line in (proc.stdout or proc.stderr).strip().splitlines() if line.strip()]
        raise EdgeTpuError(lines[-1] if lines else f"the Edge TPU probe failed (exit {proc.returncode})")


def probe(model: Path, runtime: str, library: str | None = None) -> None:
    """Load the delegate and run the model once in a child process; EdgeTpuError if that is not safe."""
    if library in (None, LIBRARY):  # the bare name: only worth a child if it is installed somewhere
        library = find_library()
    if library is None:
        raise EdgeTpuError(f"{LIBRARY} not found: install libedgetpu1-std (docs/coral.md)"
                           f"{f' or point ${ENV_LIBRARY} at it' if os.environ.get(ENV_LIBRARY) else ''}")
    command = [sys.executable, "-m", "edge_app.edgetpu", "--model", str(model), "--runtime", runtime,
               "--library", library]
    check_child(command, runtime, library)


@contextlib.contextmanager
def quiet_failed_delegate():
    """Silence LiteRT's Delegate.__del__ on a delegate that never loaded.

    Its "Exception ignored ... AttributeError: 'Delegate' object has no attribute '_library'" would follow
    (and, in the probe, replace) the one line that says what is wrong.
    """
    previous = sys.unraisablehook

    def hook(unraisable):
        if getattr(unraisable.object, "__qualname__", "") != "Delegate.__del__":
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        gc.collect()  # the half-made delegate goes now, while the hook is in place
        sys.unraisablehook = previous


def _child(model: Path, runtime: str, library: str) -> int:
    """In the probe child: everything the app will do with the delegate, once. Crashes here are contained."""
    import importlib

    import numpy as np

    interpreter = importlib.import_module(f"{runtime}.interpreter")
    with quiet_failed_delegate():
        try:
            delegate = interpreter.load_delegate(library)
        except (OSError, ValueError, RuntimeError) as err:
            reason = [line for line in str(err).splitlines() if line.strip()] or [type(err).__name__]
            print(f"cannot load the Edge TPU delegate {library} ({reason[-1].strip()}); install libedgetpu1-std "
                  "(docs/coral.md) and plug the accelerator in", flush=True)
            return 1
    tflite = interpreter.Interpreter(model_path=str(model), experimental_delegates=[delegate])
    tflite.allocate_tensors()
    detail = tflite.get_input_details()[0]
    tflite.set_tensor(detail["index"], np.zeros(detail["shape"], detail["dtype"]))
    tflite.invoke()
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m edge_app.edgetpu", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, required=True, help="the compiled *_edgetpu.tflite")
    p.add_argument("--runtime", choices=sorted(RUNTIMES), default="tflite_runtime", help="interpreter module")
    p.add_argument("--library", default=None, help=f"delegate library (default: the installed {LIBRARY})")
    a = p.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return _child(a.model, a.runtime, a.library or find_library() or LIBRARY)


if __name__ == "__main__":
    sys.exit(main())

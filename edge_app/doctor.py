"""Preflight for a device: is everything the app needs here, from the right place, and working?

    python -m edge_app doctor                                   # or: house-numbers doctor
    python -m edge_app doctor --source picamera --model models/house_numbers_edgetpu.tflite --edgetpu
    house-numbers doctor --config /etc/house-numbers/device.toml     # what the service will run

Prints one line per check (Python, numpy and where it comes from, the interpreter, picamera2, libedgetpu,
cameras, the model card); each problem is followed by its fix in one line. Exit codes: 0 no problem,
1 at least one problem, 2 bad arguments. Anything that can crash (picamera2's import, the Edge TPU
delegate) runs in a child process.
"""

from __future__ import annotations

import functools
import glob
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from . import cli, edgetpu
from .package import models_dir, version

MIN_PYTHON = (3, 10)
OS_SITE = Path("/usr/lib/python3/dist-packages")  # where Debian / Raspberry Pi OS put apt's Python packages
NOT_CAMERAS = ("codec", "isp", "hevc", "pispbe", "rp1-cfe", "unicam", "bcm2835")  # SoC video nodes on a Pi


@dataclass
class Check:
    """One line of the report: status ok | note | FAIL, what was found, and the fix for a FAIL."""

    name: str
    status: str
    found: str
    fix: str = ""


@dataclass
class DoctorConfig:
    """What to check against (built from the command line)."""

    model: Path = field(default_factory=lambda: models_dir() / "house_numbers.tflite")
    source: str | None = None  # the --source the app will run with: makes picamera2 or a camera required
    edgetpu: bool = False
    os_site: Path = OS_SITE
    firmware: Path = Path("/lib/firmware")  # where imx500-all puts the AI Camera's firmware (imx500_main.fpk)


def _child(code: str, timeout: float = 60) -> tuple[int, str]:
    """Run Python code in a child (same interpreter and path); (returncode, last useful line of output)."""
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return 1, f"no answer in {timeout:.0f} s"
    lines = [line.strip() for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    return proc.returncode, lines[-1] if lines else ""


def _origin(path: str, os_site: Path) -> str:
    if path.startswith(str(os_site)):
        return "the OS"
    if sys.prefix != sys.base_prefix and path.startswith(sys.prefix):
        return "the venv"
    return "pip outside a venv"


def _os_version(name: str, os_site: Path) -> str | None:
    """Version of an apt-installed Python package in the OS's site folder, read from its metadata."""
    for dist in metadata.distributions(path=[str(os_site)]):
        if (dist.metadata["Name"] or "").lower() == name:
            return dist.version
    return None


def check_python() -> Check:
    where = "venv" if sys.prefix != sys.base_prefix else "no venv"
    cfg = Path(sys.prefix) / "pyvenv.cfg"
    if cfg.exists() and "include-system-site-packages = true" in cfg.read_text():
        where += " with system site packages"
    found = f"{sys.version.split()[0]} ({sys.executable}, {where})"
    if sys.version_info < MIN_PYTHON:  # pyproject's requires-python; pip refuses older, a copied folder may not
        return Check("python", "FAIL", found, "the app needs Python 3.10 or newer: Raspberry Pi OS Bookworm or later")
    return Check("python", "ok", found)


def check_numpy(cfg: DoctorConfig) -> Check:
    import numpy

    origin = _origin(numpy.__file__, cfg.os_site)
    found = f"{numpy.__version__} from {origin} ({Path(numpy.__file__).parent})"
    os_numpy = _os_version("numpy", cfg.os_site)
    has_os_camera = (cfg.os_site / "picamera2").is_dir()
    if has_os_camera and os_numpy and origin != "the OS" and os_numpy.split(".")[0] != numpy.__version__.split(".")[0]:
        # The OS's picamera2/simplejpeg are compiled against the OS's numpy: another major version breaks them.
        return Check("numpy", "FAIL", f"{found}, but the OS's picamera2 is built for the OS's numpy {os_numpy}",
                     "use the OS's numpy: pip uninstall -y numpy && pip install -r "
                     f"{'requirements-edge-bookworm.txt' if os_numpy.startswith('1.') else 'requirements-edge.txt'}")
    return Check("numpy", "ok", found)


def check_interpreter() -> Check:
    for module, dist in (("ai_edge_litert", "ai-edge-litert"), ("tflite_runtime", "tflite-runtime")):
        try:
            release = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
        code, line = _child(f"import {module}.interpreter")
        if code != 0:
            return Check("interpreter", "FAIL", f"{dist} {release} does not import: {line}",
                         "pip install -r requirements-edge-bookworm.txt on Bookworm (numpy<2, ml_dtypes<0.6), "
                         "else -r requirements-edge.txt")
        import numpy

        if module == "tflite_runtime" and int(numpy.__version__.split(".")[0]) >= 2:
            return Check("interpreter", "FAIL", f"{dist} {release} with numpy {numpy.__version__}",
                         "tflite-runtime cannot load models under numpy 2: pip install 'numpy<2'")
        return Check("interpreter", "ok", f"{dist} {release}")
    return Check("interpreter", "FAIL", "no TF Lite interpreter installed",
                 "pip install ai-edge-litert==2.3.0 (on 32-bit ARM: tflite-runtime==2.14.0 with 'numpy<2')")


@functools.lru_cache(maxsize=1)
def _picamera2() -> tuple[int, str, str]:
    """One child imports picamera2 and lists its cameras: (returncode, module file or error, camera models)."""
    proc = subprocess.run([sys.executable, "-c", "import picamera2; print(picamera2.__file__); "
                           "print([c.get('Model') for c in picamera2.Picamera2.global_camera_info()])"],
                          capture_output=True, text=True, timeout=60)
    lines = [line.strip() for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    if proc.returncode == 0 and len(lines) >= 2:
        return 0, lines[0], lines[-1]
    if proc.returncode == 0:
        return 0, lines[0] if lines else "", "[]"
    return proc.returncode, lines[-1] if lines else "", "[]"


def check_picamera2(cfg: DoctorConfig) -> Check:
    code, line, _ = _picamera2()
    needed = cfg.source is not None and cfg.source.startswith("picamera")
    if code == 0:
        return Check("picamera2", "ok", f"importable ({line})")
    found = f"not importable ({line or f'exit {code}'})"
    if "dtype size changed" in line or "numpy" in line.lower():
        return Check("picamera2", "FAIL", found, "the venv's numpy is not the one picamera2 was built with: "
                     "pip uninstall -y numpy, then pip install -r requirements-edge-bookworm.txt")
    fix = "sudo apt install python3-picamera2, and make the venv with python3 -m venv --system-site-packages"
    return Check("picamera2", "FAIL" if needed else "note", found + ("" if needed else "; only the Pi camera needs it"),
                 fix if needed else "")


def check_libedgetpu(cfg: DoctorConfig) -> Check:
    library = edgetpu.find_library()
    if library is None:
        if cfg.edgetpu:
            return Check("libedgetpu", "FAIL", "not found", "install libedgetpu1-std (docs/coral.md)")
        return Check("libedgetpu", "note", "not found; only a Coral Edge TPU needs it")
    found = f"{library} ({edgetpu.library_package() or 'no dpkg record'})"
    if not cfg.edgetpu:
        return Check("libedgetpu", "ok", found)
    from .inference.card import ModelError
    from .inference.runtime import interpreter_class

    try:
        interpreter = interpreter_class(edgetpu=True)[0].__module__.split(".")[0]
        edgetpu.probe(cfg.model, interpreter, library)
    except ModelError as err:
        return Check("libedgetpu", "FAIL", f"{found}: {err}", "see the interpreter line")
    except edgetpu.EdgeTpuError as err:
        return Check("libedgetpu", "FAIL", f"{found}: {err}", edgetpu.FIX)
    return Check("libedgetpu", "ok", f"{found}; the delegate loads and runs {cfg.model.name}")


def check_cameras(cfg: DoctorConfig) -> Check:
    found = []
    code, _, models = _picamera2()
    if code == 0 and models != "[]":
        found.append(f"Pi camera(s) {models}")
    for path in sorted(glob.glob("/sys/class/video4linux/video*/name")):
        name = Path(path).read_text().strip()
        if not any(word in name.lower() for word in NOT_CAMERAS):
            found.append(f"/dev/{Path(path).parent.name} ({name})")
    needed = cfg.source is not None and cfg.source.startswith(("picamera", "camera:"))
    if found:
        return Check("cameras", "ok", ", ".join(found))
    fix = ("Pi camera: check the ribbon cable and `rpicam-hello --list-cameras`; USB camera: plug it in and "
           "check `ls /dev/video*`")
    return Check("cameras", "FAIL" if needed else "note", "none found", fix if needed else "")


def check_model(cfg: DoctorConfig) -> Check:
    from .inference.card import ModelError
    from .inference.reader import HouseNumberModel

    try:
        model = HouseNumberModel(cfg.model)  # reads and validates the card against the model's tensors
    except ModelError as err:
        return Check("model card", "FAIL", str(err),
                     "export writes <name>.tflite and <name>.json together: copy both, or re-export the model")
    gate = "no measured gate: pass --threshold" if model.threshold is None else f"threshold {model.threshold:.3f}"
    return Check("model card", "ok", f"{cfg.model} ({gate}; {model.card.training['licence']})")


def check_coral(cfg: DoctorConfig) -> Check | None:
    """With --edgetpu: what a Coral user must still do to run both networks on the TPU (compile them)."""
    if not cfg.edgetpu:
        return None
    todo = []
    if not cfg.model.stem.endswith("_edgetpu"):
        todo.append(f"the reader is not compiled: edgetpu_compiler -o {cfg.model.parent} {cfg.model}, then --model "
                    f"{cfg.model.with_name(cfg.model.stem + '_edgetpu.tflite')}")
    detector = models_dir() / "number_detector.tflite"
    if not detector.with_name("number_detector_edgetpu.tflite").is_file():
        todo.append(f"the detector runs on the CPU until it is compiled: edgetpu_compiler -o {detector.parent} "
                    f"{detector}")
    if not todo:
        return Check("coral", "ok", "the reader and the detector are compiled for the Edge TPU")
    return Check("coral", "FAIL" if not cfg.model.stem.endswith("_edgetpu") else "note", "; ".join(todo),
                 "compile on an x86-64 machine with Coral's edgetpu-compiler (docs/coral.md)")


def check_source(cfg: DoctorConfig) -> Check | None:
    """Pictures, folders and videos must exist and be of a kind the app reads; cameras and streams are checked
    by the camera line, or only when the app connects."""
    if cfg.source is None:
        return None
    from .redact import redact
    from .sources import SourceError, source_kind

    try:
        kind = source_kind(cfg.source)
    except SourceError as err:
        return Check("source", "FAIL", str(err), "give a picture, a folder of pictures, a video, picamera, camera:N "
                     "or a stream URL")
    return Check("source", "ok", f"{redact(cfg.source)} ({kind})")


def check_imx500(cfg: DoctorConfig) -> Check | None:
    """With --source imx500:NETWORK.rpk: the sensor's firmware, the network file and its card."""
    if cfg.source is None or not (cfg.source == "imx500" or cfg.source.startswith("imx500:")):
        return None
    from .sources import SourceError
    from .sources.imx500 import network_path
    from .sources.imx500_network import card_for

    if not any(cfg.firmware.glob("imx500_main*.fpk")):
        return Check("ai camera", "FAIL", f"no IMX500 firmware in {cfg.firmware}",
                     "sudo apt install -y imx500-all, then reboot once (docs/imx500.md)")
    try:
        rpk = network_path(cfg.source)
        if not rpk.is_file():
            raise SourceError(f"{rpk}: no such network file")
        card = card_for(rpk)
    except SourceError as err:
        return Check("ai camera", "FAIL", str(err), "imx500-package -i models/number_detector_imx500_packerOut.zip "
                     "-o DIR, then --source imx500:DIR/network.rpk (docs/imx500.md)")
    return Check("ai camera", "ok", f"firmware in {cfg.firmware}; {rpk} ({card.network_name}, "
                 f"{card.input_size[0]}x{card.input_size[1]})")


def run_checks(cfg: DoctorConfig) -> list[Check]:
    checks = [check_python(), check_numpy(cfg), check_interpreter(), check_picamera2(cfg), check_libedgetpu(cfg),
              check_cameras(cfg), check_source(cfg), check_imx500(cfg), check_model(cfg), check_coral(cfg)]
    return [c for c in checks if c is not None]


def report(checks: list[Check]) -> str:
    lines = []
    for c in checks:
        lines.append(f"{c.status:<5} {c.name:<12} {c.found}")
        if c.status == "FAIL" and c.fix:
            lines.append(f"{'':<5} {'':<12} fix: {c.fix}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = cli.parser("python -m edge_app doctor", __doc__)
    p.add_argument("--config", type=Path, help="the app's device.toml: its model, source and edgetpu keys (flags win)")
    p.add_argument("--model", type=Path, help="the model the app will run (default: the shipped one)")
    p.add_argument("--source",
                   help="the --source the app will run with (picamera makes picamera2 and a camera required)")
    p.add_argument("--edgetpu", action="store_true", default=None,
                   help="check the Coral: libedgetpu, and its delegate on --model in a child")
    p.add_argument("--os-site", type=Path, default=OS_SITE, help="where the OS's Python packages live")
    a = p.parse_args(argv)
    cli.setup_logging(a.verbose, a.quiet)
    if a.config:
        from .__main__ import build_parser  # the app's own flags check the file's keys
        from .config import ConfigError, read_config

        try:
            values = read_config(a.config, build_parser())
        except ConfigError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        for key in ("model", "source", "edgetpu"):
            if getattr(a, key) is None and values.get(key) is not None:
                setattr(a, key, values[key])
    checks = run_checks(DoctorConfig(a.model or DoctorConfig().model, a.source, bool(a.edgetpu), a.os_site))
    print(f"house-numbers {version()}")
    print(report(checks))
    problems = sum(c.status == "FAIL" for c in checks)
    print(f"{problems} problem{'s' if problems != 1 else ''}" if problems else "no problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

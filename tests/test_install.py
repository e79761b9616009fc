"""The device install as a Raspberry Pi OS Bookworm user does it: a fresh venv, the Bookworm-pinned set, the wheel.

This machine runs Debian 12 (Bookworm) with its Python 3.11, so the venv is made as on a Pi: from
/usr/bin/python3 with --system-site-packages, beside apt's numpy 1.24.2 (scripts/test.sh installs
python3-numpy). Elsewhere it falls back to a plain venv with numpy pinned to 1.24.2. One venv serves both
acceptance items: the wheel installs and runs, and the pinned set reads real pictures with TensorFlow blocked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from edge_app.annotations import read_annotations

from .conftest import ROOT

BLOCKED = ROOT / "tests" / "fakes" / "blocked"
DEBIAN_PYTHON = Path("/usr/bin/python3")
COUNT = 20
VERSION = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)  # the wheel's


def _run(*cmd, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kwargs)
    assert proc.returncode == 0, f"{cmd}: {proc.stdout[-1500:]}{proc.stderr[-3000:]}"
    return proc


def _debian_numpy() -> str | None:
    """The version of apt's numpy beside Debian's own Python 3.11, if this is such a machine."""
    if not DEBIAN_PYTHON.exists():
        return None
    proc = subprocess.run([DEBIAN_PYTHON, "-c",
                           "import sys, numpy; print(sys.version_info[:2] == (3, 11), numpy.__version__)"],
                          capture_output=True, text=True)
    ok, _, version = proc.stdout.strip().partition(" ")
    return version if proc.returncode == 0 and ok == "True" else None


@pytest.fixture(scope="module")
def device(tmp_path_factory) -> dict:
    """Build the wheel from a copy of the checkout, make the venv, install the Bookworm set and the wheel."""
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"
    for name in ("edge_app", "models"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "report*"))
    for name in ("pyproject.toml", "setup.py", "README.md", "requirements-edge-bookworm.txt"):
        shutil.copy(ROOT / name, src / name)

    os_numpy = _debian_numpy()
    venv = tmp / "venv"
    if os_numpy:
        _run(DEBIAN_PYTHON, "-m", "venv", "--system-site-packages", venv)
        pins = []
    else:  # not Debian Bookworm: pin numpy to Bookworm's version instead
        _run(sys.executable, "-m", "venv", venv)
        (tmp / "bookworm-numpy.txt").write_text("numpy==1.24.2\n")
        pins = ["-c", tmp / "bookworm-numpy.txt"]
    pip = [venv / "bin" / "python", "-m", "pip", "--disable-pip-version-check", "-q"]
    _run(*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", tmp / "dist", src)
    (wheel,) = (tmp / "dist").glob("house_numbers-*.whl")
    _run(*pip, "install", "-r", src / "requirements-edge-bookworm.txt", *pins, wheel)
    return {"venv": venv, "wheel": wheel, "os_numpy": os_numpy, "cwd": tmp}


def _in_venv(device, *args, **env) -> subprocess.CompletedProcess:
    """Run the venv's python or console script from outside the checkout, TensorFlow and Keras blocked."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    full_env.update(PYTHONPATH=str(BLOCKED), **env)
    return _run(*args, cwd=device["cwd"], env=full_env)


def test_wheel_holds_the_device_side_only(device):
    names = zipfile.ZipFile(device["wheel"]).namelist()
    tops = {n.split("/")[0] for n in names if not n.startswith("house_numbers-")}
    assert tops == {"edge_app"}  # no train/, calibration/, export/, tests/
    sources = {str(p.relative_to(ROOT)) for p in (ROOT / "edge_app").rglob("*.py")}
    assert sources <= set(names)  # every module and subpackage made it in
    for model in ("house_numbers", "house_numbers_clean"):
        assert f"edge_app/models/{model}.tflite" in names and f"edge_app/models/{model}.json" in names
    metadata = zipfile.ZipFile(device["wheel"]).read(next(n for n in names if n.endswith("METADATA"))).decode()
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert any("ai-edge-litert" in r for r in requires) and not any("tensorflow" in r for r in requires)


def test_bookworm_set_keeps_numpy_1_and_brings_no_tensorflow(device):
    probe = ("import json, numpy, ml_dtypes, edge_app, importlib.metadata as m; "
             "print(json.dumps({'numpy': numpy.__version__, 'numpy_file': numpy.__file__, 'ml_dtypes': "
             "ml_dtypes.__version__, "
             "'litert': m.version('ai-edge-litert'), 'edge_app': edge_app.__file__, "
             "'dists': sorted(d.metadata['Name'].lower() for d in m.distributions())}))")
    got = json.loads(_in_venv(device, device["venv"] / "bin" / "python", "-c", probe).stdout)
    assert got["numpy"].startswith("1.24.")
    if device["os_numpy"]:  # the OS's numpy, as picamera2 needs it, not a copy in the venv
        assert got["numpy"] == device["os_numpy"] and got["numpy_file"].startswith("/usr/lib/python3/dist-packages/")
    assert got["ml_dtypes"].startswith("0.5.") and got["litert"] == "2.3.0"
    assert got["edge_app"].startswith(str(device["venv"]))  # the installed copy, not the checkout
    assert not any(d.startswith(("tensorflow", "keras", "tf-")) for d in got["dists"])


def test_console_script_version(device):
    out = _in_venv(device, device["venv"] / "bin" / "house-numbers", "--version").stdout.strip()
    assert out == f"house-numbers {VERSION}"


def test_installed_app_reads_real_pictures_with_tensorflow_blocked(device, svhn, tmp_path):
    folder = tmp_path / "pics"
    folder.mkdir()
    test = svhn / "recon" / "test"
    truth = {a.name: "".join(map(str, a.digits)) for a in read_annotations(test)}
    names = [f"{i}.png" for i in range(1, COUNT + 1)]
    for name in names:
        shutil.copy(test / name, folder)
    (folder / "digitStruct.csv").write_text(
        "\n".join(line for line in (test / "digitStruct.csv").read_text().splitlines()
                  if line.split(";")[0] in ("name", *names)) + "\n")
    out = tmp_path / "device.jsonl"
    # The default model is the one shipped inside the wheel.
    _in_venv(device, device["venv"] / "bin" / "house-numbers", "--source", folder, "--boxes", "--threshold", "0",
             "--jsonl", out, "--quiet")
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["file"] for e in events] == names
    correct = sum(e["reading"] == truth[e["file"]] for e in events)
    assert correct >= 15  # the shipped model reads 81.8% of SVHN test (rebuilt): a broken install reads ~0

    # numpy 1.24 on the device and numpy 2 on the workstation must read the very same numbers.
    same = tmp_path / "workstation.jsonl"
    _run(sys.executable, "-m", "edge_app", "--source", folder, "--boxes", "--threshold", "0", "--jsonl", same,
         "--quiet", cwd=ROOT)
    assert [e["reading"] for e in events] == [json.loads(line)["reading"] for line in same.read_text().splitlines()]


def test_doctor_in_the_installed_venv(device):
    out = _in_venv(device, device["venv"] / "bin" / "house-numbers", "doctor").stdout
    assert out.splitlines()[0] == f"house-numbers {VERSION}" and out.splitlines()[-1] == "no problems"
    if device["os_numpy"]:
        assert f"numpy        {device['os_numpy']} from the OS (/usr/lib/python3/dist-packages/numpy)" in out
    assert "interpreter  ai-edge-litert 2.3.0" in out and "edge_app/models/house_numbers.tflite" in out


def test_mqtt_and_opencv_on_bookworm_keep_the_os_numpy(device, svhn, tmp_path):
    """The documented Bookworm line for the extras: pip install -c requirements-edge-bookworm.txt ".[mqtt,opencv]".
    Without the constraint pip takes OpenCV 5 and numpy 2, which breaks the OS's picamera2; with it numpy stays 1.x,
    and the app still reads (runs last in this file: it adds packages to the module's venv)."""
    pip = [device["venv"] / "bin" / "python", "-m", "pip", "--disable-pip-version-check", "-q"]
    _run(*pip, "install", "-c", ROOT / "requirements-edge-bookworm.txt", f"{device['wheel']}[mqtt,opencv]")
    probe = "import numpy, cv2, paho.mqtt.client; print(numpy.__version__, cv2.__version__)"
    numpy_version, cv2_version = _in_venv(device, device["venv"] / "bin" / "python", "-c", probe).stdout.split()
    assert numpy_version.startswith("1.") and cv2_version.startswith("4.")
    if device["os_numpy"]:
        assert numpy_version == device["os_numpy"]
    out = tmp_path / "r.jsonl"
    _in_venv(device, device["venv"] / "bin" / "house-numbers", "--source", svhn / "recon" / "test" / "2.png",
             "--boxes", "--threshold", "0", "--jsonl", out, "--quiet")
    assert json.loads(out.read_text())["reading"] == "210"

"""`python -m edge_app doctor` on the situations users hit: each problem found, with its fix on the next line."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from edge_app import edgetpu
from edge_app.doctor import DoctorConfig, check_libedgetpu, check_model, check_numpy

from .conftest import ROOT, run_module
from .standins import edgetpu_model, libedgetpu

FAKES = ROOT / "tests" / "fakes"
DEBIAN_NUMPY = sorted(Path("/usr/lib/python3/dist-packages").glob("numpy-1.*-info"))


def doctor(*args, env=None):
    """The real CLI in a child; returns (exit code, {check name: (status, text)}, stdout)."""
    proc = run_module("edge_app", "doctor", *args, env=env, timeout=180)
    assert "Traceback" not in proc.stderr, proc.stderr
    checks, last = {}, None
    for line in proc.stdout.splitlines()[1:-1]:  # between the version line and the count
        if line.startswith(" "):
            checks[last] = (checks[last][0], checks[last][1] + "\n" + line.strip())
        else:
            status, name, text = line[:5].strip(), line[6:18].strip(), line[19:]
            checks[name], last = (status, text), name
    return proc.returncode, checks, proc.stdout


def fix(checks, name) -> str:
    status, text = checks[name]
    assert status == "FAIL"
    lines = text.splitlines()
    assert len(lines) == 2 and lines[1].startswith("fix: ")  # the problem, then its fix in one line
    return lines[1]


def test_all_good_with_the_stand_in_camera():
    code, checks, out = doctor("--source", "picamera", env={"PYTHONPATH": f"{FAKES}{os.pathsep}{ROOT}"})
    assert code == 0, out
    assert out.splitlines()[-1] == "no problems"
    assert checks["picamera2"][0] == "ok" and checks["cameras"] == ("ok", "Pi camera(s) ['imx708']")
    assert checks["interpreter"] == ("ok", "ai-edge-litert 2.3.0")
    assert checks["model card"][0] == "ok" and "house_numbers.tflite" in checks["model card"][1]
    assert checks["numpy"][0] == "ok" and "from the venv" in checks["numpy"][1]


def test_no_picamera2():
    code, checks, _ = doctor("--source", "picamera")
    assert code == 1
    assert "No module named 'picamera2'" in checks["picamera2"][1]
    hint = fix(checks, "picamera2")
    assert "sudo apt install python3-picamera2" in hint and "--system-site-packages" in hint
    assert checks["cameras"][0] == "FAIL"  # a Pi camera was asked for and none is there


def test_no_picamera2_is_only_a_note_without_a_pi_camera_source(tmp_path):
    (tmp_path / "gate.mp4").write_bytes(b"")
    code, checks, _ = doctor("--source", tmp_path / "gate.mp4")
    assert checks["picamera2"][0] == "note" and checks["source"][0] == "ok" and code == 0


def test_a_source_that_does_not_exist_is_a_problem_and_a_password_is_masked(tmp_path):
    code, checks, _ = doctor("--source", tmp_path / "gate.mp4")
    assert code == 1 and checks["source"][0] == "FAIL" and "no such file" in checks["source"][1]
    code, checks, out = doctor("--source", "rtsp://admin:Hunter22@10.0.0.5/stream")
    assert checks["source"] == ("ok", "rtsp://admin:***@10.0.0.5/stream (stream)") and "Hunter22" not in out


def test_numpy_from_the_wrong_place(tmp_path):
    """The OS has picamera2 built for its numpy 1.24; this venv's own numpy 2 would shadow it."""
    os_site = tmp_path / "dist-packages"
    shutil.copytree(FAKES / "picamera2", os_site / "picamera2")
    if DEBIAN_NUMPY:  # Debian Bookworm's real record of apt's numpy
        shutil.copytree(DEBIAN_NUMPY[-1], os_site / DEBIAN_NUMPY[-1].name)
    else:
        (os_site / "numpy-1.24.2.egg-info").write_text("Metadata-Version: 1.2\nName: numpy\nVersion: 1.24.2\n")
    check = check_numpy(DoctorConfig(os_site=os_site))  # in this process: the venv's numpy 2
    assert check.status == "FAIL" and "from the venv" in check.found
    assert "the OS's picamera2 is built for the OS's numpy 1.24" in check.found
    assert check.fix == "use the OS's numpy: pip uninstall -y numpy && pip install -r requirements-edge-bookworm.txt"
    shutil.rmtree(os_site / "picamera2")  # no OS camera stack: the venv's numpy harms nothing
    assert check_numpy(DoctorConfig(os_site=os_site)).status == "ok"


def test_no_libedgetpu(tmp_path, monkeypatch):
    model = edgetpu_model(tmp_path)
    monkeypatch.setenv(edgetpu.ENV_LIBRARY, str(tmp_path / "missing.so.1"))
    check = check_libedgetpu(DoctorConfig(model=model, edgetpu=True))
    assert check.status == "FAIL" and check.found == "not found" and "install libedgetpu1-std" in check.fix
    check = check_libedgetpu(DoctorConfig(model=model))  # no Coral asked for: a note, not a problem
    assert check.status == "note" and not check.fix


def test_delegate_that_crashes(tmp_path):
    model = edgetpu_model(tmp_path)
    env = {edgetpu.ENV_LIBRARY: str(libedgetpu("crash", tmp_path))}
    code, checks, _ = doctor("--edgetpu", "--model", model, env=env)
    assert code == 1
    assert "crashed the interpreter (SIGSEGV)" in checks["libedgetpu"][1]
    assert "feranick" in fix(checks, "libedgetpu")


def test_delegate_that_loads(tmp_path, monkeypatch):
    model = edgetpu_model(tmp_path)
    monkeypatch.setenv(edgetpu.ENV_LIBRARY, str(libedgetpu("ok", tmp_path)))
    check = check_libedgetpu(DoctorConfig(model=model, edgetpu=True))
    assert check.status == "ok" and "delegate loads and runs house_numbers_edgetpu.tflite" in check.found


@pytest.mark.parametrize("damage, words", [
    (lambda card: "{not json", "not a readable model card"),
    (lambda card: json.dumps({k: v for k, v in json.loads(card).items() if k != "outputs"}), "'outputs'"),
])
def test_broken_card(tmp_path, damage, words):
    model = tmp_path / "house_numbers.tflite"
    shutil.copy(ROOT / "models" / "house_numbers.tflite", model)
    (tmp_path / "house_numbers.json").write_text(damage((ROOT / "models" / "house_numbers.json").read_text()))
    check = check_model(DoctorConfig(model=model))
    assert check.status == "FAIL" and words in check.found and "copy both, or re-export" in check.fix


def test_doctor_reads_the_service_config(tmp_path):
    config = tmp_path / "device.toml"
    config.write_text('source = "picamera"\nquiet = true\n')
    code, checks, _ = doctor("--config", config)
    assert code == 1 and checks["picamera2"][0] == "FAIL"  # source = "picamera" makes picamera2 required
    config.write_text('sorce = "picamera"\n')
    proc = run_module("edge_app", "doctor", "--config", config)
    assert proc.returncode == 2 and "unknown key 'sorce'" in proc.stderr and "Traceback" not in proc.stderr


def test_doctor_tells_a_coral_user_what_to_compile(tmp_path):
    code, checks, _ = doctor("--edgetpu")
    status, text = checks["coral"]
    assert code == 1 and status == "FAIL"
    assert "the reader is not compiled: edgetpu_compiler -o" in text and "house_numbers_edgetpu.tflite" in text
    assert "the detector runs on the CPU until it is compiled" in text
    code, checks, _ = doctor()
    assert "coral" not in checks  # only asked with --edgetpu


def test_doctor_checks_the_ai_cameras_firmware_and_network(tmp_path):
    """--source imx500:...: no firmware is a FAIL with the apt line; a missing network file says how to make it;
    with both, the line names the network from its card."""
    from edge_app.doctor import check_imx500

    firmware, rpk = tmp_path / "firmware", tmp_path / "net" / "network.rpk"
    firmware.mkdir()
    cfg = DoctorConfig(source=f"imx500:{rpk}", firmware=firmware)
    check = check_imx500(cfg)
    assert check.status == "FAIL" and "imx500-all" in check.fix
    (firmware / "imx500_main.fpk").write_bytes(b"fw")
    check = check_imx500(cfg)
    assert check.status == "FAIL" and "no such network file" in check.found and "imx500-package" in check.fix
    rpk.parent.mkdir()
    rpk.write_bytes(b"rpk")
    check = check_imx500(cfg)
    assert check.status == "ok" and "number_detector" in check.found, check
    assert check_imx500(DoctorConfig(source="picamera")) is None

"""The systemd unit, checked by systemd's own verifier, and the install script's plan on Bookworm and Trixie."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT

UNIT = ROOT / "deploy" / "house-numbers.service"
INSTALL = ROOT / "deploy" / "install.sh"


def unit_settings(text: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def verify(tmp_path: Path, unit_text: str) -> subprocess.CompletedProcess:
    """systemd-analyze verify in a private root: the system's own units, this unit, a stub at ExecStart's path."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.fail("systemd-analyze is missing: scripts/test.sh installs it (apt-get install -y systemd); "
                    "it reads unit files only, so it runs in a container without systemd running")
    root = tmp_path / "root"
    (root / "usr" / "lib" / "systemd").mkdir(parents=True)
    shutil.copytree("/usr/lib/systemd/system", root / "usr" / "lib" / "systemd" / "system", symlinks=True)
    (root / "lib").symlink_to("usr/lib")  # merged /usr, as on Debian 12+: the units' absolute links resolve
    (root / "etc" / "systemd" / "system").mkdir(parents=True)
    (root / "etc" / "systemd" / "system" / UNIT.name).write_text(unit_text)
    exe = Path(unit_settings(unit_text)["ExecStart"][0].split()[0])
    stub = root / exe.relative_to("/")
    stub.parent.mkdir(parents=True)
    stub.write_text("#!/bin/sh\n")
    stub.chmod(0o755)
    return subprocess.run([tool, "verify", f"--root={root}", UNIT.name], capture_output=True, text=True, timeout=60)


def test_systemd_analyze_verifies_the_unit_without_a_warning(tmp_path):
    proc = verify(tmp_path, UNIT.read_text())
    assert proc.returncode == 0 and proc.stdout + proc.stderr == "", proc.stdout + proc.stderr


def test_the_verifier_does_catch_a_broken_unit(tmp_path):
    broken = UNIT.read_text().replace("WatchdogSec=120", "WatchdogSec=two minutes")
    broken = broken.replace("Type=notify", "Type=notifyy")
    out = verify(tmp_path, broken).stderr
    assert "Failed to parse sec value" in out and "Failed to parse service type" in out


def test_unit_settings():
    s = unit_settings(UNIT.read_text())
    assert s["ExecStart"] == ["/opt/house-numbers/venv/bin/house-numbers --config /etc/house-numbers/device.toml"]
    assert s["Wants"] == ["network-online.target"] and s["After"] == ["network-online.target"]
    assert s["RestartPreventExitStatus"] == ["2"] and s["Restart"] == ["on-failure"]
    assert s["Type"] == ["notify"] and int(s["WatchdogSec"][0]) > 0
    assert s["StandardOutput"] == ["journal"] and s["StandardError"] == ["journal"]
    assert s["User"] == ["house-numbers"] and "/home/pi" not in UNIT.read_text()


@pytest.mark.parametrize("codename, requirements", [("bookworm", "requirements-edge-bookworm.txt"),
                                                    ("trixie", "requirements-edge.txt")])
def test_install_plan_picks_the_requirements_for_the_os(tmp_path, codename, requirements):
    os_release = tmp_path / "os-release"
    os_release.write_text(f'PRETTY_NAME="Debian"\nVERSION_CODENAME={codename}\n')
    proc = subprocess.run(["bash", INSTALL, "--dry-run"], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "OS_RELEASE": str(os_release)})
    assert proc.returncode == 0, proc.stderr
    steps = [line[2:] for line in proc.stdout.splitlines() if line.startswith("+ ")]
    assert f"/opt/house-numbers/venv/bin/pip install --disable-pip-version-check -r {requirements} .[mqtt]" in steps
    assert "install -o house-numbers -m 600 deploy/device.toml /etc/house-numbers/device.toml" in steps  # secrets
    assert "python3 -m venv --system-site-packages /opt/house-numbers/venv" in steps
    assert steps[-1] == "systemctl enable --now house-numbers"
    assert (ROOT / requirements).is_file()


def test_install_as_an_existing_user(tmp_path):
    proc = subprocess.run(["bash", INSTALL, "--dry-run", "--user", "root"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "useradd" not in proc.stdout and "sed User=/Group=" in proc.stdout


def test_install_refuses_an_unknown_option():
    proc = subprocess.run(["bash", INSTALL, "--frobnicate"], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.strip() == "error: unknown option --frobnicate (see --help)"


def test_install_plan_on_32_bit_pi_os_takes_tflite_runtime(tmp_path):
    """armhf userland (32-bit Pi OS, whatever the kernel says): no ai-edge-litert wheel exists there."""
    os_release = tmp_path / "os-release"
    os_release.write_text('VERSION_CODENAME=bookworm\n')
    proc = subprocess.run(["bash", INSTALL, "--dry-run"], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "OS_RELEASE": str(os_release),
                               "DPKG_ARCH": "armhf"})
    assert proc.returncode == 0, proc.stderr
    steps = [line[2:] for line in proc.stdout.splitlines() if line.startswith("+ ")]
    pip = "/opt/house-numbers/venv/bin/pip install --disable-pip-version-check"
    assert f"{pip} -r requirements-edge-armhf.txt paho-mqtt>=2.1,<3" in steps and f"{pip} --no-deps ." in steps
    pins = [line for line in (ROOT / "requirements-edge-armhf.txt").read_text().splitlines()
            if not line.startswith("#")]
    assert pins == ["numpy>=1.23.2,<2", "Pillow>=10.0", "tflite-runtime==2.14.0"]


def test_the_unit_is_sandboxed():
    """systemd-analyze rates the unit's exposure (0 safe .. 10 exposed): it was 8.7 EXPOSED before the sandboxing."""
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is missing: scripts/test.sh installs it (apt-get install -y systemd)")
    proc = subprocess.run(["systemd-analyze", "security", "--offline=true", str(UNIT)], capture_output=True, text=True)
    level = re.search(r"Overall exposure level for \S+: ([0-9.]+)", proc.stdout)
    assert level is not None, proc.stdout[-500:] + proc.stderr[-500:]
    assert float(level.group(1)) <= 4.0


def test_install_gives_the_service_the_apex_group_of_a_pcie_coral(tmp_path):
    """Where the PCIe/M.2 Coral's driver made the apex group, the unit gets it too (/dev/apex_0 is 0660 apex)."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "getent").write_text('#!/bin/sh\n[ "$2" = apex ] && echo "apex:x:999:" && exit 0\nexit 2\n')
    (fake / "getent").chmod(0o755)
    env = {"PATH": f"{fake}:/usr/bin:/bin:/usr/sbin:/sbin"}
    proc = subprocess.run(["bash", INSTALL, "--dry-run"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "sed User=/Group=" in proc.stdout and "install -m 644 deploy/house-numbers.service" not in proc.stdout
    unit = tmp_path / "unit"
    subprocess.run(["sed", "-e", "s/^SupplementaryGroups=video plugdev$/& apex/", str(UNIT)], check=True,
                   stdout=unit.open("w"))
    assert "SupplementaryGroups=video plugdev apex" in unit.read_text()  # the edit install.sh makes

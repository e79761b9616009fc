"""The network fault pass (scripts/net_fault_pass.py) as CI runs it: every case against a real app, a real
Mosquitto and real sockets on 127.0.0.1, each with its verdict; none may fail."""

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_the_network_fault_pass_finds_nothing(tmp_path):
    out = tmp_path / "net.json"
    proc = subprocess.run([sys.executable, "scripts/net_fault_pass.py", "--json", out], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    report = json.loads(out.read_text())
    failed = [(r["id"], r["case"], r["seen"]) for r in report["results"] if r["verdict"] != "ok"]
    assert proc.returncode == 0 and not failed, failed or proc.stderr[-2000:]
    ids = {r["id"] for r in report["results"]}
    assert {"S1", "S9", "H1", "H2", "H3", "F1", "F2", "M1", "M2", "M3", "A1", "P1", "P2", "W1", "D1", "B1"} <= ids

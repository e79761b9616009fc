"""The fault pass script: its verdicts can tell harm from a documented refusal, and --quick finds none."""

import json
import subprocess
import sys

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))

from fault_cases.kit import judge  # noqa: E402


def _proc(rc, err=""):
    return subprocess.CompletedProcess(["x"], rc, "", err)


def test_verdicts_name_each_kind_of_harm():
    assert judge(_proc(-11), 0).verdict == "signal"
    assert judge(_proc(1, "Traceback (most recent call last):\n  ...\nValueError: x\n"), 2).verdict == "traceback"
    assert judge(_proc(None), 0).verdict == "timeout"
    assert judge(_proc(0, "frames 3\n"), 0, lost="2 of 3 pictures").verdict == "silent loss"
    assert judge(_proc(2, "error: x\n"), 2, lost="no report").verdict == "ok"  # announced by the exit code
    assert judge(_proc(2, "error: x\n"), 2, overwritten="first run changed").verdict == "overwritten"
    assert judge(_proc(0, "error: x\n"), 2).verdict == "unexpected"
    assert judge(_proc(2, "error: x\nmore\n"), 2, one_line=True).verdict == "unexpected"
    ok = judge(_proc(2, "loading\nerror: --roi: values must be within 65536 pixels\n"), 2, says="65536", one_line=False)
    assert ok.verdict == "ok" and ok.line.startswith("error: --roi")


def test_the_quick_fault_pass_finds_no_harm(tmp_path):
    report = tmp_path / "faults.json"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "fault_pass.py"), "--quick", "--json", str(report)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    done = json.loads(report.read_text())
    bad = [f"{r['id']} {r['verdict']}: {r['why']} | {r['line']}" for r in done["results"] if r["verdict"] != "ok"]
    assert proc.returncode == 0 and not bad, "\n".join(bad) or proc.stderr[-3000:]
    assert done["totals"]["ok"] == done["cases"] >= 15 and "F.1" in {r["id"] for r in done["results"]}
    assert "cases in" in proc.stdout.splitlines()[-2]  # the table's totals line

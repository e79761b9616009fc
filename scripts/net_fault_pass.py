"""The network fault pass of issue 32, replayable: the device's network surface attacked through real sockets.

One app runs as a user runs it (the fake Pi camera of the tests showing two real SVHN numbers, the shipped
reader, --http with a token, --mqtt to a real Mosquitto, a config file the page writes back to), and each case
attacks it on 127.0.0.1 only: secrets in URLs, other Host names and Origins, floods of idle and slow
connections, malformed requests, wrong tokens, a second process on the same config or spool, config write-back
through a link or with a 0600 file, discovery ids, a broker that never answers. Each case gets a verdict, ok or
FAIL, with what was seen. Writes a JSON report and prints a table; exit 1 if any case fails. The cases live in
scripts/net_fault_cases/, one module per kind of attack.

    python scripts/net_fault_pass.py --json docs/net_fault_pass.json
    python scripts/net_fault_pass.py --only H1,M3
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edge_app.atomic import write_json  # noqa: E402
from scripts.net_fault_cases import CASES, PASSWORD, TOKEN, Device  # noqa: E402
from tests.broker import Broker  # noqa: E402
from tests.test_http import stop  # noqa: E402


def run(only: set[str] | None) -> dict:
    """Every case (or those in `only`) against one device; the report."""
    rows, started = [], time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="net-fault-") as scratch:
        tmp = Path(scratch)
        broker = Broker(tmp / "broker").start()
        device = Device(tmp / "device", broker)
        try:
            for cid, what, expect, attack in CASES:
                if only and cid not in only:
                    continue
                t = time.perf_counter()
                try:
                    ok, seen = attack(device, tmp)
                except Exception as err:  # noqa: BLE001 - a broken case is a failed case; the pass goes on
                    ok, seen = False, f"the case failed: {type(err).__name__}: {err}"[:200]
                rows.append({"id": cid, "case": what, "expect": expect, "verdict": "ok" if ok else "FAIL",
                             "seen": seen.replace(str(tmp), "TMP"), "seconds": round(time.perf_counter() - t, 2)})
                print(f"{cid:<4} {rows[-1]['verdict']:<4} {what[:60]:<60} {rows[-1]['seen'][:60]}", flush=True)
        finally:
            err = stop(device.proc)
            broker.stop()
        if not only or "S2" in only:  # the device's own log, after all of the above with -v
            leaked = err.count(TOKEN) + err.count(PASSWORD) + err.count("Traceback")
            rows.append({"id": "S9", "case": "the device's whole log (-v) after every case", "expect":
                         "no token, no password, no traceback", "verdict": "ok" if not leaked else "FAIL",
                         "seen": f"{leaked} found in {err.count(chr(10))} lines", "seconds": 0.0})
    return {"python": platform.python_version(), "machine": f"{platform.machine()} {os.cpu_count()} cores",
            "date": time.strftime("%Y-%m-%d"), "seconds": round(time.perf_counter() - started, 1),
            "cases": len(rows), "failed": sum(r["verdict"] != "ok" for r in rows), "results": rows}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", type=lambda t: set(t.split(",")), help="comma-separated case ids, e.g. H1,M3")
    p.add_argument("--json", type=Path, help="write the report here (docs/net_fault_pass.json)")
    args = p.parse_args(argv)
    report = run(args.only)
    if args.json:
        write_json(args.json, report)
    print(f"{report['cases'] - report['failed']} of {report['cases']} cases ok in {report['seconds']} s")
    return 1 if report["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())

"""The fault pass of issue 14, rerun as one script: every hostile case through the real command lines.

Each case runs `python -m ...` as a user would (real SVHN pictures from ../shared copied into a scratch
folder, the shipped models in models/) and gets a verdict: ok, traceback, signal (killed by one), silent
loss (exit 0 with output missing, partial or wrong, no warning), overwritten (an earlier run's results
replaced), unexpected (another exit code or message than the README documents) or timeout. Then a seeded,
time-bounded fuzz: mutated PNG/JPEG/BMP/WebP/GIF pictures and digitStruct files through the edge app,
train.evaluate and the crop cache. Writes a JSON report, prints a table; exit 1 if any case is not ok.

    python scripts/fault_pass.py                          # the full pass (about 10 minutes on 2 cores)
    python scripts/fault_pass.py --quick                  # a subset for CI, under a minute
    python scripts/fault_pass.py --only 2.1,4.3 --json out/faults.json
    python scripts/fault_pass.py --fuzz-seconds 300 --seed 7
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: edge_app, tests.hostile

from fault_cases import CASES  # noqa: E402
from fault_cases.kit import VERDICTS, Ctx, Outcome  # noqa: E402

from edge_app.atomic import write_json  # noqa: E402

SVHN = ROOT.parent / "shared" / "data" / "svhn"


def merge(steps: list[Outcome]) -> dict:
    """A case's steps as one row: the worst verdict, every exit code, the line of the step that decided."""
    worst = min(steps, key=lambda s: VERDICTS.index(s.verdict))
    # all ok: a refusal's line says more than a summary line (a second --annotate run refused, not the first)
    told = [s for s in steps if s.line and s.rc] + [s for s in steps if s.line]
    decided = worst if worst.verdict != "ok" else (told or steps)[0]
    return {"verdict": worst.verdict, "why": worst.why, "rc": [s.rc for s in steps if s.rc is not None],
            "line": decided.line, **({"stderr_tail": worst.tail} if worst.tail else {})}


def run_case(case, ctx: Ctx) -> dict:
    start = time.perf_counter()
    try:
        row = merge(case.run(ctx))
    except Exception as err:  # noqa: BLE001 - a broken case is reported, and the pass goes on
        row = {"verdict": "unexpected", "why": f"the case itself failed: {type(err).__name__}: {err}"[:300],
               "rc": [], "line": ""}
    # the scratch folder's name says nothing, and the data's place differs between machines
    row["line"] = row["line"].replace(f"{ctx.tmp}/", "").replace(str(ctx.svhn), "SVHN") or "(nothing on stderr)"
    return {"id": case.id, "case": case.title, "expect": case.expect, "before": case.before, **row,
            "seconds": round(time.perf_counter() - start, 1)}


def table(rows: list[dict]) -> str:
    lines = [f"{'case':<5} {'verdict':<11} {'rc':<8} {'what':<44} stderr (the line that matters)"]
    for r in rows:
        rc = f"{r['rc'][0]} x{len(r['rc'])}" if len(set(r["rc"])) == 1 and len(r["rc"]) > 3 else \
            "/".join(map(str, r["rc"])) or "-"
        line = r["line"] if r["verdict"] == "ok" else f"{r['why']} | {r['line']}"
        lines.append(f"{r['id']:<5} {r['verdict']:<11} {rc:<8} {r['case'][:44]:<44} {line[:110]}")
    return "\n".join(lines)


def totals(rows: list[dict]) -> dict[str, int]:
    return {v: sum(r["verdict"] == v for r in rows) for v in VERDICTS}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python scripts/fault_pass.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="only the cases marked quick and a short fuzz (for CI)")
    p.add_argument("--only", help="comma-separated case ids (e.g. 1.1,F.1); default: all")
    p.add_argument("--json", type=Path, default=ROOT / "out" / "fault_pass.json",
                   help="where the report goes (default: out/fault_pass.json)")
    p.add_argument("--seed", type=int, default=20261126, help="seed of the fuzz and the garbled bytes")
    p.add_argument("--fuzz-seconds", type=float, help="time for the fuzz cases (default: 240, 10 with --quick)")
    p.add_argument("--svhn", type=Path, default=SVHN, help="the real SVHN folder (default: ../shared/data/svhn)")
    p.add_argument("--keep", action="store_true", help="keep the scratch folder and print where it is")
    args = p.parse_args(argv)
    if not args.svhn.is_dir():
        p.error(f"{args.svhn}: no such folder; the fault pass needs the real SVHN data")
    wanted = set(args.only.split(",")) if args.only else None
    cases = [c for c in CASES if (c.id in wanted if wanted else c.quick or not args.quick)]
    if wanted and (unknown := wanted - {c.id for c in CASES}):
        p.error(f"no case {', '.join(sorted(unknown))}; the ids are {', '.join(c.id for c in CASES)}")
    fuzz = args.fuzz_seconds if args.fuzz_seconds is not None else 10 if args.quick else 240

    scratch = tempfile.TemporaryDirectory(prefix="fault_pass.")
    ctx = Ctx(ROOT, args.svhn, Path(scratch.name), sys.executable, args.seed, fuzz, args.quick)
    start, rows = time.perf_counter(), []
    for case in cases:
        print(f"{case.id:<5} {case.title} ...", file=sys.stderr, flush=True)
        rows.append(run_case(case, ctx))
        print(f"      {rows[-1]['verdict']} ({rows[-1]['seconds']} s)", file=sys.stderr, flush=True)
    seconds = round(time.perf_counter() - start, 1)
    counts = totals(rows)
    report = {"mode": "quick" if args.quick else "full", "seed": args.seed, "fuzz_seconds": fuzz, "seconds": seconds,
              "python": sys.version.split()[0], "cases": len(rows), "totals": counts, "results": rows}
    write_json(args.json, report)
    print(table(rows))
    print(f"\n{len(rows)} cases in {seconds:.0f} s: " + ", ".join(f"{n} {v}" for v, n in counts.items())
          + f"\nreport: {args.json}")
    if args.keep:
        print(f"scratch folder kept: {scratch.name}")
        scratch._finalizer.detach()
    else:
        scratch.cleanup()
    return 0 if counts["ok"] == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())

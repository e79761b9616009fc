"""Issue 14, the flags of section 4 and the outputs of section 5: range checks, --annotate, modes, folders."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .kit import Ctx, case, check, judge


def _refused(ctx: Ctx, module: str, *args, says: str, no_folder: Path | None = None):
    proc = ctx.run(module, *args, timeout=300)
    left = no_folder is not None and no_folder.exists()
    return [judge(proc, 2, says=says, one_line=True, lost=f"{no_folder.name} was created" if left else None)]


def _edge_flag(ctx: Ctx, *flag: str, says: str):
    folder = ctx.folder(f"flag{flag[0]}{abs(hash(flag))}", count=2)
    return _refused(ctx, "edge_app", "--source", folder, "--roi", "0,0,20,20", *flag, says=says)


@case("4.4", "edge_app --threshold nan", "refused by argparse in one line, exit 2", "accepted", quick=True)
def threshold_nan(ctx: Ctx):
    return _edge_flag(ctx, "--threshold", "nan", says="--threshold")


@case("4.5", "edge_app --max-frames -1", "refused in one line, exit 2", "accepted")
def max_frames(ctx: Ctx):
    return _edge_flag(ctx, "--max-frames", "-1", says="--max-frames")


@case("4.6", "edge_app --size 0x0", "refused in one line, exit 2", "accepted")
def size_zero(ctx: Ctx):
    return _edge_flag(ctx, "--size", "0x0", says="--size")


@case("4.7", "edge_app --threads 100000", "refused in one line (1..64), exit 2", "segfault after the summary",
      quick=True)
def threads_huge(ctx: Ctx):
    return _edge_flag(ctx, "--threads", "100000", says="--threads")


@case("4.8", "edge_app --threads 0", "refused in one line naming --threads, exit 2", "'not a TF Lite model'")
def threads_zero(ctx: Ctx):
    return _edge_flag(ctx, "--threads", "0", says="--threads")


@case("4.9", "edge_app --threads 64 (the most allowed) on a folder", "read to the end, exit 0, no signal",
      "(100000 segfaulted)")
def threads_most(ctx: Ctx):
    from .pictures import accounted

    folder = ctx.folder("threads64", count=4)
    proc = ctx.run("edge_app", "--source", folder, "--scan", "--threads", "64", "-q")
    return [judge(proc, 0, lost=accounted(folder, proc))]


@case("4.10", "train --steps -5", "refused in one line, exit 2, no run folder", "an untrained model written as "
      "a finished run")
def steps_negative(ctx: Ctx):
    run = ctx.dir("steps_neg") / "run"
    return _refused(ctx, "train", "--data", ctx.svhn / "recon" / "train", "--out", run, "--steps", "-5",
                    says="--steps", no_folder=run)


@case("4.11", "train --steps 0", "refused in one line, exit 2, no run folder", "quietly ran 10 epochs")
def steps_zero(ctx: Ctx):
    run = ctx.dir("steps_zero") / "run"
    return _refused(ctx, "train", "--data", ctx.svhn / "recon" / "train", "--out", run, "--steps", "0",
                    says="--steps", no_folder=run)


@case("4.12", "train.evaluate --limit -3", "refused in one line, exit 2", "evaluated everything", quick=True)
def limit_negative(ctx: Ctx):
    out = ctx.dir("limit") / "e.json"
    return _refused(ctx, "train.evaluate", "--model", ctx.model, "--data", ctx.svhn / "recon" / "test", "--limit",
                    "-3", "--json", out, says="--limit", no_folder=out)


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@case("5.1", "two --annotate runs into one folder, then --force with fewer pictures",
      "the second refused in one line, the first run's pictures untouched; --force leaves only the new run's",
      "000001.jpg overwritten, old frames mixed in", quick=True)
def annotate_twice(ctx: Ctx):
    folder = ctx.folder("annotate", count=6)
    out = folder.parent / "frames"
    args = ("edge_app", "--source", folder, "--boxes", "--threshold", "0", "--annotate", out, "-q")
    first = ctx.run(*args)
    before = _digests(out) if out.exists() else {}
    steps = [judge(first, 0, lost=None if len(before) == 6 else f"{len(before)} of 6 pictures annotated")]
    second = ctx.run(*args)
    after = _digests(out)
    steps.append(judge(second, 2, says="earlier run", one_line=True,
                       overwritten=None if after == before else "the first run's pictures changed"))
    (folder / "6.png").unlink()
    forced = ctx.run(*args, "--force")
    left = _digests(out)
    steps.append(judge(forced, 0, overwritten=None if len(left) == 5 else f"{len(left)} pictures: old ones mixed in"))
    return steps


@case("5.2", "--annotate into a path that cannot be created", "one line, exit 2",
      "traceback during argument parsing")
def annotate_blocked(ctx: Ctx):
    folder = ctx.folder("annotate_blocked", count=2)
    blocker = folder.parent / "file"
    blocker.write_text("x")
    return _refused(ctx, "edge_app", "--source", folder, "--annotate", blocker / "sub", says="cannot make the folder")


@case("5.3", "modes of written files under umask 022 (evaluate, calibration, JSONL, annotate)",
      "0644, like any file the user writes", "0600: another user (the service) gets Permission denied")
def file_modes(ctx: Ctx):
    folder = ctx.folder("modes", count=8, split="train")
    out = folder.parent
    steps = [judge(ctx.run("train.evaluate", "--model", ctx.model, "--data", folder, "--json", out / "e.json"), 0),
             judge(ctx.run("calibration", "--data", folder, "--count", "4", "--out", out / "c.npz"), 0),
             judge(ctx.run("edge_app", "--source", folder, "--boxes", "-q", "--jsonl", out / "r.jsonl",
                           "--annotate", out / "frames"), 0)]
    files = [p for p in out.rglob("*") if p.is_file() and folder not in p.parents]
    modes = {p.name: oct(os.stat(p).st_mode & 0o777) for p in files}
    wrong = {name: mode for name, mode in modes.items() if mode != "0o644"}
    steps.append(check(len(files) >= 12 and not wrong, "unexpected", f"modes {wrong or modes}",
                       f"{len(files)} files written, all 0644" if not wrong else ""))
    return steps


@case("5.4", "train.evaluate --json DIR", "refused in one line, exit 2, no plots left behind",
      "traceback; its plots left behind", quick=True)
def evaluate_json_dir(ctx: Ctx):
    target = ctx.dir("eval_dir") / "reports"
    target.mkdir()
    steps = _refused(ctx, "train.evaluate", "--model", ctx.model, "--data", ctx.svhn / "recon" / "test", "--json",
                     target, says="is a folder")
    left = sorted(p.name for p in target.parent.rglob("*") if p != target)
    steps.append(check(not left, "silent loss", f"left {left}"))
    return steps


@case("5.5", "calibration --out DIR", "refused in one line, exit 2", "traceback")
def calibration_out_dir(ctx: Ctx):
    target = ctx.dir("calib_dir")
    return _refused(ctx, "calibration", "--data", ctx.svhn / "recon" / "train", "--out", target, says="is a folder")


@case("5.6", "edge_app.bench --json DIR", "refused in one line, exit 2", "traceback")
def bench_json_dir(ctx: Ctx):
    target = ctx.dir("bench_dir")
    return _refused(ctx, "edge_app.bench", "--json", target, says="is a folder")


@case("5.7", "edge_app.bench --runs 0", "refused in one line, exit 2", "traceback")
def bench_runs_zero(ctx: Ctx):
    return _refused(ctx, "edge_app.bench", "--runs", "0", says="--runs")

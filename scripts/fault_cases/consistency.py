"""Issue 14, section 7: exit codes alike, help that renders, test data refused, no run folder from a failed check."""

from __future__ import annotations

import re

from .kit import Ctx, case, judge


@case("7.1", "train.svhn download: a bad split, then hand-fetched archives that are missing",
      "exit 2 in one line for both (bad arguments or input), like every other CLI", "1 where the others say 2")
def svhn_exit_codes(ctx: Ctx):
    folder = ctx.dir("svhn")
    (folder / "archives").mkdir()
    bad_split = ctx.run("train.svhn", "download", "--splits", "bogus", "--dir", folder / "data")
    missing = ctx.run("train.svhn", "download", "--splits", "test", "--dir", folder / "data", "--archives",
                      folder / "archives")
    return [judge(bad_split, 2, says="bogus", one_line=True), judge(missing, 2, says="test.tar.gz", one_line=True)]


CLIS = ["edge_app", "edge_app.bench", "train", "train.evaluate", "train.bench", "train.synth", "calibration",
        "export", "train.recover", "train.breakdown", "train.tta_bench", "train.svhn download"]


@case("7.2", "--help of every CLI", "examples kept as written (continuation lines too), -v/-q, no '(default: "
      "None)', exit 0",
      "three argparse styles: examples collapsed into runs of spaces, '(default: None)' on required flags, "
      "no -v/-q")
def help_renders(ctx: Ctx):
    steps = []
    for module in CLIS:
        proc = ctx.run(*module.split(), "--help")
        examples = [x for x in proc.stdout.splitlines() if x.strip().startswith("python -m")]
        # A docstring's `\` eaten by Python joins the next line with its indent: "... models         --variants"
        collapsed = [x.strip() for x in examples if re.search(r"\S {2,}--", x.split("#")[0])]
        reflowed = not examples or any(not x.startswith("    ") or x.count("python -m") > 1 for x in examples)
        out = judge(proc, 0)
        flags = all(f in proc.stdout for f in ("-v, --verbose", "-q"))
        if out.verdict == "ok" and ("(default: None)" in proc.stdout or reflowed or collapsed or not flags):
            why = collapsed[0] if collapsed else "no -v/-q" if not flags else "reflowed or (default: None)"
            out.verdict, out.why = "unexpected", f"{module} --help: {why}"
        out.line = f"{len(CLIS)} CLIs, examples as written"
        steps.append(out)
    return steps


@case("7.3", "train --data recon/test", "refused in one line (a test split), exit 2, no run folder",
      "accepted as training data (calibration already refused it)", quick=True)
def train_on_test(ctx: Ctx):
    run = ctx.dir("train_test") / "run"
    proc = ctx.run("train", "--data", ctx.svhn / "recon" / "test", "--out", run, "--steps", "1")
    return [judge(proc, 2, says="is a test split", one_line=True, lost="run folder made" if run.exists() else None)]


@case("7.4", "train on a folder that fails its data check (pictures, no labels)",
      "one line, exit 2, no run folder left", "the run folder left holding only config.json", quick=True)
def train_bad_data(ctx: Ctx):
    folder = ctx.folder("train_bad", count=4, split="train")
    (folder / "digitStruct.csv").unlink()
    run = folder.parent / "run"
    proc = ctx.run("train", "--data", folder, "--out", run, "--steps", "1")
    left = sorted(p.name for p in run.iterdir()) if run.exists() else []
    lost = f"run folder holds {left}" if left else None
    return [judge(proc, 2, says="neither digitStruct", one_line=True, lost=lost)]

"""Issue 14, section 3: a NaN box and label 13 in a digitStruct.mat, inf in a .csv, through every CLI alike."""

from __future__ import annotations

import json
from pathlib import Path

from .kit import Ctx, case, check, judge
from .pictures import accounted

NAN_TOP = "field 'top' is nan"  # picture 1 of the .mat folders
LABEL_13 = "field 'label' is 13.0"  # picture 2
INF_LEFT = "field 'left' is 'inf'"  # picture 3 of the .csv folders
TINY_TRAIN = ("--steps", "2", "--batch-size", "8", "--val-fraction", "0.2", "--eval-every", "2",
              "--checkpoint-every", "2")


def mat_folder(ctx: Ctx, name: str, split: str = "test", count: int = 12) -> Path:
    """Real pictures labelled by a digitStruct.mat whose picture 1 has a NaN top and picture 2 the label 13."""
    from edge_app.annotations import read_annotations
    from tests.hostile import write_mat

    folder = ctx.folder(name, count, split)
    anns = read_annotations(folder)
    first, second = anns[0], anns[1]
    anns[0] = first._replace(boxes=(first.boxes[0]._replace(top=float("nan")), *first.boxes[1:]))
    anns[1] = second._replace(digits=(13, *second.digits[1:]))
    (folder / "digitStruct.csv").unlink()
    write_mat(folder / "digitStruct.mat", anns)
    return folder


def csv_folder(ctx: Ctx, name: str, split: str = "test", count: int = 12) -> Path:
    """Real pictures whose digitStruct.csv gives picture 3 a box with an infinite left."""
    folder = ctx.folder(name, count, split)
    lines = (folder / "digitStruct.csv").read_text().splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("3.png;"))
    fields = lines[row].split(";")
    fields[3] = "inf"
    lines[row] = ";".join(fields)
    (folder / "digitStruct.csv").write_text("\n".join(lines) + "\n")
    return folder


def _boxes(ctx: Ctx, folder: Path, says: tuple[str, ...]):
    jsonl = folder.parent / "r.jsonl"
    proc = ctx.run("edge_app", "--source", folder, "--boxes", "--threshold", "0", "-q", "--jsonl", jsonl)
    return [judge(proc, 0, says=says, lost=accounted(folder, proc, jsonl))]


@case("3.1", "edge_app --boxes, digitStruct.mat with a NaN box and label 13",
      "both pictures skipped, naming file and field; the rest read, exit 0", "stopped at frame 0", quick=True)
def boxes_mat(ctx: Ctx):
    return _boxes(ctx, mat_folder(ctx, "boxes_mat"), ("(1.png)", NAN_TOP, "(2.png)", LABEL_13))


@case("3.2", "edge_app --boxes, digitStruct.csv with an inf box", "that picture skipped by name and field, exit 0",
      "stopped at frame 0")
def boxes_csv(ctx: Ctx):
    return _boxes(ctx, csv_folder(ctx, "boxes_csv"), ("(3.png)", INF_LEFT))


@case("3.3", "train.evaluate on the .mat, then with --skip-bad",
      "exit 2 naming file, field and --skip-bad, nothing written; then 10 evaluated, skipped 2",
      "ContractError traceback", quick=True)
def evaluate_mat(ctx: Ctx):
    folder = mat_folder(ctx, "eval_mat")
    report = folder.parent / "e.json"
    proc = ctx.run("train.evaluate", "--model", ctx.model, "--data", folder, "--json", report)
    written = sorted(p.name for p in folder.parent.iterdir() if p.name.startswith("e."))
    first = judge(proc, 2, says=("1.png", NAN_TOP, "--skip-bad"), one_line=True,
                  lost=f"wrote {written}" if written else None)
    proc = ctx.run("train.evaluate", "--model", ctx.model, "--data", folder, "--json", report, "--skip-bad")
    done = json.loads(report.read_text()) if report.exists() else {}
    lost = None if (done.get("count"), done.get("skipped")) == (10, 2) else f"report says {done or 'nothing'}"
    return [first, judge(proc, 0, says=(NAN_TOP, LABEL_13), lost=lost)]


def calibration_set(ctx: Ctx) -> Path:
    """Calibration on training pictures with an inf box, --skip-bad: the set the export case uses."""
    if "calib" not in ctx.shared:
        folder = csv_folder(ctx, "calib", split="train", count=40)
        out = folder.parent / "calib.npz"
        ctx.shared["calib"] = (out, ctx.run("calibration", "--data", folder, "--count", "32", "--out", out,
                                            "--skip-bad"))
    return ctx.shared["calib"]


@case("3.4", "calibration on training pictures with an inf box, then --skip-bad",
      "exit 2 naming file, field and --skip-bad, no .npz; then the set written, exit 0", "ValueError traceback")
def calibration_csv(ctx: Ctx):
    folder = csv_folder(ctx, "calib_strict", split="train", count=40)
    out = folder.parent / "c.npz"
    proc = ctx.run("calibration", "--data", folder, "--count", "32", "--out", out)
    first = judge(proc, 2, says=("3.png", INF_LEFT, "--skip-bad"), one_line=True,
                  lost="wrote the .npz" if out.exists() else None)
    path, proc = calibration_set(ctx)
    return [first, judge(proc, 0, says=INF_LEFT, lost=None if path.exists() else "no .npz written")]


@case("3.5", "train on training pictures whose .mat has a NaN box and label 13",
      "exit 2 naming file, field and --skip-bad; no run folder left", "rc 2 (the one CLI that agreed)")
def train_mat(ctx: Ctx):
    folder = mat_folder(ctx, "train_mat", split="train", count=30)
    run = folder.parent / "run"
    proc = ctx.run("train", "--data", folder, "--out", run, *TINY_TRAIN)
    left = sorted(p.name for p in run.iterdir()) if run.exists() else []
    lost = f"run folder holds {left}" if left else None
    return [judge(proc, 2, says=(NAN_TOP, "--skip-bad"), one_line=True, lost=lost)]


def tiny_run(ctx: Ctx):
    """A real two-step training run with --skip-bad on a .mat with a NaN box: the model the export case uses."""
    if "run" not in ctx.shared:
        folder = mat_folder(ctx, "train_skip", split="train", count=30)
        run = folder.parent / "run"
        ctx.shared["run"] = (run, ctx.run("train", "--data", folder, "--out", run, "--skip-bad", *TINY_TRAIN))
    return ctx.shared["run"]


@case("3.6", "train --skip-bad on the .mat with a NaN box and label 13",
      "both pictures left out with a warning naming them, the run finishes, exit 0", "the NaN box not skipped")
def train_skip_bad(ctx: Ctx):
    run, proc = tiny_run(ctx)
    return [judge(proc, 0, says=(NAN_TOP, LABEL_13), lost=None if (run / "model.keras").exists() else "no model")]


@case("3.7", "export --eval-data on the .mat, then with --skip-bad",
      "exit 2 naming file and field, no model or report left half-done; then the report of 10 and model "
      "cards of mode 0644, exit 0",
      "ContractError traceback")
def export_mat(ctx: Ctx):
    (run, trained), (calib, _) = tiny_run(ctx), calibration_set(ctx)
    if trained.returncode != 0 or not calib.exists():
        return [judge(trained, 0, lost="the tiny run or calibration set is missing")]
    folder = mat_folder(ctx, "export_mat")
    out = folder.parent / "models"
    args = ("export", "--model", run / "model.keras", "--calibration", calib, "--out", out, "--eval-data", folder)
    proc = ctx.run(*args)
    left = sorted(p.name for p in out.iterdir()) if out.exists() else []
    first = judge(proc, 2, says=("1.png", NAN_TOP, "--skip-bad"), lost=f"left {left}" if left else None)
    proc = ctx.run(*args, "--skip-bad")
    report = json.loads((out / "report.json").read_text()) if (out / "report.json").exists() else {}
    lost = None if report.get("count") == 10 else f"report counts {report.get('count')}"
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in out.iterdir() if p.is_file()}
    wrong = {name: mode for name, mode in modes.items() if mode != "0o644"}  # the card the service user reads
    return [first, judge(proc, 0, says=NAN_TOP, lost=lost),
            check(bool(modes) and not wrong, "unexpected", f"modes under umask 022: {wrong or 'no files'}")]

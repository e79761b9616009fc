"""The seeded, time-bounded fuzz of issue 14 through the real CLIs (the mutations are tests/hostile.py's).

Each run must end in 0 (every picture counted, each one skipped named), or 1/2 with exactly one error line;
never a traceback, a signal or a hang.
"""

from __future__ import annotations

import json
import time

import numpy as np

from .kit import Ctx, Outcome, case, judge
from .pictures import accounted


def _seeds(ctx: Ctx):
    from tests.hostile import encoded_pictures

    if "seeds" not in ctx.shared:
        ctx.shared["seeds"] = encoded_pictures(ctx.svhn / "recon" / "test", 6)
    return ctx.shared["seeds"]


def _judge(proc, folder=None, jsonl=None, report=None) -> Outcome:
    """0 with nothing lost, or 1/2 with one error line."""
    lost = None
    if proc.returncode == 0 and folder is not None:
        lost = accounted(folder, proc, jsonl)
    if proc.returncode == 0 and report is not None and not report.exists():
        lost = "exit 0 without its report"
    out = judge(proc, (0, 1, 2), lost=lost)
    errors = [x for x in (proc.stderr or "").splitlines() if "error:" in x]
    if out.verdict == "ok" and proc.returncode and len(errors) != 1:
        out.verdict, out.why = "unexpected", f"exit {proc.returncode} with {len(errors)} error lines"
    return out


def _summary(runs: list[Outcome], what: str) -> list[Outcome]:
    bad = [r for r in runs if r.verdict != "ok"]
    codes = sorted({r.rc for r in runs if r.rc is not None})
    return bad + [Outcome(None, f"{what}; exit codes {codes}; {len(bad)} bad", "ok")]


@case("F.1", "fuzz: mutated PNG/JPEG/BMP/WebP/GIF pictures, 100 a folder, through edge_app --scan",
      "each picture read or skipped by name, summary, exit 0", "part of the 1,200 single-file runs: "
      "tracebacks (DecompressionBombError), no summary", quick=True)
def fuzz_pictures(ctx: Ctx):
    from tests.hostile import mutate

    _, encoded = _seeds(ctx)
    keys = sorted(encoded)
    rng = np.random.default_rng(ctx.seed)
    deadline = time.monotonic() + ctx.fuzz_seconds * 0.4
    runs, pictures, skipped, size = [], 0, 0, 30 if ctx.quick else 100
    while not runs or time.monotonic() < deadline:
        folder = ctx.dir(f"fuzz1/{len(runs)}") / "pics"
        folder.mkdir()
        for i in range(size):
            name, ext = keys[int(rng.integers(0, len(keys)))]
            (folder / f"{i}.{ext}").write_bytes(mutate(encoded[(name, ext)], rng))
        jsonl = folder.parent / "r.jsonl"
        proc = ctx.run("edge_app", "--source", folder, "--scan", "--threshold", "0", "-q", "--jsonl", jsonl,
                       timeout=300)
        runs.append(_judge(proc, folder, jsonl))
        pictures += size
        skipped += (proc.stderr or "").count("skipped frame")
    return _summary(runs, f"{len(runs)} runs, {pictures} mutated pictures, {pictures - skipped} read, "
                          f"{skipped} skipped by name")


@case("F.2", "fuzz: folders of mixed, half-mutated pictures with a mutated digitStruct.csv, through "
      "edge_app --scan/--boxes, train.evaluate and the crop cache (--skip-bad)",
      "exit 0 with nothing lost, or one error line (exit 1/2)", "tracebacks, silent losses", quick=True)
def fuzz_folders(ctx: Ctx):
    from edge_app.annotations import write_csv
    from tests.hostile import FORMATS, mutate, mutate_csv

    anns, encoded = _seeds(ctx)
    rng = np.random.default_rng(ctx.seed + 1)
    deadline = time.monotonic() + ctx.fuzz_seconds * 0.4
    runs, rounds = [], 0
    while rounds == 0 or time.monotonic() < deadline:
        folder = ctx.dir(f"fuzz2/{rounds}") / "pics"
        folder.mkdir()
        renamed = []
        for i, a in enumerate(anns):
            ext = list(FORMATS)[int(rng.integers(0, len(FORMATS)))]
            data = encoded[(a.name, ext)]
            (folder / f"{i + 1}.{ext}").write_bytes(mutate(data, rng) if rng.random() < 0.5 else data)
            renamed.append(a._replace(name=f"{i + 1}.{ext}"))
        csv = folder / "digitStruct.csv"
        write_csv(csv, renamed)
        csv.write_text(mutate_csv(csv.read_text(), rng))
        out = folder.parent
        for mode in ("--scan", "--boxes"):
            jsonl = out / f"r{mode}.jsonl"
            proc = ctx.run("edge_app", "--source", folder, mode, "--threshold", "0", "-q", "--jsonl", jsonl)
            runs.append(_judge(proc, folder, jsonl))
        runs.append(_judge(ctx.run("train.evaluate", "--model", ctx.model, "--data", folder, "-q")))
        report = out / "e.json"
        proc = ctx.run("train.evaluate", "--model", ctx.model, "--data", folder, "--skip-bad", "-q", "--json", report)
        runs.append(_judge(proc, report=report))
        rounds += 1
    return _summary(runs, f"{rounds} folders, {len(runs)} runs")


@case("F.3", "fuzz: mutated digitStruct.mat files through edge_app --boxes and train.evaluate --skip-bad",
      "labels or one error line; never a signal from the HDF5 reader", "(label files: aborted runs)")
def fuzz_mat(ctx: Ctx):
    from edge_app.annotations import read_annotations
    from tests.hostile import mutate, write_mat

    rng = np.random.default_rng(ctx.seed + 2)
    deadline = time.monotonic() + ctx.fuzz_seconds * 0.2
    runs, rounds, read = [], 0, 0
    while rounds == 0 or time.monotonic() < deadline:
        folder = ctx.folder(f"fuzz3/{rounds}", count=8)
        mat = folder / "digitStruct.mat"
        write_mat(mat, read_annotations(folder))
        (folder / "digitStruct.csv").unlink()
        mat.write_bytes(mutate(mat.read_bytes(), rng))
        jsonl = folder.parent / "r.jsonl"
        proc = ctx.run("edge_app", "--source", folder, "--boxes", "--threshold", "0", "-q", "--jsonl", jsonl)
        runs.append(_judge(proc, folder, jsonl))
        report = folder.parent / "e.json"
        proc = ctx.run("train.evaluate", "--model", ctx.model, "--data", folder, "--skip-bad", "-q", "--json", report)
        runs.append(_judge(proc, report=report))
        read += report.exists() and json.loads(report.read_text()).get("count", 0) > 0
        rounds += 1
    return _summary(runs, f"{rounds} mutated .mat files, {read} still gave labels")

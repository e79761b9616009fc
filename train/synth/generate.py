"""Write a folder of synthetic pictures in SVHN format-1 layout (N.png + digitStruct.csv), in parallel.

Picture i is drawn from a generator seeded by (seed, i) alone, so the output is byte-identical for
any number of workers. The folder is built beside DIR under a hidden name and renamed at the end.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edge_app.annotations import CSV_NAME, Annotation, write_csv

from .fanout import draw_all
from .render import render


class SynthError(RuntimeError):
    """A request the generator cannot carry out (bad arguments, a non-empty output folder)."""


@dataclass(frozen=True)
class Job:
    """What every worker needs to draw picture i."""

    folder: Path
    seed: int
    real_digits: Path | None = None
    real_share: float = 0.25
    focus: bool = False  # aim the rendered numbers at the measured mistakes (render.render)
    held_out: frozenset[str] = frozenset()  # train pictures whose real digit crops are left out (--hold-out)
    plates: float = 0.0  # share of drawn pictures that are modern plates (plates.py)


_job: Job | None = None  # set once per worker process by _start


def _start(job: Job) -> None:
    global _job
    _job = job


def draw(job: Job, index: int):
    """Picture `index` (1-based) of a job: (image, digits, boxes), from its own seeded generator."""
    rng = np.random.default_rng([job.seed, index])
    if job.real_digits is not None and rng.random() < job.real_share:
        from .real_digits import compose  # only needed with --real-digits

        return compose(rng, job.real_digits, job.held_out)
    return render(rng, focus=job.focus, plates_share=job.plates)


def _one(index: int) -> Annotation:
    picture = draw(_job, index)
    name = f"{index}.png"
    picture.image.save(_job.folder / name, "PNG")
    return Annotation(name, picture.digits, picture.boxes)


def _check(out: Path, count: int, workers: int, force: bool, real_digits: Path | None, real_share: float,
           hold_out: list[Path]) -> None:
    if not 0.0 <= real_share <= 1.0:
        raise SynthError(f"--real-share must be between 0 and 1, not {real_share}")
    if count < 1:
        raise SynthError(f"--count must be at least 1, not {count}")
    if workers < 1:
        raise SynthError(f"--workers must be at least 1, not {workers}")
    if out.exists() and not out.is_dir():
        raise SynthError(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise SynthError(f"{out} exists and is not empty; choose another --out or pass --force to replace it")
    if real_digits is not None and not (real_digits / "labels.csv").is_file():
        raise SynthError(f"{real_digits}: no labels.csv; --real-digits wants a folder like format2_train_dev")
    if hold_out and real_digits is None:
        raise SynthError("--hold-out leaves out real digit crops: it needs --real-digits")


PROVENANCE = "synth.json"


def generate(
    out,
    count: int,
    seed: int = 0,
    workers: int | None = None,
    force: bool = False,
    real_digits=None,
    real_share: float = 0.25,
    progress: bool = True,
    focus: bool = False,
    hold_out=(),
    plates: float = 0.0,
) -> Path:
    """Write `count` pictures 1.png..N.png and digitStruct.csv into `out`; return `out`.

    `hold_out`: labelled folders of SVHN train pictures (a reader's validation pictures) whose digits never
    go into a real-crop number, so that they stay unseen by a model trained on this folder. `plates`: share of the
    drawn pictures that are modern house-number plates (plates.py)."""
    out = Path(out)
    workers = (os.cpu_count() or 1) if workers is None else workers
    real_digits = Path(real_digits) if real_digits is not None else None
    hold_out = [Path(f) for f in hold_out]
    _check(out, count, workers, force, real_digits, real_share, hold_out)
    held_out = frozenset()
    if real_digits is not None:
        from .real_digits import held_out_names, load_crops

        held_out = held_out_names(real_digits.parent, hold_out) if hold_out else held_out
        load_crops(real_digits, held_out)  # fail here, in one line, rather than in a worker
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    job = Job(tmp, seed, real_digits, real_share, focus, held_out, plates)
    try:
        bar = partial(tqdm, total=count, unit="pic", disable=not progress, desc=f"synth -> {out}")
        annotations = draw_all(_start, job, _one, count, workers, bar)
        write_csv(tmp / CSV_NAME, annotations)
        # Provenance: whether real SVHN crops went in decides the licence of a model trained on it.
        (tmp / PROVENANCE).write_text(json.dumps({
            "generator": "train.synth", "count": count, "seed": seed,
            "real_digits": str(real_digits) if real_digits is not None else None,
            "real_share": real_share if real_digits is not None else 0.0, "focus": focus,
            "real_digits_held_out": sorted(held_out), "plates": plates}, indent=2))
        _replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _replace(tmp: Path, out: Path) -> None:
    # Rename, not copy: a folder named `out` appears only complete. An old one is moved aside first.
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        out.rename(old)
    tmp.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)

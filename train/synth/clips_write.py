"""Write camera-like clips of house numbers for developing live reading (train.synth.clips).

Example:
    python -m train.synth clips --out data/clips_tune --numbers data/val_recon --per-kind 8 --seed 1
    python -m train.synth clips --out data/clips_dev --numbers ../shared/data/svhn/recon/test --per-kind 8 --seed 2

Writes NNNN_KIND.avi (MJPG at --fps) and clips.json: each clip's kind and numbers, and per frame where each
number is and whether all of it is in view. Clip i is drawn from a generator seeded by (seed, i) alone.
Numbers from recon/test make a dev set: evaluation only, never tuned on.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from functools import partial
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edge_app import cli
from edge_app.annotations import read_annotations
from edge_app.contract import ContractError

from .clips import KINDS, ClipSpec, draw_clip
from .fanout import draw_all
from .generate import PROVENANCE, SynthError, _replace

log = logging.getLogger("train.synth")
CLIPS_NAME = "clips.json"
_job: tuple[Path, int, ClipSpec, tuple[str, ...]] | None = None  # (folder, seed, spec, kinds), once per worker


def _start(job) -> None:
    global _job
    _job = job


def _one(index: int) -> dict:
    import cv2  # a dev tool: opencv-python-headless is in requirements-dev.txt

    folder, seed, spec, kinds = _job
    kind = kinds[(index - 1) % len(kinds)]
    clip = draw_clip(np.random.default_rng([seed, index]), spec, kind)
    name = f"{index:04d}_{kind}.avi"
    writer = cv2.VideoWriter(str(folder / name), cv2.VideoWriter_fourcc(*"MJPG"), spec.fps, spec.size)
    for frame in clip.frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return {"file": name, "kind": kind, "numbers": list(clip.numbers),
            "frames": [[[s.number, [round(v, 1) for v in s.box], s.whole] for s in f] for f in clip.seen]}


def write_clips(out, numbers, per_kind: int, seed: int = 0, kinds: tuple[str, ...] = KINDS, workers: int = 1,
                force: bool = False, progress: bool = True, spec: ClipSpec | None = None) -> Path:
    """Write per_kind clips of each kind into `out` (built under a hidden name, renamed when complete)."""
    out, numbers = Path(out), Path(numbers)
    spec = spec or ClipSpec(numbers)
    try:
        if not read_annotations(numbers):
            raise SynthError(f"--numbers {numbers}: no labelled pictures")
    except ContractError as err:
        raise SynthError(f"--numbers {err}") from None
    if out.is_dir() and any(out.iterdir()) and not force:
        raise SynthError(f"{out} exists and is not empty; choose another --out or pass --force to replace it")
    count = per_kind * len(kinds)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        bar = partial(tqdm, total=count, unit="clip", disable=not progress, desc=f"clips -> {out}")
        clips = draw_all(_start, (tmp, seed, spec, kinds), _one, count, workers, bar)
        (tmp / CLIPS_NAME).write_text(json.dumps({
            "generator": "train.synth clips", "seed": seed, "per_kind": per_kind, "fps": spec.fps,
            "size": list(spec.size), "numbers": str(numbers), "clips": clips}))
        (tmp / PROVENANCE).write_text(json.dumps({"generator": "train.synth", "kind": "clips", "count": count,
                                                  "seed": seed, "real_digits": str(numbers), "real_share": 1.0}))
        _replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def main(argv: list[str]) -> int:
    """`python -m train.synth clips ...`; errors print one line (cli's exit codes)."""
    p = cli.parser("python -m train.synth clips", __doc__)
    p.add_argument("--out", type=Path, required=True, help="folder to create (must be absent or empty)")
    p.add_argument("--numbers", type=Path, required=True,
                   help="labelled folder of real pictures whose numbers the clips show (held-out recon/train "
                   "pictures for tuning; recon/test only for the dev set)")
    p.add_argument("--per-kind", type=cli.positive_int, default=8, help="clips of each kind")
    p.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated, of: {', '.join(KINDS)}")
    p.add_argument("--seed", type=cli.nonnegative_int, default=0, help="same seed and counts give identical clips")
    p.add_argument("--workers", type=cli.int_range(1, 256), default=os.cpu_count() or 1, help="processes")
    p.add_argument("--force", action="store_true", help="replace a non-empty --out folder")
    args = p.parse_args(argv)
    cli.setup_logging(args.verbose, args.quiet)
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        p.error(f"--kinds: unknown {', '.join(unknown) or '(none given)'}; kinds: {', '.join(KINDS)}")

    def run() -> int:
        out = write_clips(args.out, args.numbers, args.per_kind, args.seed, kinds, args.workers, args.force,
                          not args.quiet)
        log.info("%s: %d clips", out, args.per_kind * len(kinds))
        return cli.EXIT_OK

    return cli.run(run, errors=(SynthError, ContractError))

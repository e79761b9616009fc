"""Build the detector's dev scenes: 640x480 frames holding real SVHN test numbers (recon/test), fixed seed.

EVALUATION ONLY: nothing is trained, tuned or picked on these frames (training and calibration refuse
them, since synth.json records that their numbers come from a test split). Rebuilt in about a minute,
so the folder is generated, never committed.

    python scripts/make_dev_scenes.py                      # -> data/dev_scenes
    python scripts/make_dev_scenes.py --out out/main/dev_scenes --svhn ../shared/data/svhn
    python scripts/make_dev_scenes.py --small             # -> data/dev_scenes_small: numbers 3-15% of the height
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from train.synth.scenes import SceneSpec  # noqa: E402
from train.synth.scenes_write import write_scenes  # noqa: E402

SEED = 20131312  # fixed: the dev set is the same frames everywhere (arXiv 1312.6082)
COUNT = 420  # with this seed: 357 frames with a number, 63 without
MIN_WITH, MIN_EMPTY = 300, 60
SMALL_SEED = 20131314  # --small: another fixed seed, numbers 3-15% of the frame height (a camera on a wall)
SMALL_HEIGHTS = (0.03, 0.15)


def build(out: Path, seed: int, spec: SceneSpec, workers: int, count: int = COUNT) -> tuple[int, int] | None:
    """Write `count` scenes of `seed` into `out` unless it holds them already (then None); else the counts of
    frames (with a number, without)."""
    record = out / "scenes.json"
    if record.is_file() and json.loads(record.read_text()).get("seed") == seed:
        print(f"{out}: already built")
        return None
    write_scenes(out, count, seed, spec, workers=workers, force=True, progress=False)
    frames = json.loads(record.read_text())["frames"]
    empty = sum(not f["numbers"] for f in frames)
    return len(frames) - empty, empty


def spec(svhn: Path, small: bool = False) -> SceneSpec:
    """The dev scenes' drawing: 640x480 frames, every number a real recon/test picture."""
    return SceneSpec(size=(640, 480), real=svhn / "recon" / "test", real_share=1.0,
                     height_range=SMALL_HEIGHTS if small else SceneSpec.height_range)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, help="folder to (re)build (default data/dev_scenes, or data/dev_scenes_small)")
    p.add_argument("--small", action="store_true", help="small numbers: 3-15%% of the frame height, another seed")
    p.add_argument("--svhn", type=Path, default=ROOT.parent / "shared" / "data" / "svhn", help="the real SVHN data")
    p.add_argument("--workers", type=int, default=2, help="processes")
    args = p.parse_args(argv)
    args.out = args.out or ROOT / "data" / ("dev_scenes_small" if args.small else "dev_scenes")
    counts = build(args.out, SMALL_SEED if args.small else SEED, spec(args.svhn, args.small), args.workers)
    if counts is None:
        return 0
    numbered, empty = counts
    if numbered < MIN_WITH or empty < MIN_EMPTY:
        print(f"error: {args.out} holds {numbered} frames with a number and {empty} without; "
              f"the dev set needs {MIN_WITH} and {MIN_EMPTY}", file=sys.stderr)
        return 1
    print(f"{args.out}: {numbered} frames with a number, {empty} without (640x480, from recon/test)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

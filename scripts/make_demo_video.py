"""Make a 640x480 MJPG video of real house numbers held in a fixed ROI, for trying and timing the edge app.

    python scripts/make_demo_video.py --out out/demo.avi
    python -m edge_app --source out/demo.avi --roi 224,176,192,128 --quiet     # prints FPS at the end
"""

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edge_app.annotations import read_annotations  # noqa: E402
from edge_app.atomic import atomic_path  # noqa: E402
from edge_app.contract import ContractError, crop_region, digit_region, load_image  # noqa: E402

ROI = (224, 176, 192, 128)  # x, y, w, h: where the numbers sit in every frame
SVHN_TRAIN = ROOT.parent / "shared" / "data" / "svhn" / "recon" / "train"


def write_video(path: Path, data: Path, numbers: int, frames: int) -> None:
    """`numbers` labelled pictures of `data`, each held `frames` frames in the ROI over a noisy grey frame."""
    rng = np.random.default_rng(0)
    x, y, w, h = ROI
    with atomic_path(path, suffix=path.suffix) as tmp:  # a stopped run leaves no half video under the final name
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"MJPG"), 30, (640, 480))
        try:
            for a in read_annotations(data)[:numbers]:
                region = crop_region(load_image(data / a.name), digit_region(a.boxes), size=w)
                region = np.asarray(cv2.resize(region, (w, h)))
                for _ in range(frames):
                    frame = np.full((480, 640, 3), 70, np.uint8) + rng.integers(0, 20, (480, 640, 3), dtype=np.uint8)
                    frame[y : y + h, x : x + w] = region
                    writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        finally:
            writer.release()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=SVHN_TRAIN, help="labelled pictures")
    p.add_argument("--out", type=Path, default=Path("out/demo.avi"), help="video file to write")
    p.add_argument("--numbers", type=int, default=20, help="how many house numbers, one after the other")
    p.add_argument("--frames", type=int, default=30, help="frames per number")
    args = p.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_video(args.out, args.data, args.numbers, args.frames)
    except (ContractError, OSError) as err:  # a missing folder or picture: one line, and no video left behind
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {args.out} ({args.numbers} numbers x {args.frames} frames, ROI {','.join(map(str, ROI))})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

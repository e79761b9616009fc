"""Make a 640x480 MJPG video of real house numbers held in a fixed ROI, for trying and timing the edge app.

    python scripts/make_demo_video.py --out out/demo.avi
    python -m edge_app --source out/demo.avi --roi 224,176,192,128 --quiet     # prints FPS at the end
"""

import argparse
from pathlib import Path

import cv2
import numpy as np

from edge_app.annotations import read_annotations
from edge_app.contract import crop_region, digit_region, load_image

ROI = (224, 176, 192, 128)  # x, y, w, h: where the numbers sit in every frame


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("../shared/data/svhn/recon/train"), help="labelled pictures")
    p.add_argument("--out", type=Path, default=Path("out/demo.avi"), help="video file to write")
    p.add_argument("--numbers", type=int, default=20, help="how many house numbers, one after the other")
    p.add_argument("--frames", type=int, default=30, help="frames per number")
    args = p.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(args.out), cv2.VideoWriter_fourcc(*"MJPG"), 30, (640, 480))
    rng = np.random.default_rng(0)
    x, y, w, h = ROI
    for a in read_annotations(args.data)[: args.numbers]:
        region = crop_region(load_image(args.data / a.name), digit_region(a.boxes), size=w)
        region = np.asarray(cv2.resize(region, (w, h)))
        for _ in range(args.frames):
            frame = np.full((480, 640, 3), 70, np.uint8) + rng.integers(0, 20, (480, 640, 3), dtype=np.uint8)
            frame[y : y + h, x : x + w] = region
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    print(f"wrote {args.out} ({args.numbers} numbers x {args.frames} frames, ROI {','.join(map(str, ROI))})")


if __name__ == "__main__":
    main()

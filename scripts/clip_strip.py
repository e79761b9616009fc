"""A strip of one clip as the live app sees it: frames side by side with each track's box and fused reading, and
the frame where the number was reported marked (docs/live.md).

    python scripts/clip_strip.py --clip data/clips_dev/0002_passby.avi --out docs/clip_strip.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from edge_app.app import App, AppConfig  # noqa: E402
from edge_app.atomic import atomic_path  # noqa: E402
from edge_app.outputs.annotate import annotate_tracks  # noqa: E402
from edge_app.outputs.base import Output  # noqa: E402


class Keep(Output):
    """Keeps each frame's picture with its tracks drawn, and the events."""

    key = "keep"

    def __init__(self) -> None:
        self.frames, self.events = [], []

    def frame(self, view) -> None:
        if view.image is not None:
            picture = annotate_tracks(view.image, view.tracks) if view.tracks else Image.fromarray(view.image)
            self.frames.append((view.index, picture, [e.event for e in view.events]))

    def write(self, event) -> None:
        self.events.append(event)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clip", type=Path, required=True, help="a video (a train.synth clips file)")
    p.add_argument("--out", type=Path, required=True, help="PNG to write")
    p.add_argument("--count", type=int, default=6, help="frames in the strip")
    p.add_argument("--width", type=int, default=240, help="width of each frame in the strip, px")
    args = p.parse_args(argv)
    keep = Keep()
    App(AppConfig(model=ROOT / "models" / "house_numbers.tflite", source=str(args.clip), threads=1, quiet=True),
        outputs=[keep]).run()
    reported = next((i for i, (_, _, said) in enumerate(keep.frames) if "reported" in said), None)
    picks = set(np.linspace(0, len(keep.frames) - 1, args.count - (reported is not None)).round().astype(int))
    if reported is not None:
        picks.add(reported)
    tiles = []
    for i in sorted(picks):
        index, picture, said = keep.frames[i]
        tile = picture.resize((args.width, round(args.width * picture.height / picture.width)), Image.BILINEAR)
        draw = ImageDraw.Draw(tile)
        label = f"frame {index}" + (": reported" if "reported" in said else "")
        draw.rectangle((0, 0, tile.width, 14), fill=(255, 255, 255) if i != reported else (0, 200, 0))
        draw.text((3, 2), label, fill=(0, 0, 0))
        tiles.append(tile)
    strip = Image.new("RGB", (sum(t.width for t in tiles) + 4 * (len(tiles) - 1), tiles[0].height), (255, 255, 255))
    x = 0
    for t in tiles:
        strip.paste(t, (x, 0))
        x += t.width + 4
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.out) as tmp:
        strip.save(tmp, format="PNG")
    print(f"{args.out}: {len(tiles)} frames; events: " + ", ".join(f"{e.event} {e.reading} at frame {e.frame}"
                                                                  for e in keep.events))
    return 0


if __name__ == "__main__":
    sys.exit(main())

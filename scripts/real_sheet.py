"""A contact sheet of real photographs from a scripts/eval_real.py run: boxes, readings and misses.

Every photo with a number, then the photos without one that read a number past the gate, then a few more of those
(the first by name), each letterboxed (never squashed). True number boxes are white, the detector's boxes blue,
the box read green or red; the label is the app's reading as in scripts/scene_sheet.py, and an inset shows the
true number enlarged with what the reader makes of its true box (and RapidOCR's reading when it ran). Example:

    python scripts/eval_real.py --split dev --json docs/eval_real_dev.json --sheet docs/real_dev_sheet.png
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from edge_app.atomic import atomic_path
from edge_app.contract import load_image
from scripts.scene_sheet import BLUE, GAP, GREEN, HEADER, RED, WHITE, label, verdict

TILE = (360, 270)
INSET = 120  # the enlarged true number's width
EMPTY_SHOWN = 3  # photos without a number shown besides those that read something


def tile(folder: Path, photo: dict, gate: float) -> Image.Image:
    """One photo letterboxed into TILE with its boxes, the app's reading and an inset of its first true number."""
    image = Image.fromarray(load_image(folder / photo["file"]))
    scale = min(TILE[0] / image.width, TILE[1] / image.height)
    shown = image.resize((round(image.width * scale), round(image.height * scale)), Image.BILINEAR)
    out = Image.new("RGB", TILE, (0, 0, 0))
    ox, oy = (TILE[0] - shown.width) // 2, (TILE[1] - shown.height) // 2
    out.paste(shown, (ox, oy))
    draw = ImageDraw.Draw(out)

    def rect(box, colour, width):
        x, y, w, h = box
        draw.rectangle((ox + x * scale, oy + y * scale, ox + (x + w) * scale, oy + (y + h) * scale),
                       outline=colour, width=width)

    for b in photo["boxes"]:
        rect(b["box"], BLUE, 1)
    for n in photo["numbers"]:
        rect(n["box"], WHITE, 1)
    text, colour = verdict(photo, gate)
    if photo.get("detect"):
        rect(photo["detect"]["box"], GREEN if photo["detect"]["reading"] in photo["truth"] else RED, 2)
    label(draw, (0, 0), f"{text}  (true {','.join(photo['truth']) or 'empty'})", colour)
    if photo["numbers"]:
        n = photo["numbers"][0]
        x, y, w, h = n["box"]
        side = max(w, h) * 1.6
        cx, cy = x + w / 2, y + h / 2
        half_w, half_h = side * 2 / 3, side / 2
        crop = image.crop((round(cx - half_w), round(cy - half_h), round(cx + half_w), round(cy + half_h)))
        crop = crop.resize((INSET, INSET * 3 // 4), Image.BILINEAR)
        out.paste(crop, (TILE[0] - INSET, TILE[1] - INSET * 3 // 4))
        note = f"true box: {n['true_box_reading'] or '-'}"
        if "rapidocr" in photo:
            note += f"  RapidOCR: {photo['rapidocr']['reading'] or '-'}"
        label(draw, (0, TILE[1] - 18), note, WHITE)
    return out


def draw_sheet(run: dict, folder: Path, out: Path, columns: int = 3) -> None:
    """The sheet of `run` (scripts/eval_real.py's report) as a PNG at `out`, written whole."""
    photos = run["photos"]
    numbered = [p for p in photos if p["truth"]]
    empty = [p for p in photos if not p["truth"]]
    read = [p for p in empty if p.get("detect") and p["detect"]["reading"] and p["detect"]["confidence"] >= run["gate"]]
    picks = numbered + read + [p for p in empty if p not in read][:EMPTY_SHOWN]
    rows = -(-len(picks) // columns)
    sheet = Image.new("RGB", (columns * (TILE[0] + GAP) + GAP, HEADER + rows * (TILE[1] + GAP) + GAP), (30, 30, 30))
    s = run["summary"]["detect"]
    ImageDraw.Draw(sheet).text(
        (GAP, 5), f"real photographs, {run['split']} half: {s['read_right']} of {s['photos_with_number']} read right, "
        f"{s['false_on_empty']} readings on {s['empty_photos']} photos without a number (white: true boxes, "
        "blue: detector, green/red: the box read; inset: the true number)", fill=WHITE)
    for i, p in enumerate(picks):
        r, c = divmod(i, columns)
        sheet.paste(tile(folder, p, run["gate"]), (GAP + c * (TILE[0] + GAP), HEADER + GAP + r * (TILE[1] + GAP)))
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out, suffix=".png") as tmp:
        sheet.save(tmp, format="PNG")

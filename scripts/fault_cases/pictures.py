"""Issue 14, sections 1, 2 and the picture part of 4: unreadable pictures, hostile regions, odd picture kinds."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import numpy as np
from PIL import Image

from .kit import Ctx, case, judge

PICTURES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff")


def accounted(folder: Path, proc, jsonl: Path | None = None) -> str | None:
    """Why a folder run lost pictures silently, or None: each picture counted as a frame, each skip named."""
    err = proc.stderr or ""
    found = re.findall(r"frames (\d+) \((\d+) skipped\)\s+readings (\d+)", err)
    if not found:
        return "no summary line"
    frames, skipped, readings = map(int, found[-1])
    pictures = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in PICTURES)
    named = [p for p in pictures if re.search(rf"skipped frame \d+ \({re.escape(p)}\)", err)]
    if frames != len(pictures):
        return f"{len(pictures)} pictures, {frames} frames"
    if skipped != len(named):
        return f"{skipped} frames skipped, {len(named)} of them named"
    if jsonl is not None and readings != (len(jsonl.read_text().splitlines()) if jsonl.exists() else 0):
        return f"{readings} readings, but the JSONL holds another count"
    return None


def _folder_run(ctx: Ctx, folder: Path, *mode: str, expect_skipped: list[str]):
    jsonl = folder.parent / "r.jsonl"
    proc = ctx.run("edge_app", "--source", folder, *mode, "--threshold", "0", "--quiet", "--jsonl", jsonl)
    out = judge(proc, 0, says=tuple(f"({name})" for name in expect_skipped), lost=accounted(folder, proc, jsonl))
    return [out]


@case("1.1", "a 14000x14000 PNG in a folder run", "skipped by name, the run goes on to its summary, exit 0",
      "DecompressionBombError traceback, no summary", quick=True)
def bomb_in_folder(ctx: Ctx):
    from tests.hostile import png_header

    folder = ctx.folder("bomb")
    (folder / "2.png").write_bytes(png_header(14000, 14000))
    return _folder_run(ctx, folder, "--scan", expect_skipped=["2.png"])


@case("1.2", "a BMP with a fuzzed header (2^31 x 2^31) in a folder run", "skipped by name, summary, exit 0",
      "DecompressionBombError traceback, no summary")
def bad_bmp_in_folder(ctx: Ctx):
    folder = ctx.folder("bmp")
    Image.open(folder / "4.png").save(folder / "4.bmp")
    (folder / "4.png").unlink()
    data = bytearray((folder / "4.bmp").read_bytes())
    data[18:26] = struct.pack("<ii", 2**31 - 1, 2**31 - 1)
    (folder / "4.bmp").write_bytes(bytes(data))
    return _folder_run(ctx, folder, "--boxes", expect_skipped=["4.bmp"])


@case("1.3", "the bomb PNG in the training cache (train.evaluate, then --skip-bad)",
      "exit 2 naming the picture and --skip-bad; with --skip-bad the rest evaluated, skipped 1",
      "same loader: traceback")
def bomb_in_cache(ctx: Ctx):
    from tests.hostile import png_header

    folder = ctx.folder("bomb_cache")
    (folder / "3.png").write_bytes(png_header(14000, 14000))
    report = folder.parent / "e.json"
    strict = ctx.run("train.evaluate", "--model", ctx.model, "--data", folder, "--json", report)
    first = judge(strict, 2, says=("3.png", "--skip-bad"), lost="wrote a report" if report.exists() else None)
    proc = ctx.run("train.evaluate", "--model", ctx.model, "--data", folder, "--json", report, "--skip-bad")
    done = json.loads(report.read_text()) if report.exists() else {}
    lost = None if (done.get("count"), done.get("skipped")) == (11, 1) else f"report says {done or 'nothing'}"
    return [first, judge(proc, 0, says="3.png", lost=lost)]


def _roi(ctx: Ctx, roi: str, says: str):
    folder = ctx.folder(f"roi_{abs(hash(roi))}", count=2)
    proc = ctx.run("edge_app", "--source", folder, "--roi", roi, timeout=120)
    return [judge(proc, 2, says=says, one_line=True)]


@case("2.1", "--roi 0,0,1e9,1e9", "refused in one line before any frame, exit 2",
      "allocated 23 GB until the kernel killed it (rc 137)", quick=True)
def roi_huge(ctx: Ctx):
    return _roi(ctx, "0,0,1e9,1e9", "within 65536")


@case("2.2", "--roi 0,0,200000,200000", "refused in one line, exit 2", "MemoryError traceback")
def roi_large(ctx: Ctx):
    return _roi(ctx, "0,0,200000,200000", "within 65536")


@case("2.3", "--roi 0,0,inf,10", "refused in one line, exit 2", "OverflowError traceback", quick=True)
def roi_inf(ctx: Ctx):
    return _roi(ctx, "0,0,inf,10", "finite")


@case("2.4", "--roi nan,0,10,10", "refused in one line, exit 2", "a bare message")
def roi_nan(ctx: Ctx):
    return _roi(ctx, "nan,0,10,10", "finite")


@case("2.5", "--roi 60000,60000,60000,60000 on small pictures (in range, off the frame)",
      "each frame skipped with a line naming the region, summary, exit 0", "(not tried)")
def roi_off_frame(ctx: Ctx):
    folder = ctx.folder("roi_off", count=4)
    proc = ctx.run("edge_app", "--source", folder, "--roi", "60000,60000,60000,60000", "--quiet", timeout=120)
    return [judge(proc, 0, says="skipped frame 3", lost=accounted(folder, proc))]


@case("4.1", "a 16-bit grey PNG against its 8-bit copy", "read alike (16-bit scaled to 8-bit RGB)",
      "all white, read '1' (the 8-bit copy reads '5' at 0.99)", quick=True)
def sixteen_bit(ctx: Ctx):
    folder = ctx.dir("sixteen") / "pics"
    folder.mkdir()
    grey = np.asarray(Image.open(ctx.svhn / "recon" / "test" / "1.png").convert("L"))
    Image.fromarray(grey).save(folder / "a8.png")
    Image.fromarray(grey.astype(np.uint16) * 257).save(folder / "b16.png")
    h, w = grey.shape
    jsonl = folder.parent / "r.jsonl"
    proc = ctx.run("edge_app", "--source", folder, "--roi", f"0,0,{w},{h}", "--threshold", "0", "-q", "--jsonl", jsonl)
    lines = jsonl.read_text().splitlines() if jsonl.exists() else []
    readings = {r["file"]: r["reading"] for r in map(json.loads, lines)}
    same = len(readings) == 2 and readings["a8.png"] == readings["b16.png"]
    out = judge(proc, 0, lost=None if same else f"readings {readings}")
    out.line = f"8-bit reads {readings.get('a8.png')!r}, 16-bit reads {readings.get('b16.png')!r}"
    return [out]


@case("4.2", "a video whose second half is cut off and garbled", "read to where it breaks, then a line with the "
      "frame count, exit 0", "stopped at frame 52 of 1,800 without a word")
def broken_video(ctx: Ctx):
    import cv2

    folder = ctx.dir("video")
    video = folder / "street.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 30, (160, 120))
    pictures = sorted((ctx.svhn / "recon" / "test").glob("*.png"))[:60]
    for path in pictures:
        writer.write(cv2.resize(cv2.imread(str(path)), (160, 120)))
    writer.release()
    data = bytearray(video.read_bytes())
    half = len(data) // 2
    data[half: half + 4096] = np.random.default_rng(ctx.seed).integers(0, 256, 4096, np.uint8).tobytes()
    video.write_bytes(bytes(data[: len(data) * 3 // 4]))
    proc = ctx.run("edge_app", "--source", video, "--roi", "0,0,160,120", "--quiet", timeout=300)
    frames = re.findall(r"frames (\d+) \(", proc.stderr or "")
    read = int(frames[-1]) if frames else 0
    lost = None if read == 60 or "the video ended at frame" in (proc.stderr or "") else f"{read} of 60 frames, no word"
    return [judge(proc, 0, lost=lost)]


@case("4.3", "a .gif (and a .txt) in a picture folder", "the GIF is read; the .txt named as not a picture",
      "the .gif ignored silently", quick=True)
def gif_in_folder(ctx: Ctx):
    folder = ctx.folder("gif", count=6)
    Image.open(folder / "2.png").save(folder / "2.gif")
    (folder / "2.png").unlink()
    (folder / "notes.txt").write_text("not a picture")
    jsonl = folder.parent / "r.jsonl"
    proc = ctx.run("edge_app", "--source", folder, "--scan", "--threshold", "0", "-q", "--jsonl", jsonl)
    # Every picture a frame (accounted), and the GIF not among the skipped: it was decoded and read. (Whether
    # it yields an event is the reader's call: it may read "no number" in the scan's windows.)
    lost = accounted(folder, proc, jsonl) or ("2.gif skipped" if "(2.gif)" in proc.stderr else None)
    return [judge(proc, 0, says="notes.txt", lost=lost)]

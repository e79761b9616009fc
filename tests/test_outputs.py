"""Outputs: whole JSON lines even when the disk fills, console lines, annotated pictures, the run summary."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edge_app.outputs import (
    ROI_COLOUR,
    JsonlWriter,
    OutputError,
    Summary,
    annotate,
    format_console,
    save_annotated,
)

EVENT = {
    "time": "2024-05-01T12:00:00+00:00",
    "source": "pics/",
    "frame": 12,
    "file": "1.png",
    "reading": "231",
    "confidence": 0.9712,
    "digit_confidences": [0.99, 0.981, 0.994],
    "roi": [10, 20, 64, 32],
    "latency_ms": 3.14,
}


def test_jsonl_lines_are_whole_and_parsable(tmp_path):
    path = tmp_path / "readings.jsonl"
    path.write_text('{"reading": "old"}\n')  # appends, never overwrites
    with JsonlWriter(path) as writer:
        writer.write(EVENT)
        writer.write({"reading": "Straße 7", "confidence": np.float32(0.5), "roi": np.array([1, 2, 3, 4])})
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) == 3 and all(line.endswith("}\n") for line in lines)
    assert json.loads(lines[1]) == EVENT
    assert json.loads(lines[2]) == {"reading": "Straße 7", "confidence": 0.5, "roi": [1, 2, 3, 4]}
    assert "Straße" in lines[2]  # ensure_ascii=False: readable UTF-8


@pytest.mark.parametrize("failure", ["enospc_after_half", "short_write"])
def test_disk_full_leaves_no_partial_line(tmp_path, monkeypatch, failure):
    path = tmp_path / "readings.jsonl"
    writer = JsonlWriter(path)
    writer.write(EVENT)
    before = path.read_bytes()
    real_write = os.write

    def half_write(fd, data):
        if fd != writer._fd:
            return real_write(fd, data)
        written = real_write(fd, data[: len(data) // 2])
        if failure == "short_write":
            return written
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", half_write)
    with pytest.raises(OutputError) as err:
        writer.write(EVENT)
    monkeypatch.undo()
    message = str(err.value)
    assert "\n" not in message and str(path) in message
    if failure == "enospc_after_half":
        assert message == f"cannot write readings to {path}: No space left on device"
    assert path.read_bytes() == before
    writer.write({"reading": "9"})  # the writer still works once there is room again
    assert json.loads(path.read_text().splitlines()[-1]) == {"reading": "9"}
    writer.close()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_real_disk_full():
    with JsonlWriter("/dev/full") as writer, pytest.raises(OutputError, match="/dev/full: No space left on device"):
        writer.write(EVENT)


def test_cannot_open_in_a_missing_or_non_folder(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputError, match="Not a directory"):
        JsonlWriter(tmp_path / "afile" / "x.jsonl")
    with pytest.raises(OutputError, match="No such file or directory") as err:
        JsonlWriter(tmp_path / "missing" / "x.jsonl")
    assert str(tmp_path / "missing" / "x.jsonl") in str(err.value) and "\n" not in str(err.value)


def test_write_after_close_raises(tmp_path):
    writer = JsonlWriter(tmp_path / "r.jsonl")
    writer.close()
    writer.close()
    with pytest.raises(OutputError, match="closed"):
        writer.write(EVENT)


def test_format_console():
    assert format_console(EVENT) == "frame 12  1.png  reading 231  conf 0.97  [0.99 0.98 0.99]  3.1 ms"
    assert format_console({"frame": 3, "file": None, "reading": None}) == "frame 3  reading -"


@pytest.fixture
def picture(svhn) -> np.ndarray:
    """A real 156x143 street picture."""
    return np.asarray(Image.open(svhn / "recon" / "test" / "27.png").convert("RGB"))


def test_annotate_draws_the_roi_and_keeps_the_input(picture):
    original = picture.copy()
    x, y, w, h = 20, 30, 60, 40
    out = annotate(picture, (x, y, w, h), "231", 0.97)
    assert isinstance(out, Image.Image) and out.size == (picture.shape[1], picture.shape[0]) and out.mode == "RGB"
    drawn = np.asarray(out)
    for px, py in [(x, y + h // 2), (x + w - 1, y + h // 2), (x + w // 2, y + h - 1)]:  # left, right, bottom edges
        assert tuple(drawn[py, px]) == ROI_COLOUR
    inside = (slice(y + 5, y + h - 5), slice(x + 5, x + w - 5))
    np.testing.assert_array_equal(drawn[inside], picture[inside])  # the digits stay visible
    assert (drawn[:y, x : x + w] != picture[:y, x : x + w]).any()  # the label above the ROI
    np.testing.assert_array_equal(picture, original)


def test_annotate_roi_at_the_top_puts_the_label_below(picture):
    out = np.asarray(annotate(picture, (0, 0, 50, 20), "7", 0.5))
    assert (out[22:30, 0:20] != picture[22:30, 0:20]).any()


def test_save_annotated_is_atomic(tmp_path, picture):
    image = annotate(picture, (5, 5, 30, 30), "1", 0.9)
    folder = tmp_path / "annotated"
    target = save_annotated(image, folder, "1.png")
    target = save_annotated(image, folder, "1.png")  # replaces an existing picture
    assert target == folder / "1.png" and sorted(os.listdir(folder)) == ["1.png"]
    np.testing.assert_array_equal(np.asarray(Image.open(target)), np.asarray(image))


def test_save_annotated_failure_leaves_no_temp_file(tmp_path, picture):
    rgba = Image.fromarray(picture).convert("RGBA")  # JPEG cannot hold an alpha channel
    with pytest.raises(OutputError, match="cannot save"):
        save_annotated(rgba, tmp_path, "x.jpg")
    with pytest.raises(OutputError, match="unknown picture type"):
        save_annotated(rgba, tmp_path, "x.txt")
    assert os.listdir(tmp_path) == []


def test_summary_on_known_latencies():
    ticks = iter([i / 10 for i in range(22)])  # 22 frames, 0.1 s apart: 2.1 s from first to last
    summary = Summary(clock=lambda: next(ticks))
    summary.add_frame(skipped=True)
    for latency in range(21, 0, -1):
        summary.add_frame(float(latency))
    for _ in range(7):
        summary.add_reading()
    d = summary.as_dict()
    assert (d["frames"], d["skipped"], d["readings"]) == (22, 1, 7)
    assert d["fps"] == pytest.approx(10.0)
    assert d["latency_ms"] == pytest.approx({"p50": 11.0, "p95": 20.0, "mean": 11.0, "max": 21.0})
    assert summary.text() == "frames 22 (1 skipped)  readings 7  fps 10.0  latency p50 11.0 ms p95 20.0 ms"


def test_empty_summary():
    summary = Summary()
    assert summary.as_dict()["fps"] is None and summary.as_dict()["latency_ms"] is None
    assert summary.text() == "frames 0 (0 skipped)  readings 0  fps -  latency -"


def test_write_atomic_replaces_whole_and_leaves_no_temp(tmp_path):
    from edge_app.atomic import write_atomic

    target = tmp_path / "report.json"
    target.write_text("old")
    write_atomic(target, '{"new": 1}')
    assert target.read_text() == '{"new": 1}'
    write_atomic(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_write_atomic_failure_keeps_the_old_file(tmp_path):
    from edge_app.atomic import write_atomic

    target = tmp_path / "card.json"
    target.write_text("old")
    with pytest.raises(TypeError):
        write_atomic(target, 12345)  # not text or bytes: fails mid-write
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["card.json"]

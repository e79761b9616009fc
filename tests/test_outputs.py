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
    AnnotateOutput,
    Event,
    Fanout,
    FrameView,
    JsonlOutput,
    JsonlWriter,
    OutputError,
    annotate,
    annotate_view,
    format_console,
    save_annotated,
)
from edge_app.outputs.annotate import PENDING_COLOUR
from edge_app.summary import Summary

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


def _event(**kw) -> Event:
    base = dict(time="2024-05-01T12:00:00.000+00:00", source="pics/", frame=1, file="1.png", reading="231",
                confidence=0.97, digit_confidences=[0.99, 0.98, 0.99], roi=[10, 20, 64, 32], latency_ms=3.1)
    return Event(**{**base, **kw})


def test_event_has_the_design_fields_plus_box_model_and_track():
    d = _event(model="house_numbers.tflite").as_dict()
    assert list(d) == ["time", "source", "frame", "file", "reading", "confidence", "digit_confidences", "roi",
                       "latency_ms", "box", "box_confidence", "model", "event", "track", "first_seen", "frames",
                       "in_view"]
    assert d["box"] is None and d["box_confidence"] is None and d["model"] == "house_numbers.tflite"
    assert d["event"] == "reading" and d["track"] is None  # a picture's reading; live tracks fill the rest


def test_jsonl_output_keeps_failed_lines_and_writes_them_in_order(tmp_path, monkeypatch):
    path = tmp_path / "r.jsonl"
    out = JsonlOutput(path)
    real_write = os.write
    full = {"on": False}

    def disk(fd, data):
        if fd == out.writer._fd and full["on"]:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", disk)
    out.write(_event(frame=0))  # the disk has room
    full["on"] = True
    for i in (1, 2):
        with pytest.raises(OutputError, match="No space left"):
            out.write(_event(frame=i))
    assert out.lost() == 2  # waiting in memory, not lost yet
    full["on"] = False
    out.write(_event(frame=3))
    out.close()
    assert [e["frame"] for e in map(json.loads, path.read_text().splitlines())] == [0, 1, 2, 3] and out.lost() == 0


def test_jsonl_output_counts_what_it_could_not_keep():
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    out = JsonlOutput("/dev/full", backlog=2)
    for i in range(5):
        with pytest.raises(OutputError):
            out.write(_event(frame=i))
    out.close()
    assert out.lost() == 5  # 3 pushed out of the backlog + 2 still pending at close


def test_fanout_a_failing_output_does_not_stop_the_others(tmp_path, caplog, picture):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    (tmp_path / "blocker").write_text("x")
    broken = AnnotateOutput(tmp_path / "frames")
    broken.folder = tmp_path / "blocker"  # the folder became a file after start: every save fails
    good = AnnotateOutput(tmp_path / "good")
    fan = Fanout([JsonlOutput("/dev/full"), broken, good])
    for i in range(25):
        view = FrameView(i, picture, region=[5, 5, 40, 30], reading="12", confidence=0.5)
        view.events = [_event(frame=i)] if i % 5 == 0 else []
        fan.frame(view)
        for event in view.events:
            fan.write(event)
    assert len(list((tmp_path / "good").iterdir())) == 25  # every frame, reported or not
    assert broken in fan.disabled and AnnotateOutput.max_failures == 20
    lines = [r.getMessage() for r in caplog.records]
    assert sum("annotate output failed" in m for m in lines) == 1  # one line per outage, not per frame
    assert sum("annotate output disabled after 20" in m for m in lines) == 1
    assert sum("jsonl output failed" in m and "No space left" in m for m in lines) == 1
    assert fan.close() == 5  # the five readings JSONL could not write are reported as lost


def test_annotate_view_colours(picture):
    view = FrameView(0, picture, region=[20, 30, 60, 40], reading="12", confidence=0.4)
    assert tuple(np.asarray(annotate_view(view))[50, 20]) == PENDING_COLOUR  # read, not reported
    view.events = [_event(roi=[20, 30, 60, 40])]
    assert tuple(np.asarray(annotate_view(view))[50, 20]) == ROI_COLOUR
    plain = FrameView(1, picture)  # skipped or not read: the frame as it is
    np.testing.assert_array_equal(np.asarray(annotate_view(plain)), picture)


def test_registry_builds_outputs_from_the_config(tmp_path):
    from edge_app.app import AppConfig
    from edge_app.outputs import REGISTRY, build_outputs

    assert {"jsonl", "console", "annotate", "preview"} <= set(REGISTRY)
    cfg = AppConfig(model=Path("m.tflite"), source="x", jsonl=tmp_path / "r.jsonl", quiet=True)
    outputs = build_outputs(cfg)
    assert [o.key for o in outputs] == ["jsonl"]
    for o in outputs:
        o.close()
    cfg = AppConfig(model=Path("m.tflite"), source="x", jsonl=tmp_path / "r.jsonl", annotate=tmp_path / "a")
    assert [o.key for o in build_outputs(cfg)] == ["jsonl", "console", "annotate"]

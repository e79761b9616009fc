"""The edge app as users run it: a subprocess with TensorFlow and Keras unimportable, on real pictures."""

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from edge_app.annotations import read_annotations
from edge_app.contract import crop_region, digit_region, load_image
from tests.conftest import ROOT, copy_labelled

FAKES = ROOT / "tests" / "fakes"
SHIPPED = ROOT / "models" / "house_numbers.tflite"


def app(*args, env=None, timeout=120, popen=False):
    """Run `python -m edge_app` with tensorflow/keras blocked (and the fake picamera2 importable)."""
    full_env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(FAKES / "blocked"), str(FAKES), str(ROOT)]),
                **(env or {})}
    cmd = [sys.executable, "-m", "edge_app", *map(str, args)]
    if popen:
        return subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout)


def events(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def labelled(svhn, tmp_path_factory):
    """50 real recon/test pictures with their digitStruct.csv (and their true readings)."""
    folder = tmp_path_factory.mktemp("pictures")
    anns = copy_labelled(svhn, folder, 50)
    return folder, {a.name: "".join(map(str, a.digits)) for a in anns}


def test_folder_with_boxes_reads_real_pictures(labelled, tmp_path):
    folder, truth = labelled
    out = tmp_path / "readings.jsonl"
    proc = app("--model", SHIPPED, "--source", folder, "--boxes", "--threshold", "0", "--jsonl", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    got = events(out)
    assert len(got) >= 45  # a reading per picture, except the rare "no digits" decode
    for e in got:
        assert set(e) >= {"time", "source", "frame", "file", "reading", "confidence", "digit_confidences", "roi",
                          "latency_ms"}
        assert len(e["digit_confidences"]) == len(e["reading"]) and 0 < e["confidence"] <= 1
    right = sum(e["reading"] == truth[e["file"]] for e in got)
    assert right >= 35, f"only {right} of 50 real pictures read correctly"
    assert "frames 50 (0 skipped)" in proc.stderr



def test_test_time_views_flag(labelled, tmp_path):
    """--tta 7 reads the same pictures through 7 views each (confidences change, nearly every reading holds);
    --tta 8 is more views than the contract has: one line, exit 2."""
    folder, truth = labelled
    runs = {}
    for n in (1, 7):
        out = tmp_path / f"tta{n}.jsonl"
        proc = app("--source", folder, "--boxes", "--threshold", "0", "--tta", n, "--jsonl", out, "--quiet")
        assert proc.returncode == 0, proc.stderr
        runs[n] = {e["file"]: e for e in events(out)}
    assert set(runs[7]) == set(runs[1])
    assert any(runs[7][f]["confidence"] != runs[1][f]["confidence"] for f in runs[1])
    right = {n: sum(e["reading"] == truth[f] for f, e in runs[n].items()) for n in runs}
    assert right[7] >= right[1] - 3, right
    proc = app("--source", folder, "--boxes", "--tta", "8")
    assert proc.returncode == 2 and "--tta" in proc.stderr and "Traceback" not in proc.stderr

def test_single_picture(labelled, svhn):
    folder, truth = labelled
    proc = app("--model", SHIPPED, "--source", folder / "1.png", "--boxes", "--threshold", "0")
    assert proc.returncode == 0, proc.stderr
    assert f"reading {truth['1.png']}" in proc.stdout


def _video(path, frames, fps=15):
    import cv2

    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    for f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    writer.release()


def _scene(svhn, name, roi=(96, 56, 128, 128)):
    """A 320x240 frame with a real picture's digit region pasted into the ROI."""
    folder = svhn / "recon" / "test"
    a = {x.name: x for x in read_annotations(folder)}[name]
    region = crop_region(load_image(folder / name), digit_region(a.boxes), size=roi[2])
    frame = np.full((240, 320, 3), 90, np.uint8)
    frame[roi[1] : roi[1] + roi[3], roi[0] : roi[0] + roi[2]] = region
    return frame, "".join(map(str, a.digits))


@functools.cache
def _readable(svhn, count: int = 2) -> tuple[str, ...]:
    """The first recon/test pictures of two or more digits that the shipped reader reads right and surely (0.95)
    in _scene's ROI: the wiring tests need numbers it reads through a video codec, whichever reader ships."""
    from edge_app.contract import Box, model_input
    from edge_app.inference.reader import HouseNumberModel

    model, names = HouseNumberModel(SHIPPED), []
    for i in range(1, 100):
        frame, truth = _scene(svhn, f"{i}.png")
        reading = model.read(model_input(frame, Box(96, 56, 128, 128)))
        if len(truth) > 1 and reading.text == truth and reading.confidence >= 0.95:
            names.append(f"{i}.png")
        if len(names) == count:
            return tuple(names)
    raise AssertionError("the shipped reader reads too few recon/test numbers surely")


def test_video_with_roi_reports_each_number_once(svhn, tmp_path):
    first, a = _scene(svhn, _readable(svhn)[0])
    second, b = _scene(svhn, _readable(svhn)[1])
    video = tmp_path / "gate.avi"
    _video(video, [first] * 12 + [second] * 12)
    out = tmp_path / "r.jsonl"
    proc = app("--model", SHIPPED, "--source", video, "--roi", "96,56,128,128", "--threshold", "0",
               "--smooth", "3/5", "--jsonl", out)
    assert proc.returncode == 0, proc.stderr
    got = events(out)
    assert [e["reading"] for e in got] == [a, b]  # smoothing: each number once, when it has won 3 of 5
    assert got[0]["roi"] == [96, 56, 128, 128] and got[0]["file"] is None and got[0]["frame"] == 2
    assert "frames 24 (0 skipped)" in proc.stderr


def test_fake_picamera_drives_the_picamera_source(svhn, tmp_path):
    frame, truth = _scene(svhn, "2.png")
    np.save(tmp_path / "frames.npy", np.stack([frame] * 3))
    out = tmp_path / "r.jsonl"
    proc = app("--model", SHIPPED, "--source", "picamera", "--size", "320x240", "--roi", "96,56,128,128",
               "--threshold", "0",
               "--max-frames", "10", "--jsonl", out, env={"FAKE_PICAMERA_FRAMES": str(tmp_path / "frames.npy")})
    assert proc.returncode == 0, proc.stderr
    assert [e["reading"] for e in events(out)] == [truth]
    assert events(out)[0]["source"] == "picamera"


def test_camera_that_disappears_for_good(svhn, tmp_path):
    frame, _ = _scene(svhn, "2.png")
    np.save(tmp_path / "frames.npy", frame[None])
    proc = app("--model", SHIPPED, "--source", "picamera", "--size", "320x240", "--roi", "96,56,128,128", "--retries",
               "2", "--backoff", "0.01",
               env={"FAKE_PICAMERA_FRAMES": str(tmp_path / "frames.npy"), "FAKE_PICAMERA_FAIL_AFTER": "6"})
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "reconnect" in proc.stderr
    assert "frames 6" in proc.stderr  # the summary still comes


def test_sigterm_flushes_and_exits_zero(svhn, tmp_path):
    frame, _ = _scene(svhn, "2.png")
    np.save(tmp_path / "frames.npy", frame[None])
    out = tmp_path / "r.jsonl"
    proc = app("--model", SHIPPED, "--source", "picamera", "--size", "320x240", "--roi", "96,56,128,128",
               "--threshold", "0",
               "--smooth", "1/1", "--jsonl", out, env={"FAKE_PICAMERA_FRAMES": str(tmp_path / "frames.npy")},
               popen=True)
    deadline = time.time() + 60
    while (not out.exists() or not out.read_text()) and time.time() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "frames" in err and "fps" in err
    assert all(line.endswith("}") for line in out.read_text().splitlines())


def test_corrupt_and_empty_pictures_are_skipped_and_counted(labelled, tmp_path):
    folder, _ = labelled
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    for name in ("1.png", "2.png"):
        shutil.copy(folder / name, pictures / name)
    data = (folder / "3.png").read_bytes()
    (pictures / "3.png").write_bytes(data[: len(data) // 2])
    (pictures / "4.png").write_bytes(b"")
    proc = app("--model", SHIPPED, "--source", pictures, "--scan", "--threshold", "0")
    assert proc.returncode == 0, proc.stderr
    assert "frames 4 (2 skipped)" in proc.stderr
    assert proc.stderr.count("skipped frame") == 2 and "Traceback" not in proc.stderr


@pytest.mark.parametrize("content", [b"", b"not a flatbuffer at all" * 10])
def test_a_file_that_is_not_a_model(tmp_path, labelled, content):
    model = tmp_path / "m.tflite"
    model.write_bytes(content)
    shutil.copy(SHIPPED.with_suffix(".json"), tmp_path / "m.json")
    proc = app("--model", model, "--source", labelled[0])
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "not a TF Lite model" in proc.stderr


def test_model_for_another_input(tmp_path, labelled):
    import tensorflow as tf

    x = tf.keras.Input((32, 32, 3), batch_size=1)
    model = tf.keras.Model(x, tf.keras.layers.Dense(7)(tf.keras.layers.Flatten()(x)))
    path = tmp_path / "small.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    shutil.copy(SHIPPED.with_suffix(".json"), tmp_path / "small.json")
    proc = app("--model", path, "--source", labelled[0])
    assert proc.returncode == 2 and "[1, 54, 54, 3]" in proc.stderr and proc.stderr.count("\n") == 1


def test_missing_sidecar(tmp_path, labelled):
    shutil.copy(SHIPPED, tmp_path / "m.tflite")
    proc = app("--model", tmp_path / "m.tflite", "--source", labelled[0])
    assert proc.returncode == 2 and "m.json is missing" in proc.stderr


def test_jsonl_on_a_full_disk_writes_no_partial_line(labelled):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    proc = app("--model", SHIPPED, "--source", labelled[0] / "1.png", "--boxes", "--threshold", "0", "--jsonl",
               "/dev/full")
    assert proc.returncode == 1 and "No space left on device" in proc.stderr and "Traceback" not in proc.stderr


def test_jsonl_not_writable(labelled, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    proc = app("--model", SHIPPED, "--source", labelled[0], "--boxes", "--jsonl", blocker / "r.jsonl")
    assert proc.returncode == 2 and "cannot" in proc.stderr and "a-file" in proc.stderr and proc.stderr.count("\n") == 1


def test_annotate_writes_frames_with_the_reading(labelled, tmp_path):
    out = tmp_path / "annotated"
    proc = app("--model", SHIPPED, "--source", labelled[0] / "1.png", "--boxes", "--threshold", "0", "--annotate", out)
    assert proc.returncode == 0, proc.stderr
    files = list(out.iterdir())
    assert len(files) == 1 and Image.open(files[0]).size == Image.open(labelled[0] / "1.png").size


def test_bench_reports_latency(tmp_path):
    out = tmp_path / "bench.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(FAKES / "blocked"), str(ROOT)])}
    proc = subprocess.run([sys.executable, "-m", "edge_app.bench", "--model", SHIPPED, "--runs", "20", "--threads",
                           "1", "2", "--no-detector", "--json", out], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    assert [r["threads"] for r in result["results"]] == [1, 2]
    assert all(r["frame"]["p50_ms"] >= r["model"]["p50_ms"] * 0.5 > 0 for r in result["results"])


def test_boxes_without_labels_is_refused_up_front(tmp_path, labelled):
    shutil.copy(labelled[0] / "1.png", tmp_path / "1.png")
    proc = app("--model", SHIPPED, "--source", tmp_path, "--boxes")
    assert proc.returncode == 2 and "digitStruct" in proc.stderr and proc.stderr.count("\n") == 1


def test_scan_finds_the_number_in_a_bigger_frame(svhn, tmp_path):
    # The reader without "no number": the shipped one reads most loose scan windows as no number (--detect's job).
    frame, _ = _scene(svhn, "2.png")
    Image.fromarray(frame).save(tmp_path / "frame.png")
    proc = app("--model", ROOT / "models" / "house_numbers_clean.tflite", "--source", tmp_path / "frame.png", "--scan",
               "--threshold", "0", "--jsonl", tmp_path / "r.jsonl")
    assert proc.returncode == 0, proc.stderr
    (event,) = events(tmp_path / "r.jsonl")
    x, y, w, h = event["roi"]
    assert w < 320 and x < 96 + 128 and x + w > 96  # it picked a window over the number, not the whole frame


def test_a_sure_no_number_in_one_region_does_not_hide_a_number_in_another(svhn):
    from edge_app.app import App, AppConfig
    from edge_app.contract import Box, model_input

    frame, truth = _scene(svhn, _readable(svhn)[0])
    whole, number = Box(0, 0, 320, 240), Box(96, 56, 128, 128)  # as --scan's first window and one over the number
    app_ = App(AppConfig(model=SHIPPED, source="unused", roi=number))
    nothing = app_.model.read(model_input(frame, whole))
    reading, region = app_.read_frame(frame, [whole, number])
    assert nothing.length == 0 and nothing.confidence > reading.confidence  # the loose view: a surer "no number"
    assert reading.text == truth and region == number


def test_annotate_sees_every_frame_not_only_reported_ones(svhn, tmp_path):
    first, a = _scene(svhn, _readable(svhn)[0])
    video = tmp_path / "gate.avi"
    _video(video, [first] * 10)
    out, frames = tmp_path / "r.jsonl", tmp_path / "frames"
    proc = app("--model", SHIPPED, "--source", video, "--roi", "96,56,128,128", "--threshold", "0", "--jsonl", out,
               "--annotate", frames, "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert [e["reading"] for e in events(out)] == [a]  # reported once...
    assert sorted(p.name for p in frames.iterdir()) == [f"{i:06d}.jpg" for i in range(10)]  # ...drawn every frame


def test_events_carry_box_and_model(labelled, tmp_path):
    out = tmp_path / "r.jsonl"
    proc = app("--model", SHIPPED, "--source", labelled[0] / "1.png", "--boxes", "--threshold", "0", "--jsonl", out)
    assert proc.returncode == 0, proc.stderr
    (e,) = events(out)
    assert e["model"] == "house_numbers.tflite" and e["box"] is None and e["box_confidence"] is None


def test_preview_with_headless_opencv_says_what_to_do(labelled):
    proc = app("--model", SHIPPED, "--source", labelled[0] / "1.png", "--boxes", "--preview", env={"DISPLAY": ":0"})
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "GUI support" in proc.stderr and "--http" in proc.stderr


def test_fps_caps_the_frame_rate(labelled):
    proc = app("--model", SHIPPED, "--source", labelled[0], "--boxes", "--max-frames", "6", "--fps", "10", "--quiet")
    assert proc.returncode == 0, proc.stderr
    fps = float(proc.stderr.split("fps ")[1].split()[0])
    assert fps <= 10.5  # uncapped, this loop runs at hundreds of frames a second

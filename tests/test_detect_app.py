"""--detect end to end with the shipped detector and reader, TensorFlow blocked: real SVHN test numbers in scenes."""

import json

import numpy as np
import pytest

from edge_app.scenes import read_scenes
from tests.conftest import ROOT
from tests.test_edge_app import SHIPPED, app, events

DETECTOR = ROOT / "models" / "number_detector.tflite"


@pytest.fixture(scope="module")
def scenes(svhn, tmp_path_factory):
    """16 camera frames (640x480) from the real scene generator, numbers pasted from recon/test, a few empty."""
    from train.synth.scenes import SceneSpec
    from train.synth.scenes_write import write_scenes

    out = tmp_path_factory.mktemp("scenes") / "dev"
    spec = SceneSpec(size=(640, 480), real=svhn / "recon" / "test", real_share=1.0, empty_share=0.25)
    write_scenes(out, 16, seed=3, spec=spec, workers=1, progress=False)
    return out, {f.name: ["".join(map(str, n.digits)) for n in f.numbers] for f in read_scenes(out)}


def test_finds_and_reads_numbers_in_real_data_scenes(scenes, tmp_path):
    folder, truth = scenes
    out = tmp_path / "r.jsonl"
    proc = app("--source", folder, "--threshold", "0", "--jsonl", out, "--quiet")  # --detect is the default
    assert proc.returncode == 0, proc.stderr
    got = events(out)
    numbered = [name for name, numbers in truth.items() if numbers]
    right = [e for e in got if e["reading"] in truth[e["file"]]]
    assert len(right) >= len(numbered) // 2, f"{len(right)} of {len(numbered)} number frames read right: {got}"
    for e in got:
        x, y, w, h = e["box"]
        assert 0 < e["box_confidence"] <= 1 and w > 0 and h > 0 and -w < x < 640 and -h < y < 480
        rx, ry, rw, rh = e["roi"]
        assert rw == pytest.approx(1.3 * w, abs=2) and rh == pytest.approx(1.3 * h, abs=2)  # the contract's 30%
        assert e["model"] == SHIPPED.name


def test_empty_frames_read_nothing_with_the_default_gate(scenes, tmp_path):
    folder, truth = scenes
    out = tmp_path / "r.jsonl"
    proc = app("--source", folder, "--jsonl", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    got = events(out) if out.exists() else []
    assert not [e for e in got if not truth[e["file"]]]  # no reading on a frame without a number
    assert all(e["reading"] in truth[e["file"]] for e in got)  # and what passes the gate is right


def test_picamera_lores_stream_feeds_the_detector(scenes, tmp_path):
    folder, truth = scenes
    name = next(n for n, numbers in truth.items() if len(numbers) == 1)
    from edge_app.contract import load_image

    np.save(tmp_path / "frames.npy", np.stack([load_image(folder / name)] * 6))
    out = tmp_path / "r.jsonl"
    proc = app("--source", "picamera", "--threshold", "0", "--smooth", "3/5", "--max-frames", "6", "--jsonl", out,
               env={"FAKE_PICAMERA_FRAMES": str(tmp_path / "frames.npy")})
    assert proc.returncode == 0, proc.stderr
    got = events(out)
    assert len(got) <= 1 and all(e["box"] is not None for e in got)  # K-of-N: one report for a steady number


def test_frame_smaller_than_the_detector_input_exits_2(svhn):
    proc = app("--source", svhn / "recon" / "test" / "1.png")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "smaller than the detector's 192x144 input" in proc.stderr


def test_detector_and_reader_are_refused_in_each_others_place(svhn, tmp_path):
    picture = svhn / "recon" / "test" / "1.png"
    proc = app("--model", DETECTOR, "--source", picture)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "is a detector, but --model takes a reader" in proc.stderr
    proc = app("--detector", SHIPPED, "--source", picture)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "is a reader, but --detector takes a detector" in proc.stderr


def test_detector_card_of_another_version_exits_2(tmp_path, svhn):
    import shutil

    shutil.copy(DETECTOR, tmp_path / "d.tflite")
    card = json.loads(DETECTOR.with_suffix(".json").read_text())
    card["format"] = "house-numbers-model/3"
    (tmp_path / "d.json").write_text(json.dumps(card))
    proc = app("--detector", tmp_path / "d.tflite", "--source", svhn / "recon" / "test" / "1.png")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "house-numbers-model/3" in proc.stderr


def test_bench_reports_the_whole_detected_frame(tmp_path):
    import os
    import subprocess
    import sys

    from tests.test_edge_app import FAKES

    out = tmp_path / "bench.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(FAKES / "blocked"), str(ROOT)])}
    proc = subprocess.run([sys.executable, "-m", "edge_app.bench", "--runs", "20", "--threads", "1", "--json", out],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(out.read_text())["results"]
    assert row["detected_frame"]["p50_ms"] > row["detector"]["p50_ms"] * 0.5 > 0
    assert row["boxes_read_per_frame"] >= 0

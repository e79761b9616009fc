"""--detect's scene gate: the box score and reader gate tuned together on scenes, kept in the detector card.

Real pieces throughout: scenes made from recon/train pictures, the shipped detector and reader, the
evaluation and tuning scripts as a user runs them, and the app's own choice of thresholds.
"""

import dataclasses
import json
import shutil
import subprocess
import sys

import pytest

from edge_app.detect import LOOKS, detect_thresholds, scene_views
from edge_app.inference.card import ModelCard, ModelError, SceneGate, card_path, file_sha256, read_card
from edge_app.inference.detector import NumberDetector
from edge_app.inference.reader import HouseNumberModel
from tests.conftest import ROOT
from train.synth.scenes import SceneSpec
from train.synth.scenes_write import write_scenes

READER = ROOT / "models" / "house_numbers.tflite"
NO_NEGATIVES = ROOT / "models" / "house_numbers_clean.tflite"  # never saw "no number": reads something on a blank wall
DETECTOR = ROOT / "models" / "number_detector.tflite"


@pytest.fixture
def detector(tmp_path):
    """A copy of the shipped detector and its card, free to be rewritten."""
    shutil.copy(DETECTOR, tmp_path / DETECTOR.name)
    shutil.copy(card_path(DETECTOR), card_path(tmp_path / DETECTOR.name))
    return tmp_path / DETECTOR.name


def _with_gate(path, gate: SceneGate):
    card = read_card(path, kind="detector")
    card.scene_gate = gate
    card.write(card_path(path))


def test_a_scene_gate_round_trips_and_is_checked():
    card = read_card(DETECTOR, kind="detector")
    card.scene_gate = SceneGate(0.7, 0.9, "ab" * 32, "300 tuning scenes")
    assert ModelCard.from_json(card.to_json()) == card
    for bad in (SceneGate(1.5, 0.9, "x", "basis"), SceneGate(0.7, 0.9, "x", ""), SceneGate(0.7, 0.9, "x", "b", 3),
                SceneGate(0.7, 0.9, "x", "b", 2, 0), SceneGate(0.7, 0.9, "x", "b", 2, 8)):
        with pytest.raises(ModelError, match="scene gate"):
            dataclasses.replace(card, scene_gate=bad)
    with pytest.raises(ModelError, match="only a detector card"):
        dataclasses.replace(read_card(READER, kind="reader"), scene_gate=card.scene_gate)


def test_the_app_takes_the_scene_gate_only_for_the_reader_it_was_tuned_with(detector):
    reader = HouseNumberModel(READER)
    _with_gate(detector, SceneGate(0.61, 0.93, file_sha256(READER), "tuning scenes", looks=LOOKS))
    assert detect_thresholds(NumberDetector(detector), reader) == (0.61, 0.93)
    assert detect_thresholds(NumberDetector(detector), reader, 0.5, 0.2) == (0.5, 0.2)  # flags win
    assert detect_thresholds(NumberDetector(detector), reader, threshold=0.2) == (0.61, 0.2)
    _with_gate(detector, SceneGate(0.61, 0.93, "0" * 64, "tuned with another reader"))
    own = NumberDetector(detector)
    assert detect_thresholds(own, reader) == (own.score_threshold, reader.threshold)


def test_the_scene_gate_holds_only_for_the_looks_it_was_tuned_with(detector):
    """The box threshold is the last look's score: a gate tuned with one look is not used with two."""
    reader = HouseNumberModel(READER)
    _with_gate(detector, SceneGate(0.61, 0.93, file_sha256(READER), "tuning scenes", looks=2))
    assert detect_thresholds(NumberDetector(detector), reader, looks=2) == (0.61, 0.93)
    own = NumberDetector(detector)
    assert detect_thresholds(own, reader, looks=1) == (own.score_threshold, reader.threshold)
    card = json.loads(card_path(detector).read_text())
    del card["scene_gate"]["looks"]  # a card written before the second look: tuned with one
    card_path(detector).write_text(json.dumps(card))
    assert read_card(detector, kind="detector").scene_gate.looks == 1


def test_the_scene_gate_holds_only_for_the_views_it_was_tuned_with(detector):
    """Averaged test-time views change the reader's confidence: a gate tuned without them is not used with them."""
    reader = HouseNumberModel(READER)
    _with_gate(detector, SceneGate(0.61, 0.93, file_sha256(READER), "tuning scenes", looks=LOOKS, tta=3))
    assert detect_thresholds(NumberDetector(detector), reader, tta=3) == (0.61, 0.93)
    own = NumberDetector(detector)
    assert detect_thresholds(own, reader) == (own.score_threshold, reader.threshold)
    card = json.loads(card_path(detector).read_text())
    del card["scene_gate"]["tta"]  # a card written before --tta reached --detect: tuned without views
    card_path(detector).write_text(json.dumps(card))
    assert read_card(detector, kind="detector").scene_gate.tta == 1
    assert read_card(DETECTOR, kind="detector").scene_gate.tta == 3  # the shipped card's: tuned with three views


def test_detect_reads_through_the_views_its_scene_gate_was_tuned_with(detector):
    """Without --tta, --detect takes the scene gate's views, so the default gate holds; --tta or another reader wins."""
    reader = HouseNumberModel(READER)
    _with_gate(detector, SceneGate(0.61, 0.93, file_sha256(READER), "tuning scenes", looks=LOOKS, tta=3))
    tuned = NumberDetector(detector)
    assert scene_views(tuned, reader) == 3 and detect_thresholds(tuned, reader, tta=scene_views(tuned, reader)) == (
        0.61, 0.93)
    assert scene_views(tuned, reader, tta=1) == 1 and scene_views(tuned, reader, looks=1) == 1
    _with_gate(detector, SceneGate(0.61, 0.93, "0" * 64, "tuned with another reader", looks=LOOKS, tta=3))
    assert scene_views(NumberDetector(detector), reader) == 1


def _script(*args):
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_tuned_pair_is_written_and_the_app_then_reads_as_the_replay_said(svhn, detector, tmp_path):
    spec = SceneSpec(real=svhn / "recon" / "train", real_share=1.0, empty_share=0.25)
    scenes = write_scenes(tmp_path / "scenes", 24, seed=5, spec=spec, workers=1, progress=False)
    low = tmp_path / "low.json"
    proc = _script("scripts/eval_scenes.py", "--data", scenes, "--model", READER, "--detector", detector,
                   "--box-threshold", "0.3", "--no-scan", "--json", low)
    assert proc.returncode == 0, proc.stderr[-2000:]
    proc = _script("scripts/tune_scene_gate.py", low, "--precision", "0.5", "--write")
    assert proc.returncode == 0 and "wrote the scene gate" in proc.stdout, proc.stdout + proc.stderr
    best = json.loads(proc.stdout.splitlines()[1])
    assert best["readings"] > 0 and best["precision"] >= 0.5
    gate = read_card(detector, kind="detector").scene_gate
    assert (gate.box_threshold, gate.reader_threshold) == (best["box_threshold"], best["gate"])
    assert gate.reader_sha256 == file_sha256(READER) and "precision >= 50%" in gate.basis and gate.looks == LOOKS
    proc = _script("scripts/tune_scene_gate.py", low, "--precision", "0.5", "--top", "1")
    assert json.loads(proc.stdout.splitlines()[1]) == best  # the listing's first pair is the one written
    # --max-false keeps exactly the pairs at or under that many false readings per 60 empty frames. The shipped
    # reader makes none on these few empty frames, so this part replays a reader that never learnt "no number".
    garbage = tmp_path / "garbage.json"
    proc = _script("scripts/eval_scenes.py", "--data", scenes, "--model", NO_NEGATIVES, "--detector", detector,
                   "--box-threshold", "0.3", "--no-scan", "--json", garbage)
    assert proc.returncode == 0, proc.stderr[-2000:]
    listed = {}
    for extra in ((), ("--max-false", "0.5")):
        proc = _script("scripts/tune_scene_gate.py", garbage, "--precision", "0.5", "--top", "100000", *extra)
        assert proc.returncode == 0, proc.stderr
        listed[extra] = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    strict = [r for r in listed[()] if r["false_readings_per_60_empty"] <= 0.5]
    assert listed[("--max-false", "0.5")] == strict and 0 < len(strict) < len(listed[()])
    # Several reports pool their frames (the same report twice: twice the readings, the same rates); reports
    # made with another reader are refused.
    proc = _script("scripts/tune_scene_gate.py", low, low, "--precision", "0.5", "--top", "1")
    assert proc.returncode == 0 and proc.stdout.startswith(f"48 frames of {scenes} + {scenes}"), proc.stdout
    twice = json.loads(proc.stdout.splitlines()[1])
    assert twice["readings"] == 2 * best["readings"] and twice["precision"] == best["precision"]
    assert twice["number_frames_read_right"] == best["number_frames_read_right"]
    proc = _script("scripts/tune_scene_gate.py", low, garbage, "--precision", "0.5")
    assert proc.returncode == 2 and "other detectors, readers, looks or --tta" in proc.stderr, proc.stderr

    again = tmp_path / "again.json"  # no thresholds given: the card's scene gate, as in the app
    proc = _script("scripts/eval_scenes.py", "--data", scenes, "--model", READER, "--detector", detector,
                   "--no-scan", "--json", again)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(again.read_text())["summary"]
    assert (summary["box_threshold"], summary["detect_gate"]) == (gate.box_threshold, gate.reader_threshold)
    assert summary["detect"]["readings"] == best["readings"]  # the replay is what the app does
    assert summary["detect"]["precision"] == best["precision"]


def test_tuning_on_the_dev_scenes_is_refused(tmp_path):
    report = tmp_path / "dev.json"
    report.write_text(json.dumps({"data": "data/dev_scenes", "frames": [], "box_threshold": 0.3}))
    proc = _script("scripts/tune_scene_gate.py", report, "--write")
    assert proc.returncode == 2 and "evaluation only" in proc.stderr

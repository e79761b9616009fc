"""The shipped detector and reader together, as a user runs them: whole 640x480 frames in, readings out, TF blocked.

The frames hold real SVHN test numbers (recon/test: evaluation only) pasted into facade scenes by the
generator of the dev scenes, with other seeds; one folder of frames holds no number at all. Nothing here
is tuned on these frames. The bars sit a little below the shipped pair's level (here 29 of 40 frames read
right, 29 of 32 readings right, none on the 20 empty frames; on the 420 dev scenes 63.3% read right at 96.2%
precision through the detector card's scene gate): they catch a step back.
"""

import pytest

from edge_app.detect import detect_thresholds, scene_views
from edge_app.inference.detector import NumberDetector
from edge_app.inference.reader import HouseNumberModel
from edge_app.scenes import read_scenes
from tests.test_edge_app import SHIPPED, app, events
from train.synth.scenes import SceneSpec
from train.synth.scenes_write import write_scenes

DETECTOR = "models/number_detector.tflite"


@pytest.fixture(scope="module")
def frames(svhn, tmp_path_factory):
    """40 frames with a real test number each (a few with two), and 20 frames of facades alone."""
    root = tmp_path_factory.mktemp("scenes")
    spec = SceneSpec(real=svhn / "recon" / "test", real_share=1.0, empty_share=0.0)
    numbers = write_scenes(root / "numbers", 40, seed=77, spec=spec, workers=1, progress=False)
    empty = write_scenes(root / "empty", 20, seed=78, spec=SceneSpec(empty_share=1.0), workers=1, progress=False)
    return numbers, empty


def test_the_app_finds_and_reads_numbers_in_real_data_scenes(frames, tmp_path):
    folder, _ = frames
    truth = {f.name: {"".join(map(str, n.digits)) for n in f.numbers} for f in read_scenes(folder)}
    out = tmp_path / "readings.jsonl"
    proc = app("--source", folder, "--jsonl", out, "--quiet")  # --detect is the default: no ROI, no boxes
    assert proc.returncode == 0, proc.stderr
    found = events(out)
    right = [e for e in found if e["reading"] in truth[e["file"]]]
    assert len(right) >= 0.6 * len(truth), f"{len(right)} of {len(truth)} frames read right"
    assert len(right) >= 0.8 * len(found), f"precision {len(right)}/{len(found)}"
    detector, reader = NumberDetector(DETECTOR), HouseNumberModel(SHIPPED)
    box_threshold, gate = detect_thresholds(detector, reader, tta=scene_views(detector, reader))
    assert (box_threshold, gate) == (detector.card.scene_gate.box_threshold, detector.card.scene_gate.reader_threshold)
    for e in found:
        x, y, w, h = e["box"]
        assert 0 <= x and 0 <= y and x + w <= 640 and y + h <= 480 and w > 0 and h > 0
        assert e["box_confidence"] >= box_threshold - 1 / 256 and e["model"] == "house_numbers.tflite"
        assert e["confidence"] >= gate  # the detector card's scene gate for this reader, not its own 0.703


def test_frames_without_a_number_rarely_read(frames, tmp_path):
    _, folder = frames
    assert not any(f.numbers for f in read_scenes(folder))
    out = tmp_path / "readings.jsonl"
    proc = app("--source", folder, "--jsonl", out)
    assert proc.returncode == 0, proc.stderr
    assert "frames 20 (0 skipped)" in proc.stdout + proc.stderr
    readings = events(out)
    assert len(readings) <= 2, [(e["file"], e["reading"], e["confidence"]) for e in readings]


def test_three_boxes_get_a_second_look_and_the_best_two_different_ones_are_read(frames, monkeypatch):
    """The first look's best three boxes are looked at again (detect.LOOK_AGAIN: the third found 2.6 points more
    numbers on the tuning scenes); the best two of those at the box threshold are read, never one number twice."""
    from edge_app import detect
    from edge_app.contract import load_image
    from edge_app.inference.detector import NMS_IOU, iou
    from edge_app.tiles import STILL_ABOVE, TileLooks

    detector = NumberDetector(DETECTOR)
    looked, look_again = [], detector.look_again
    monkeypatch.setattr(detector, "look_again", lambda image, d: looked.append(d) or look_again(image, d))
    folder, _ = frames
    three = 0
    for scene in read_scenes(folder):
        image = load_image(folder / scene.name)
        looked.clear()
        boxes = detect.find_boxes(detector, image, 0.3)
        first = TileLooks(detector, above=STILL_ABOVE)(image, detect.FIRST_LOOK)  # 640x480: the whole frame only
        assert looked == first[:3]
        three += len(first) >= 3
        assert len(boxes) <= 2 and all(b.score >= 0.3 for b in boxes)
        if len(boxes) == 2:
            assert boxes[0].score >= boxes[1].score and iou(boxes[0].box, boxes[1].box) <= NMS_IOU
    assert three >= 5, three


def test_a_second_look_tightens_the_boxes(svhn, tmp_path_factory):
    """Each frame's best first-look box, looked at again through a window of the full frame, fits its number
    better. On these 120 frames the shipped detector's boxes overlap their number by IoU 0.5 in 68% of the
    frames, 78% after the second look (mean IoU 0.54 -> 0.60; the previous detector: 65% -> 74%). Forty frames
    were too few to tell: the gain there was within a frame or two."""
    from edge_app.contract import load_image
    from edge_app.inference.detector import iou

    spec = SceneSpec(real=svhn / "recon" / "test", real_share=1.0, empty_share=0.0)
    folder = write_scenes(tmp_path_factory.mktemp("looks") / "s", 120, seed=79, spec=spec, workers=2, progress=False)
    detector = NumberDetector(DETECTOR)
    first, second = [], []
    for scene in read_scenes(folder):
        image = load_image(folder / scene.name)
        truth = scene.number_boxes()
        for d in detector.detect(image, threshold=0.15)[:1]:
            again = detector.look_again(image, d)
            first.append(max(iou(d.box, b) for b in truth))
            second.append(max(iou(again.box, b) for b in truth) if again is not None else 0.0)
    n = len(first)
    assert n >= 100
    assert sum(second) > sum(first) + 0.025 * n, (sum(first) / n, sum(second) / n)
    assert sum(i >= 0.5 for i in second) >= sum(i >= 0.5 for i in first) + 0.05 * n


def test_close_ups_are_looked_at_from_further_away(svhn, tmp_path, monkeypatch):
    """Numbers 45-70% of the frame high, past the 5-40% the detector trained on (a camera by the door): the
    zoomed-out second look reads 24 of these 30 right, against 21 with the first look's box (the previous
    detector: 23 against 16). On 300 tuning close-ups it reads 79.3% at the scene gate against 75.3%."""
    from edge_app.contract import load_image
    from edge_app.detect import DetectAndRead
    from edge_app.inference import detector as module

    spec = SceneSpec(real=svhn / "recon" / "test", real_share=1.0, empty_share=0.0, two_share=0.0,
                     height_range=(0.45, 0.7))
    folder = write_scenes(tmp_path / "closeups", 30, seed=79, spec=spec, workers=1, progress=False)
    detector, reader = NumberDetector(DETECTOR), HouseNumberModel(SHIPPED)
    finder = DetectAndRead(detector, reader, detect_thresholds(detector, reader)[0])
    scenes = read_scenes(folder)
    images = [load_image(folder / s.name) for s in scenes]

    def right() -> int:
        found = [finder(image) for image in images]
        return sum(f is not None and f.reading.text in {"".join(map(str, n.digits)) for n in s.numbers}
                   for f, s in zip(found, scenes))

    zoomed_out = right()
    monkeypatch.setattr(module, "ZOOM_OUT_ABOVE", float("inf"))
    assert zoomed_out >= 21 and zoomed_out >= right() + 2, zoomed_out

"""The detector's first look over the whole frame and its tiles (edge_app.tiles): small numbers are found, no
frame is squashed, a real photograph's house number is found and read, live frames look at tiles in turn.

The app runs as users run it, with TensorFlow blocked. Real data: real SVHN test numbers (recon/test,
evaluation only) pasted small into facade scenes, and a real photograph from ../shared/data/real_numbers
(evaluation and tuning only, never training).
"""

import numpy as np
import pytest

from edge_app.contract import DETECTOR_HEIGHT, DETECTOR_WIDTH, Box, load_image, shrink
from edge_app.inference.detector import DEFAULT_DETECTOR, Detection, NumberDetector, iou
from edge_app.scenes import read_scenes
from edge_app.tiles import MIN_SHRINK, STILL_ABOVE, TileLooks, look, windows
from tests.conftest import ROOT
from tests.test_edge_app import app, events
from train.synth.scenes import SceneSpec
from train.synth.scenes_write import write_scenes

INPUT = (DETECTOR_WIDTH, DETECTOR_HEIGHT)
REAL = ROOT.parent / "shared" / "data" / "real_numbers"


def _covers(frame_size, wins) -> bool:
    fw, fh = frame_size
    seen = np.zeros((fh, fw), bool)
    for w in wins:
        b = w.box
        seen[round(b.top) : round(b.top + b.height), round(b.left) : round(b.left + b.width)] = True
    return bool(seen.all())


@pytest.mark.parametrize("size", [(640, 480), (1024, 768), (768, 1024), (1280, 720), (1280, 960)])
def test_every_window_keeps_the_detectors_aspect_and_each_level_covers_the_frame(size):
    wins = windows(size, INPUT)
    for w in wins:
        assert w.box.width / w.box.height == pytest.approx(DETECTOR_WIDTH / DETECTOR_HEIGHT)  # never squashed
        assert 0 <= w.box.left and w.box.left + w.box.width <= size[0] + 1e-6
        assert 0 <= w.box.top and w.box.top + w.box.height <= size[1] + 1e-6
        assert w.level == 0 or w.box.height >= MIN_SHRINK * DETECTOR_HEIGHT - 0.5
    for level in {w.level for w in wins}:
        assert _covers(size, [w for w in wins if w.level == level])


def test_a_camera_frame_gets_the_whole_frame_and_four_tiles_and_a_photo_a_finer_level():
    vga = windows((640, 480), INPUT)
    assert [w.box for w in vga if w.level == 0] == [Box(0.0, 0.0, 640.0, 480.0)]  # as the detector always saw it
    assert sum(w.level == 1 for w in vga) == 4 and max(w.level for w in vga) == 1
    portrait = windows((768, 1024), INPUT)
    assert sum(w.level == 0 for w in portrait) == 2  # two 4:3 windows stacked, not one squashed frame
    assert max(w.level for w in windows((1024, 768), INPUT)) == 2


def test_a_portrait_frame_is_looked_at_through_unsquashed_windows(monkeypatch):
    """What the detector is given for a portrait frame is each 4:3 window scaled alike in x and y."""
    detector = NumberDetector(DEFAULT_DETECTOR, threads=1)
    rng = np.random.default_rng(0)
    frame = np.repeat(np.repeat(rng.integers(0, 255, (64, 48, 3), dtype=np.uint8), 16, 0), 16, 1)  # 768x1024
    seen, run = [], detector.run
    monkeypatch.setattr(detector, "run", lambda pixels: seen.append(pixels.copy()) or run(pixels))
    top = [w for w in windows((768, 1024), INPUT) if w.level == 0]
    look(detector, frame, top, 0.5)
    assert len(seen) == 2 and all(s.shape == (DETECTOR_HEIGHT, DETECTOR_WIDTH, 3) for s in seen)
    for pixels, w in zip(seen, top):
        b = w.box
        direct = shrink(frame[round(b.top) : round(b.top + b.height), round(b.left) : round(b.left + b.width)], INPUT)
        assert np.abs(pixels.astype(int) - direct.astype(int)).mean() < 8  # the same view, up to a pixel of rounding


def test_boxes_cut_by_a_tile_and_parts_of_a_coarser_box_are_dropped(monkeypatch):
    detector = NumberDetector(DEFAULT_DETECTOR, threads=1)
    frame = np.zeros((480, 640, 3), np.uint8)
    tiles = TileLooks(detector)
    whole = Detection(Box(100, 100, 200, 60), 0.9)
    inside = Detection(Box(120, 105, 40, 50), 0.95)  # one digit of the number above, found by a tile
    apart = Detection(Box(500, 400, 30, 20), 0.7)
    monkeypatch.setattr("edge_app.tiles.run_windows", lambda det, image, chosen: chosen)
    monkeypatch.setattr("edge_app.tiles.decode_runs", lambda runs, size, input_size, threshold:
                        [whole] if runs[0].level == 0 else [inside, apart])
    assert tiles(frame, 0.5) == [whole, apart]


def test_a_live_source_looks_at_its_tiles_in_turn_and_keeps_what_they_found(monkeypatch):
    detector = NumberDetector(DEFAULT_DETECTOR, threads=1)
    frame = np.zeros((480, 640, 3), np.uint8)
    looked = []

    def fake_decode(chosen, size, input_size, threshold):  # the detector's runs stand for their windows here
        looked.append([w.level for w in chosen])
        if chosen[0].level == 1 and chosen[0].box.left == 0 and chosen[0].box.top == 0:
            return [Detection(Box(10, 10, 30, 20), 0.8)]
        return []

    monkeypatch.setattr("edge_app.tiles.run_windows", lambda det, image, chosen: chosen)
    monkeypatch.setattr("edge_app.tiles.decode_runs", fake_decode)
    tiles = TileLooks(detector, per_frame=1)
    found = [tiles(frame, 0.5) for _ in range(5)]
    assert looked == [[0], [1]] * 5  # the whole frame and one tile a frame
    assert all(f == [Detection(Box(10, 10, 30, 20), 0.8)] for f in found)  # kept until the tile's next turn


@pytest.fixture(scope="module")
def small_numbers(svhn, tmp_path_factory):
    """24 frames of 1280x960 (a camera's full resolution), each with one real test number 5% of the height."""
    spec = SceneSpec(size=(1280, 960), real=svhn / "recon" / "test", real_share=1.0, empty_share=0.0, two_share=0.0,
                     height_range=(0.05, 0.055))
    return write_scenes(tmp_path_factory.mktemp("five") / "s", 24, seed=290, spec=spec, workers=2, progress=False)


def test_a_number_at_five_percent_of_the_frame_height_is_found(small_numbers, tmp_path):
    """Its box is found in 21 of the 24 frames here (the whole frame alone: 17, with --tiles 0)."""
    scenes = {s.name: s for s in read_scenes(small_numbers)}
    out = tmp_path / "r.jsonl"
    proc = app("--source", small_numbers, "--threshold", "0", "--jsonl", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    found = [e for e in events(out) if e["box"] and iou(Box(*e["box"]), scenes[e["file"]].number_boxes()[0]) >= 0.5]
    assert len(found) >= 19, f"{len(found)} of 24 boxes found"


def test_a_real_photograph_of_a_house_number_is_found_and_read(tmp_path):
    """A real photo (DoorDetect, Open Images, CC BY 2.0): a 27 about 5% of the photo's height beside a door,
    read through the app's default gate."""
    name = "0dba02432495d47a.jpg"
    row = next(line.split(";") for line in (REAL / "labels.csv").read_text().splitlines() if line.startswith(name))
    truth, box = row[1], Box(*map(float, row[2:6]))
    assert load_image(REAL / "images" / name).shape[:2] == (768, 1024)
    out = tmp_path / "r.jsonl"
    proc = app("--source", REAL / "images" / name, "--jsonl", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    got = events(out)
    assert [e["reading"] for e in got] == [truth]
    assert iou(Box(*got[0]["box"]), box) >= 0.5
    # without the tiles the number is a few pixels of the detector's input and nothing is read
    proc = app("--source", REAL / "images" / name, "--tiles", "0", "--jsonl", tmp_path / "none.jsonl", "--quiet")
    assert proc.returncode == 0 and not events(tmp_path / "none.jsonl")


def test_a_picture_gets_tiles_only_when_larger_than_a_camera_frame(monkeypatch):
    """640x480 pictures read as before (the 6 ms budget); a 1024x768 photo gets its tiles."""
    detector = NumberDetector(DEFAULT_DETECTOR, threads=1)
    looked = []
    monkeypatch.setattr("edge_app.tiles.run_windows", lambda det, image, chosen: looked.append(
        sorted({w.level for w in chosen})) or [])
    tiles = TileLooks(detector, above=STILL_ABOVE)
    tiles(np.zeros((480, 640, 3), np.uint8), 0.5)
    assert looked == [[0]]
    looked.clear()
    tiles(np.zeros((768, 1024, 3), np.uint8), 0.5)
    assert looked == [[0], [1, 2]]


def test_the_tiles_get_their_own_share_of_second_looks(monkeypatch):
    """Many more windows bring many more textures: the whole frame's best three boxes are always looked at again,
    and the tiles' best two besides (detect.TILE_LOOK_AGAIN)."""
    from edge_app import detect

    detector = NumberDetector(DEFAULT_DETECTOR, threads=1)
    whole = [Detection(Box(10 * i, 0, 8, 8), 0.5 - 0.01 * i) for i in range(5)]
    finer = [Detection(Box(300 + 10 * i, 300, 8, 8), 0.9 - 0.01 * i) for i in range(5)]  # outscore every whole box
    first = TileLooks(detector)
    monkeypatch.setattr(first, "looks", lambda image, threshold, lores=None: (whole, finer))
    again = []
    monkeypatch.setattr(detector, "look_again", lambda image, d: again.append(d) or d)
    detect.find_boxes(detector, np.zeros((768, 1024, 3), np.uint8), 0.3, first_look=first)
    assert again == whole[: detect.LOOK_AGAIN] + finer[: detect.TILE_LOOK_AGAIN]

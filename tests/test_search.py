"""A picture whose best boxes read nothing past the gate is searched further (edge_app.detect.DetectAndRead.search):
real photographs from ../shared/data/real_numbers (DoorDetect, Open Images, CC BY 2.0; evaluation and tuning only,
never training), the shipped detector and reader, TensorFlow blocked for the app.
"""

import numpy as np
import pytest

from edge_app import detect
from edge_app.contract import Box, load_image
from edge_app.detect import DetectAndRead, detect_thresholds, scene_views
from edge_app.inference.detector import DEFAULT_DETECTOR, NumberDetector, iou
from edge_app.inference.reader import DEFAULT_MODEL, HouseNumberModel
from tests.test_edge_app import app, events
from tests.test_tiles import REAL

FIVE = "0071e79693904a8f.jpg"  # a brass 5 on a stone arch, 4% of the photo's height, ranked sixth by the tiles
EMPTY = ("84cb35f6bd724733.jpg", "264de7f0e59e9728.jpg", "0d67358e7358ee00.jpg")  # doors and facades, no number


def _label(name: str) -> tuple[str, Box]:
    row = next(line.split(";") for line in (REAL / "labels.csv").read_text().splitlines() if line.startswith(name))
    return row[1], Box(*map(float, row[2:6]))


@pytest.fixture(scope="module")
def pair():
    detector, reader = NumberDetector(DEFAULT_DETECTOR, threads=1), HouseNumberModel(DEFAULT_MODEL, threads=1)
    views = scene_views(detector, reader, detect.LOOKS, None)
    box, gate = detect_thresholds(detector, reader, None, None, detect.LOOKS, views)
    return detector, reader, box, gate, views


def test_a_real_number_the_detector_ranks_low_is_found_by_the_search_and_read(pair, tmp_path):
    detector, reader, box, gate, views = pair
    truth, true_box = _label(FIVE)
    image = load_image(REAL / "images" / FIVE)
    plain = DetectAndRead(detector, reader, box, tta=views)(image)  # without the gate: no search
    assert plain is None or plain.reading.confidence < gate or plain.reading.length == 0
    found = DetectAndRead(detector, reader, box, tta=views, gate=gate)(image)
    assert found.reading.text == truth and found.reading.per_head() >= detect.SEARCH_GATE
    assert iou(found.detection.box, true_box) >= 0.3
    out = tmp_path / "r.jsonl"  # and so through the app, as users run it
    proc = app("--source", REAL / "images" / FIVE, "--jsonl", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert [e["reading"] for e in events(out)] == [truth]


def test_the_search_reads_nothing_on_photos_without_a_number(pair):
    detector, reader, box, gate, views = pair
    finder = DetectAndRead(detector, reader, box, tta=views, gate=gate)
    searched = []
    for name in EMPTY:
        image = load_image(REAL / "images" / name)
        finder.candidates(image)
        assert finder.first_look.all_tiles  # a 1024-px photo: every tile at once, so the search may run
        searched.append(finder.search(image))
    assert searched == [None] * len(EMPTY)


def test_the_search_looks_again_without_running_the_detector_again(pair, monkeypatch):
    """The search re-reads the picture's first look at a lower score floor: the tiles' runs are kept, not redone."""
    detector, reader, box, gate, views = pair
    finder = DetectAndRead(detector, reader, box, tta=views, gate=gate)
    image = load_image(REAL / "images" / FIVE)
    whole, finer = finder.first_look.looks(image, 0.5)
    runs = []
    monkeypatch.setattr(detector, "run", lambda pixels: runs.append(1) or pytest.fail("the detector ran again"))
    low_whole, low_finer = finder.first_look.looks(image, detect.SEARCH_FLOOR, again=True)
    assert not runs and len(low_whole) + len(low_finer) > len(whole) + len(finer)
    assert set(whole) <= set(low_whole)
    same = finder.first_look.looks(image, 0.5, again=True)
    assert same == (whole, finer)


def test_a_live_source_is_never_searched(pair):
    """A live source's tiles take turns and its tracks fuse views over time (edge_app.live): no search there."""
    detector, reader, box, gate, views = pair
    finder = DetectAndRead(detector, reader, box, tta=views, gate=gate, tiles_per_frame=1)
    image = load_image(REAL / "images" / FIVE)
    finder.candidates(image)
    assert not finder.first_look.all_tiles
    with pytest.raises(ValueError, match="pictures"):
        finder.first_look.looks(image, 0.1, again=True)
    assert np.all(image == load_image(REAL / "images" / FIVE))


def test_the_search_takes_no_second_look_and_reads_no_box_twice(pair, monkeypatch):
    """The boxes the first pass looked at again and read are not looked at or read again by the search."""
    detector, reader, box, gate, views = pair
    finder = DetectAndRead(detector, reader, box, tta=views, gate=gate)
    image = load_image(REAL / "images" / FIVE)
    looked, read = [], []
    look_again, read_box = detector.look_again, finder.read
    monkeypatch.setattr(detector, "look_again", lambda im, d: looked.append(d) or look_again(im, d))
    monkeypatch.setattr(finder, "read", lambda im, b: read.append(b) or read_box(im, b))
    finder.candidates(image)
    first_pass = list(looked)
    whole, finer = finder.first_look.looks(image, detect.SEARCH_FLOOR, again=True)
    assert set(first_pass) & set(whole[: detect.LOOK_AGAIN] + finer[: detect.SEARCH_TILES])  # the two passes share
    assert finder.search(image).reading.text == _label(FIVE)[0]
    assert len(looked) == len(set(looked)) and len(read) == len(set(read))


def test_the_search_gate_means_the_same_for_every_length():
    """The int8 heads top out at 255/256, so a joint confidence of 0.99 is out of reach for two digits: the search's
    gate is on each head (Reading.per_head), which a sure number of any length reaches and a doubtful one does not."""
    from edge_app.decode import decode

    top = 255 / 256
    for text in ("5", "17", "293", "1137"):
        length = np.full(7, (1 - top) / 6)
        length[len(text)] = top
        digits = np.full((5, 11), (1 - top) / 10)
        for i in range(5):
            digits[i, int(text[i]) if i < len(text) else 10] = top
        sure = decode(length, digits)
        assert sure.text == text and sure.per_head() >= detect.SEARCH_GATE
        assert (sure.confidence >= 0.99) == (len(text) == 1)  # the old joint gate passed lone digits only
        digits[0, int(text[0])] = 0.9  # one doubtful head
        assert decode(length, digits).per_head() < detect.SEARCH_GATE

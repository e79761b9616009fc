"""Until a track is reported, its box is also read shrunk (edge_app.live.TIGHT) and the surer reading counts: real
recon/test numbers (evaluation only) with boxes a third too big, as the detector's often are, read by the live
reader's own step with the shipped detector and reader."""

import numpy as np
import pytest

from edge_app import live
from edge_app.annotations import read_annotations
from edge_app.contract import expand_box, load_image, union_box
from edge_app.detect import DetectAndRead, scene_views
from edge_app.inference.detector import DEFAULT_DETECTOR, NumberDetector
from edge_app.inference.reader import DEFAULT_MODEL, HouseNumberModel
from edge_app.tracks import Kalman, Track

PICTURES = 40  # the first recon/test pictures


@pytest.fixture(scope="module")
def reader():
    detector, model = NumberDetector(DEFAULT_DETECTOR, threads=1), HouseNumberModel(DEFAULT_MODEL, threads=1)
    return live.LiveReader(DetectAndRead(detector, model, 0.5, tta=scene_views(detector, model, 2, None)))


def _views(reader, svhn, tight, monkeypatch):
    """(the reading the track takes from its view, the number) for each picture, its box grown to 1.35."""
    monkeypatch.setattr(live, "TIGHT", tight)
    folder, out = svhn / "recon" / "test", []
    for a in read_annotations(folder)[:PICTURES]:
        image = load_image(folder / a.name)
        big = expand_box(union_box(a.boxes), 0.35)  # the detector's 90th percentile: 1.35 of the number's height
        track = Track(1, Kalman(big, 0.0), 0.0, 0.0, 0.9, big)
        reader.clock.tick(float(len(out)))
        reader._read(track, np.ascontiguousarray(image))
        out.append((track.last_read, "".join(map(str, a.digits))))
    return out


def test_a_box_a_third_too_big_reads_right_more_often_with_its_shrunk_reading(reader, svhn, monkeypatch):
    shrink = live.TIGHT
    plain = _views(reader, svhn, None, monkeypatch)
    tight = _views(reader, svhn, shrink, monkeypatch)
    for (first, _), (surer, _) in zip(plain, tight):
        assert surer.confidence >= first.confidence  # the surer of two readings, never a less sure one
    right = [sum(r.text == number for r, number in views) for views in (plain, tight)]
    assert right[1] > right[0], right

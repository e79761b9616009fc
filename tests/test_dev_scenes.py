"""scripts/make_dev_scenes.py, which builds the dev scenes behind the README's scene figures: the same frames from
the same seed, real recon/test numbers only, built once, and refused by training (evaluation only)."""

import pytest

from edge_app.annotations import read_annotations
from edge_app.scenes import read_scenes
from scripts import make_dev_scenes
from train.cache import DataError
from train.tasks import TASKS

COUNT = 8


@pytest.fixture(scope="module")
def built(svhn, tmp_path_factory):
    spec = make_dev_scenes.spec(svhn)
    a, b = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    counts = [make_dev_scenes.build(f, make_dev_scenes.SEED, spec, workers=1, count=COUNT) for f in (a, b)]
    again = make_dev_scenes.build(a, make_dev_scenes.SEED, spec, workers=1, count=COUNT)
    return a, b, counts, again


def test_the_same_seed_builds_the_same_frames_once(built):
    a, b, counts, again = built
    assert counts[0] == counts[1] and sum(counts[0]) == COUNT
    assert again is None  # already built: a second run does not redraw the dev set
    for frame in read_scenes(a):
        assert (a / frame.name).read_bytes() == (b / frame.name).read_bytes()


def test_every_number_is_a_real_recon_test_number(built, svhn):
    a, _, counts, _ = built
    test_numbers = {tuple(x.digits) for x in read_annotations(svhn / "recon" / "test")}
    numbers = [tuple(n.digits) for f in read_scenes(a) for n in f.numbers]
    assert len(numbers) >= counts[0][0] and all(n in test_numbers for n in numbers)


def test_training_the_detector_on_the_dev_scenes_is_refused(built):
    a, *_ = built
    with pytest.raises(DataError, match="evaluation only"):
        TASKS["detector"].check_data(str(a))

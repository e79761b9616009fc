"""scripts/make_dev_scenes.py, which builds the dev scenes behind the README's scene figures: the same frames from
the same seed, real recon/test numbers only, built once, and refused by training (evaluation only). And the two
figure scripts drawn from scenes and pictures: scripts/scene_sheet.py and scripts/contact_sheet.py."""

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


def test_a_sheet_of_scenes_is_drawn_from_an_eval_scenes_report(built, tmp_path):
    """scripts/eval_scenes.py on the scenes, then scripts/scene_sheet.py: one tile a frame picked, written whole."""
    from PIL import Image

    from scripts import eval_scenes, scene_sheet

    a, *_ = built
    report, out = tmp_path / "report.json", tmp_path / "sheet.png"
    assert eval_scenes.main(["--data", str(a), "--no-scan", "--json", str(report)]) == 0
    picks = ["--hits", "2", "--misses", "2", "--empty", "2", "--columns", "2"]
    assert scene_sheet.main(["--report", str(report), "--out", str(out), *picks]) == 0
    with Image.open(out) as sheet:
        assert sheet.width == 2 * (scene_sheet.TILE[0] + scene_sheet.GAP) + scene_sheet.GAP
        rows = (sheet.height - scene_sheet.HEADER - scene_sheet.GAP) // (scene_sheet.TILE[1] + scene_sheet.GAP)
        assert 1 <= rows <= 3  # up to six tiles, as many as the eight frames hold of each kind
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_the_synthetic_against_real_contact_sheet_is_drawn(svhn, tmp_path):
    """scripts/contact_sheet.py (docs/synthetic_vs_real.png) with a small grid."""
    from PIL import Image

    from scripts import contact_sheet

    out = tmp_path / "sheet.png"
    assert contact_sheet.main(["--svhn", str(svhn), "--out", str(out), "--cols", "2", "--rows", "1",
                               "--size", "48"]) == 0
    with Image.open(out) as sheet:
        assert sheet.size == (2 * 2 * (48 + contact_sheet.GAP) + contact_sheet.SIDE_GAP,
                              2 * (contact_sheet.HEADER + 48 + contact_sheet.GAP))


def test_the_outside_check_puts_recon_test_numbers_on_the_photographs_given(svhn, tmp_path, capsys):
    """scripts/make_outside_scenes.py --photos: each frame on one of the photographs, numbers from recon/test."""
    import numpy as np
    from PIL import Image

    from scripts import make_outside_scenes

    photos = tmp_path / "photos"
    photos.mkdir()
    for name, colour in (("red", (200, 30, 30)), ("blue", (30, 30, 200))):  # flat colours a frame's corner shows
        Image.new("RGB", (800, 600), colour).save(photos / f"{name}.png")
    out = tmp_path / "outside"
    assert make_outside_scenes.main(["--out", str(out), "--photos", str(photos), "--workers", "1",
                                     "--count", str(COUNT), "--svhn", str(svhn)]) == 0
    assert f"{out}:" in capsys.readouterr().out
    frames = read_scenes(out)
    assert len(frames) == COUNT
    test_numbers = {tuple(x.digits) for x in read_annotations(svhn / "recon" / "test")}
    assert all(tuple(n.digits) in test_numbers for f in frames for n in f.numbers)
    for frame in frames:
        with Image.open(out / frame.name) as picture:
            red, green, blue = np.median(np.asarray(picture.convert("RGB")).reshape(-1, 3), axis=0)
        assert max(red, blue) - max(min(red, blue), green) > 40  # mostly a photograph's colour, not a drawn facade


def test_the_outside_check_without_scikit_image_says_how_to_get_it(tmp_path, monkeypatch):
    import sys

    from scripts import make_outside_scenes

    monkeypatch.setitem(sys.modules, "skimage", None)
    with pytest.raises(SystemExit, match="pip install scikit-image"):
        make_outside_scenes.main(["--out", str(tmp_path / "outside")])
    assert not (tmp_path / "outside").exists()

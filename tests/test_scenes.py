"""Scene generator for the detector: format-1 layout, boxes inside the frame, empty frames recorded, determinism."""

import hashlib
import json

import numpy as np
import pytest
from PIL import Image

from edge_app.annotations import read_annotations
from edge_app.contract import load_image, union_box
from edge_app.scenes import read_scenes
from tests.conftest import run_module
from train.synth.scenes import SceneSpec, photo_background
from train.synth.scenes_write import write_scenes


def hashes(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    # Half the frames empty, so a small folder surely holds both kinds.
    spec = SceneSpec(size=(192, 144), empty_share=0.4, two_share=0.3)
    return write_scenes(tmp_path_factory.mktemp("scenes") / "s", 12, seed=7, spec=spec, workers=1, progress=False)


def test_frames_boxes_inside_and_empty_frames_recorded(scenes):
    frames = read_scenes(scenes)
    record = json.loads((scenes / "scenes.json").read_text())
    assert [f.name for f in frames] == [f"{i}.png" for i in range(1, 13)]
    empty = [f for f in frames if not f.numbers]
    assert record["empty"] == len(empty) and 0 < len(empty) < 12
    assert any(len(f.numbers) == 2 for f in frames)
    # digitStruct.csv holds exactly the non-empty frames' digit boxes, in format 1
    labelled = {a.name: a for a in read_annotations(scenes)}
    assert set(labelled) == {f.name for f in frames if f.numbers}
    for f in frames:
        image = load_image(scenes / f.name)
        assert image.shape == (144, 192, 3)
        for n in f.numbers:
            assert 1 <= len(n.digits) <= 5
            for b in n.boxes:
                assert 0 <= b.left and b.left + b.width <= 192 and 0 <= b.top and b.top + b.height <= 144, (f.name, b)
            h = union_box(n.boxes).height
            assert 0.04 * 144 <= h <= 0.45 * 144, (f.name, h)  # number height 5-40% of the frame, give or take pose
        if len(f.numbers) == 2:  # two numbers never overlap
            a, b = f.number_boxes()
            assert (
                a.left + a.width <= b.left
                or b.left + b.width <= a.left
                or a.top + a.height <= b.top
                or b.top + b.height <= a.top
            )


def test_same_seed_same_bytes_whatever_the_workers(scenes, tmp_path):
    spec = SceneSpec(size=(192, 144), empty_share=0.4, two_share=0.3)
    again = write_scenes(tmp_path / "again", 12, seed=7, spec=spec, workers=2, progress=False)
    assert hashes(again) == hashes(scenes)


def test_real_pictures_are_pasted_with_their_labels(tmp_path, svhn):
    real = svhn / "recon" / "train"
    out = write_scenes(
        tmp_path / "real",
        6,
        seed=3,
        progress=False,
        workers=1,
        spec=SceneSpec(size=(320, 240), empty_share=0.0, real=real, real_share=1.0),
    )
    known = {a.digits for a in read_annotations(real)}
    numbers = [n for f in read_scenes(out) for n in f.numbers]
    assert numbers and all(n.digits in known for n in numbers)
    assert json.loads((out / "synth.json").read_text())["real_digits"] == str(real)  # licence follows it


def test_cli_writes_scenes_and_refuses_a_full_folder(tmp_path):
    out = tmp_path / "cli"
    proc = run_module(
        "train.synth",
        "scenes",
        "--out",
        out,
        "--count",
        "3",
        "--seed",
        "1",
        "--size",
        "192x144",
        "--workers",
        "1",
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    assert len(read_scenes(out)) == 3
    proc = run_module("train.synth", "scenes", "--out", out, "--count", "3", "--quiet")
    assert proc.returncode == 2 and "not empty" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_module("train.synth", "scenes", "--out", tmp_path / "x", "--count", "3", "--size", "big")
    assert proc.returncode == 2 and "WIDTHxHEIGHT" in proc.stderr and "Traceback" not in proc.stderr


def test_reader_negatives_are_detector_boxes_away_from_every_number_or_cutting_one(svhn, tmp_path):
    """scripts/reader_negatives.py on 640x480 scenes of real training numbers, with the shipped detector: boxes
    off every number, and (--partials) boxes the app reads that cut a number's digits off."""
    import numpy as np

    from edge_app.contract import Box
    from edge_app.inference.detector import iou
    from edge_app.regions import detection_region
    from scripts.reader_negatives import cuts_off_digits
    from train.cache import load_crops

    spec = SceneSpec(real=svhn / "recon" / "train", empty_share=0.3)
    # seed 8: ten frames where the app's boxes include one that cuts a number (about one frame in 30 does)
    frames = write_scenes(tmp_path / "scenes", 10, seed=8, spec=spec, workers=1, progress=False)
    proc = run_module("scripts.reader_negatives", "--scenes", frames, "--out", tmp_path / "neg", "--max-iou", "0.1",
                      "--partials", "2", "--box-threshold", "0.15")
    assert proc.returncode == 0, proc.stderr[-2000:]
    counts = json.loads(proc.stdout.strip().splitlines()[-1])
    scenes = {f.name.removesuffix(".png"): f for f in read_scenes(frames)}
    labels = read_annotations(tmp_path / "neg")
    negatives = [a for a in labels if not a.digits]
    assert counts["negatives"] == len(negatives) > 0 and counts["positives"] == len(labels) - len(negatives)
    assert counts["positives"] == sum(len(f.numbers) for f in scenes.values())
    cut_at = json.loads((tmp_path / "neg" / "negatives.json").read_text())["cut_at"]
    for a in labels:  # back in frame pixels: the picture is the frame's, a negative overlaps no number
        scene, (left, top) = scenes[a.name.split("_")[0]], cut_at[a.name]
        picture = load_image(tmp_path / "neg" / a.name)
        h, w = picture.shape[:2]
        assert np.array_equal(picture, load_image(frames / scene.name)[top : top + h, left : left + w])
        boxes = [Box(b.left + left, b.top + top, b.width, b.height) for b in a.boxes]
        if a.digits:
            assert any(iou(union_box(boxes), number) > 0.99 for number in scene.number_boxes())
        elif "_p" in a.name:  # part of a number: its region holds one digit whole and cuts another off
            assert any(cuts_off_digits(detection_region(boxes[0]), n.boxes) for n in scene.numbers)
        else:
            assert all(iou(boxes[0], number) < 0.1 for number in scene.number_boxes())
    assert counts["partials"] == sum("_p" in a.name for a in negatives) > 0
    crops = load_crops(tmp_path / "neg", tmp_path / "cache", quiet=True)
    lengths = {name: int(t[0]) for name, t in zip(crops.names, crops.targets)}
    assert all(lengths[a.name] == 0 for a in negatives) and np.all(crops.targets[:, 0] >= 0)
    assert all(lengths[a.name] == len(a.digits) for a in labels if a.digits)


def test_a_region_cuts_a_number_when_one_digit_is_whole_and_another_cut_off():
    from edge_app.contract import Box
    from scripts.reader_negatives import cuts_off_digits

    digits = (Box(0, 0, 10, 20), Box(10, 0, 10, 20), Box(20, 0, 10, 20))  # "103"
    assert not cuts_off_digits(Box(-3, -3, 36, 26), digits)  # all three inside
    assert cuts_off_digits(Box(-3, -3, 26, 26), digits)  # "10" and a third of the 3
    assert not cuts_off_digits(Box(-3, -3, 30, 26), digits)  # the 3 70% inside: neither, left out
    assert not cuts_off_digits(Box(100, 100, 10, 10), digits)  # nowhere near


def test_partial_numbers_are_runs_of_digits_that_keep_one_end_read_as_no_number(svhn, tmp_path):
    """scripts/partial_numbers.py on real training pictures: each part is the union of a strict run of the
    picture's digits that keeps its first or its last digit, labelled "no number"; test pictures are refused."""
    import shutil

    from edge_app.annotations import write_csv
    from train.cache import load_crops

    source = tmp_path / "train"
    source.mkdir()
    labels = read_annotations(svhn / "recon" / "train")[:30]
    for a in labels:
        shutil.copy(svhn / "recon" / "train" / a.name, source / a.name)
    write_csv(source / "digitStruct.csv", labels)
    proc = run_module("scripts.partial_numbers", "--data", source, "--out", tmp_path / "parts", "--per-picture", "2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    parts = read_annotations(tmp_path / "parts")
    sources = json.loads((tmp_path / "parts" / "partials.json").read_text())["sources"]
    several = [a for a in labels if len(a.digits) >= 2]
    assert len(parts) == sum(min(2, 2 * (len(a.digits) - 1)) for a in several) > 0
    by_name = {a.name: a for a in labels}
    for part in parts:
        assert part.digits == ()
        picture, run = sources[part.name].split(" digits ")
        start, stop = map(int, run.split(" ")[0].split(":"))
        whole = by_name[picture.rsplit("/", 1)[1]]
        assert 0 < stop - start < len(whole.digits) and (start == 0 or stop == len(whole.digits))
        cut = part.boxes[0]
        run_box = union_box(whole.boxes[start:stop])  # the same box, moved into the cut-out's coordinates
        assert (cut.width, cut.height) == pytest.approx((run_box.width, run_box.height))
    crops = load_crops(tmp_path / "parts", tmp_path / "cache", quiet=True)
    assert (crops.targets[:, 0] == 0).all()  # every part reads as "no number"
    proc = run_module("scripts.partial_numbers", "--data", svhn / "recon" / "test", "--out", tmp_path / "x")
    assert proc.returncode == 2 and "test split" in proc.stderr


def test_draws_take_their_bounds_in_either_order():
    """numpy 2.5 refuses rng.uniform(a, b) with b < a, which a sign wider than a small frame asks for: `between`
    draws what uniform drew before (same stream, same value), and a facade smaller than its signs still draws."""
    from PIL import Image

    from train.synth import facade
    from train.synth.draws import between

    a, b = np.random.default_rng(4), np.random.default_rng(4)
    assert [between(a, 0.2, 7.5) for _ in range(5)] == [b.uniform(0.2, 7.5) for _ in range(5)]
    assert 2.0 <= between(a, 5.0, 2.0) <= 5.0
    for seed in range(20):
        im = Image.new("RGB", (24, 12))
        facade.sign(np.random.default_rng(seed), im, 24, 12)  # glyphs of 8 px and more: wider than the frame


def test_photographs_replace_the_drawn_house_front(tmp_path, svhn):
    """--photos: the background is a crop of one of the folder's photographs, in the frame's aspect; the frames
    are still deterministic, and the record names the folder."""
    photos = tmp_path / "photos"
    photos.mkdir()
    halves = np.zeros((300, 400, 3), np.uint8)
    halves[:, :200] = (200, 30, 30)
    halves[:, 200:] = (30, 200, 30)
    Image.fromarray(halves).save(photos / "halves.png")
    rng = np.random.default_rng(0)
    for _ in range(5):
        wall = photo_background(rng, photos, 192, 144)
        assert wall.shape == (144, 192, 3)
        assert np.all(wall[..., 2] == 30)  # every pixel comes from the photograph: red, green or their seam
        assert (wall[..., 0] > 150).any() or (wall[..., 1] > 150).any()
    spec = SceneSpec(size=(192, 144), empty_share=0.5, photos=photos)
    out = write_scenes(tmp_path / "p", 4, seed=5, spec=spec, workers=1, progress=False)
    drawn = write_scenes(tmp_path / "d", 4, seed=5, spec=SceneSpec(size=(192, 144), empty_share=0.5), workers=1,
                         progress=False)
    assert all(hashes(out)[f"{i}.png"] != hashes(drawn)[f"{i}.png"] for i in range(1, 5))
    assert json.loads((out / "synth.json").read_text())["photos"] == str(photos)
    assert hashes(out) == hashes(write_scenes(tmp_path / "p2", 4, seed=5, spec=spec, workers=2, progress=False))


def test_a_photos_folder_without_pictures_or_with_a_broken_one_is_refused(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    args = ("scenes", "--out", tmp_path / "o", "--count", "2", "--size", "192x144", "--photos", photos,
            "--workers", "1")
    proc = run_module("train.synth", *args)
    assert proc.returncode == 2 and "not a folder of pictures" in proc.stderr and "Traceback" not in proc.stderr
    (photos / "wall.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    proc = run_module("train.synth", *args)
    assert proc.returncode == 2 and "wall.jpg" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()


def test_cli_draws_numbers_in_the_height_range_asked_for(tmp_path):
    """--height-range (close-ups past the 5-40% the detector trains on) and --two-share reach the frames."""
    out = tmp_path / "close"
    proc = run_module("train.synth", "scenes", "--out", out, "--count", "4", "--seed", "2", "--size", "320x240",
                      "--height-range", "0.5,0.6", "--empty-share", "0", "--two-share", "0", "--workers", "1",
                      "--quiet")
    assert proc.returncode == 0, proc.stderr
    frames = read_scenes(out)
    assert all(len(f.numbers) == 1 for f in frames)
    for f in frames:
        h = union_box(f.numbers[0].boxes).height / 240
        assert 0.45 <= h <= 0.66, (f.name, h)  # 50-60%, give or take the frame's perspective
    proc = run_module("train.synth", "scenes", "--out", tmp_path / "x", "--count", "2", "--height-range", "0.5,0.2")
    assert proc.returncode == 2 and "0 < LO < HI <= 1" in proc.stderr and "Traceback" not in proc.stderr

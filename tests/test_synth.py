"""The synthetic house-number generator: format-1 output, boxes, determinism, command line."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edge_app.annotations import read_annotations
from edge_app.contract import Box, ContractError, digit_region, load_image, model_input
from train.synth import SynthError, colours, generate, stats

ROOT = Path(__file__).resolve().parents[1]


def hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def inside_share(box: Box, w: int, h: int) -> float:
    x0, y0 = max(0.0, box.left), max(0.0, box.top)
    x1, y1 = min(float(w), box.left + box.width), min(float(h), box.top + box.height)
    return max(0.0, x1 - x0) * max(0.0, y1 - y0) / (box.width * box.height)


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    return generate(tmp_path_factory.mktemp("synth") / "out", 40, seed=3, workers=1, progress=False)


def test_output_reads_back_as_format1(made):
    annotations = read_annotations(made)
    assert [a.name for a in annotations] == [f"{i}.png" for i in range(1, 41)]
    expected = [a.name for a in annotations] + ["digitStruct.csv", "synth.json"]
    assert sorted(p.name for p in made.iterdir()) == sorted(expected)
    for a in annotations:
        image = load_image(made / a.name)
        h, w = image.shape[:2]
        assert 1 <= len(a.digits) <= 5 and len(a.boxes) == len(a.digits)
        assert all(0 <= d <= 9 for d in a.digits)
        assert all(inside_share(b, w, h) > 0.8 for b in a.boxes), a
        assert [b.left for b in a.boxes] == sorted(b.left for b in a.boxes)  # left to right
        assert model_input(image, digit_region(a.boxes)).shape == (54, 54, 3)


def test_same_seed_same_bytes_whatever_the_workers(made, tmp_path):
    two = generate(tmp_path / "two", 40, seed=3, workers=2, progress=False)
    assert hashes(two) == hashes(made)
    # Picture i depends on (seed, i) only, so a shorter run repeats the first pictures exactly.
    short = hashes(generate(tmp_path / "short", 5, seed=3, workers=1, progress=False))
    assert {k: v for k, v in short.items() if k.endswith(".png")} == {
        f"{i}.png": hashes(made)[f"{i}.png"] for i in range(1, 6)
    }


def test_other_seed_other_pictures(made, tmp_path):
    other = hashes(generate(tmp_path / "other", 5, seed=4, workers=1, progress=False))
    assert all(other[f"{i}.png"] != hashes(made)[f"{i}.png"] for i in range(1, 6))


def test_refuses_non_empty_folder_unless_forced(tmp_path):
    out = tmp_path / "full"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(SynthError, match="not empty"):
        generate(out, 2, workers=1, progress=False)
    assert (out / "keep.txt").read_text() == "mine"
    generate(out, 2, workers=1, force=True, progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["1.png", "2.png", "digitStruct.csv", "synth.json"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folder left


def test_real_digit_numbers(svhn, tmp_path):
    out = generate(
        tmp_path / "real", 12, workers=1, real_digits=svhn / "format2_train_dev", real_share=1.0, progress=False
    )
    for a in read_annotations(out):
        image = load_image(out / a.name)
        assert all(inside_share(b, image.shape[1], image.shape[0]) > 0.99 for b in a.boxes)


def test_real_digits_refuses_test_crops(svhn, tmp_path):
    with pytest.raises(ContractError, match="train"):
        generate(tmp_path / "bad", 2, workers=1, real_digits=svhn / "format2_test_dev", progress=False)


def test_length_table_matches_real_train_split(svhn):
    real = stats.measure(svhn / "format1_annotations" / "train_digitStruct.csv")
    assert abs(real["length_p"][2] - stats.LENGTH_P[1]) < 1e-4
    assert np.allclose(real["first_digit_p"], stats.FIRST_DIGIT_P, atol=1e-3)
    rng = np.random.default_rng(0)
    lengths = np.bincount([len(stats.sample_digits(rng)) for _ in range(4000)], minlength=6)[1:] / 4000
    assert np.allclose(lengths, stats.LENGTH_P, atol=0.03)


def test_colour_pair_measurement():
    image = np.full((40, 60, 3), 100, np.uint8)
    image[10:30, 22:26] = 200  # a vertical stroke inside the box
    fg, bg = colours.measure_pair(image, [Box(20, 10, 10, 20)])
    assert np.allclose(bg, 100) and np.allclose(fg, 200)
    assert colours.pairs().shape[1:] == (2, 3) and len(colours.pairs()) > 400


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "train.synth", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_cli_writes_pictures(tmp_path):
    r = run_cli("--out", str(tmp_path / "d"), "--count", "60", "--seed", "7")
    assert r.returncode == 0, r.stderr
    assert len(list((tmp_path / "d").glob("*.png"))) == 60
    assert len(read_annotations(tmp_path / "d")) == 60


@pytest.mark.parametrize(
    "args",
    [
        ["--count", "3"],  # no --out
        ["--out", "OUT", "--count", "0"],
        ["--out", "OUT", "--count", "many"],
        ["--out", "OUT", "--count", "3", "--workers", "0"],
        ["--out", "FULL", "--count", "3"],
    ],
)
def test_cli_errors_are_one_line(tmp_path, args):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    args = [str(tmp_path / "out") if a == "OUT" else str(tmp_path / "full") if a == "FULL" else a for a in args]
    r = run_cli(*args)
    assert r.returncode != 0
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "out").exists()


def test_provenance_tells_whether_real_crops_went_in(tmp_path, svhn):
    from export.sidecar import is_clean_synthetic
    from train.synth.generate import generate

    clean = generate(tmp_path / "clean", 4, seed=1, workers=1, progress=False)
    mixed = generate(tmp_path / "mixed", 4, seed=1, workers=1, progress=False,
                     real_digits=svhn / "format2_train_dev")
    assert json.loads((clean / "synth.json").read_text())["real_digits"] is None
    assert is_clean_synthetic(clean) and not is_clean_synthetic(mixed)
    assert not is_clean_synthetic(svhn / "recon" / "train")  # real SVHN pictures are never clean


def test_focus_aims_at_the_measured_mistakes(tmp_path):
    # Lengths 3-4 and the digits 1/7 drawn more often; the plain generator keeps the real frequencies.
    rng = np.random.default_rng(0)
    numbers = [stats.sample_digits(rng, focus=True) for _ in range(4000)]
    lengths = np.bincount([len(n) for n in numbers], minlength=6)[1:] / len(numbers)
    assert lengths[3] > 2.5 * stats.LENGTH_P[3] and lengths[2] > 1.2 * stats.LENGTH_P[2]
    later = np.bincount([d for n in numbers for d in n[1:]], minlength=10) / sum(len(n) - 1 for n in numbers)
    assert later[7] > 1.3 * stats.OTHER_DIGIT_P[7] and later[1] > 1.2 * stats.OTHER_DIGIT_P[1]
    out = generate(tmp_path / "focus", 6, seed=3, workers=1, progress=False, focus=True)
    assert json.loads((out / "synth.json").read_text())["focus"] is True
    for a in read_annotations(out):
        assert 1 <= len(a.digits) <= 5 and load_image(out / a.name).ndim == 3


def test_modern_plates_set_their_digits_wide_and_label_every_digit(tmp_path):
    """--plates draws today's plates (plates.py): wide-set digits, each with its own box inside the picture."""
    from train.synth.render import render

    gaps, plain_gaps = [], []
    for i in range(40):
        for share, into in ((1.0, gaps), (0.0, plain_gaps)):
            p = render(np.random.default_rng([9, i]), plates_share=share)
            assert len(p.digits) == len(p.boxes) >= 1
            for b in p.boxes:  # the picture's edge may cut a tenth of the first or last digit, as render's margins do
                assert b.left >= -0.15 * b.width and b.left + b.width <= p.image.width + 0.15 * b.width
            into += [(b.left - a.left - a.width) / a.height for a, b in zip(p.boxes, p.boxes[1:])]
    assert np.median(gaps) > np.median(plain_gaps) + 0.05, (np.median(gaps), np.median(plain_gaps))
    out = generate(tmp_path / "plates", 4, seed=3, workers=1, progress=False, plates=0.5)
    assert json.loads((out / "synth.json").read_text())["plates"] == 0.5
    assert [a.digits for a in read_annotations(out)] == [
        a.digits for a in read_annotations(generate(tmp_path / "again", 4, seed=3, workers=2, progress=False,
                                                    plates=0.5))]

"""Cluttered scenes (train/synth/clutter.py): things that are not numbers, drawn only where asked for."""

import hashlib
import json

import numpy as np
import pytest
from PIL import Image

from edge_app.scenes import read_scenes
from tests.conftest import run_main
from train.synth import clutter
from train.synth.scenes import SceneSpec
from train.synth.scenes_write import write_scenes


def hashes(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.png"))}


def test_clutter_zero_never_draws_it_and_a_share_of_one_draws_it_on_every_frame(tmp_path, monkeypatch):
    plain = write_scenes(tmp_path / "plain", 8, seed=3, spec=SceneSpec(size=(192, 144)), workers=1, progress=False)
    full = write_scenes(tmp_path / "full", 8, seed=3, spec=SceneSpec(size=(192, 144), clutter=1.0), workers=1,
                        progress=False)
    a, b = hashes(plain), hashes(full)
    assert a.keys() == b.keys() and all(a[k] != b[k] for k in a)
    assert json.loads((full / "synth.json").read_text())["clutter"] == 1.0

    # At 0 the generator draws no extra random number, so folders made before clutter existed stay the same.
    def refuse(*_):
        raise AssertionError("clutter drawn at share 0")

    monkeypatch.setattr(clutter, "background", refuse)
    again = write_scenes(tmp_path / "again", 8, seed=3, spec=SceneSpec(size=(192, 144)), workers=1, progress=False)
    assert hashes(again) == a


def test_cluttered_folders_are_deterministic_and_keep_their_boxes_inside(tmp_path):
    spec = SceneSpec(size=(192, 144), clutter=0.5, empty_share=0.3)
    one = write_scenes(tmp_path / "one", 10, seed=11, spec=spec, workers=1, progress=False)
    two = write_scenes(tmp_path / "two", 10, seed=11, spec=spec, workers=2, progress=False)
    assert hashes(one) == hashes(two)
    for f in read_scenes(one):
        for b in (b for n in f.numbers for b in n.boxes):
            assert 0 <= b.left and b.left + b.width <= 192 and 0 <= b.top and b.top + b.height <= 144


@pytest.mark.parametrize("size", [(64, 48), (192, 144), (640, 480)])
def test_each_thing_draws_at_any_frame_size(size):
    w, h = size
    for thing in clutter.THINGS:
        changed = 0
        for seed in range(25):
            im = Image.new("RGB", size, (128, 128, 128))
            thing(np.random.default_rng(seed), im, w, h)
            changed += bool(np.ptp(np.asarray(im)))
        assert changed >= 15, (thing.__name__, size, changed)  # most land in view; some fall past the edge
    for seed in range(10):
        out = clutter.background(np.random.default_rng(seed), w, h)
        assert out.size == size and out.mode == "RGB"


def test_cli_clutter_share_is_recorded_and_an_impossible_one_refused(tmp_path):
    out = tmp_path / "c"
    proc = run_main("train.synth", "scenes", "--out", out, "--count", "2", "--size", "192x144", "--clutter", "0.5",
                    "--workers", "1", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "synth.json").read_text())["clutter"] == 0.5
    proc = run_main("train.synth", "scenes", "--out", tmp_path / "x", "--count", "2", "--clutter", "1.5")
    assert proc.returncode == 2 and "--clutter" in proc.stderr and "Traceback" not in proc.stderr

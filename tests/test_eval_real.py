"""scripts/eval_real.py, the measurement behind the real-photograph figures: its fixed split into a tuning and a dev
half, and a run on the tuning half whose summary agrees with its own per-photo records, with the contact sheet.
Real photographs from ../shared/data/real_numbers (DoorDetect, Open Images, CC BY 2.0; evaluation and tuning only)."""

import json

from PIL import Image

from scripts.eval_real import DATA, load_set, split
from tests.conftest import run_module


def test_the_split_is_fixed_and_halves_every_set():
    labelled, empty = load_set(DATA, "all")
    for names in (list(labelled), empty):
        tune, dev = split(names, "tune"), split(names, "dev")
        assert not set(tune) & set(dev) and sorted(tune + dev) == sorted(names)
        assert abs(len(tune) - len(dev)) <= 1
        assert split(list(reversed(names)), "dev") == dev  # by name alone, not by order


def test_a_run_on_the_tuning_half_agrees_with_its_own_records(tmp_path):
    out, sheet = tmp_path / "tune.json", tmp_path / "sheet.png"
    proc = run_module("scripts.eval_real", "--split", "tune", "--json", out, "--sheet", sheet, timeout=300)
    assert proc.returncode == 0, proc.stderr
    run = json.loads(out.read_text())
    labelled, empty = load_set(DATA, "tune")
    photos, s = run["photos"], run["summary"]
    assert {p["file"] for p in photos} == set(labelled) | set(empty)

    def passes(p):
        return bool("detect" in p and p["detect"]["reading"] and p["detect"]["confidence"] >= run["gate"])

    d = s["detect"]
    assert d["readings"] == sum(map(passes, photos))
    assert d["read_right"] == sum(passes(p) and p["detect"]["reading"] in p["truth"] for p in photos)
    assert d["false_on_empty"] == sum(passes(p) and not p["truth"] for p in photos)
    assert (d["photos_with_number"], d["empty_photos"]) == (len(labelled), len(empty))
    numbers = sum(len(v) for v in labelled.values())
    assert s["true_boxes"]["numbers"] == numbers == sum(b["numbers"] for b in s["by_height"].values())
    assert all(b["found"] <= b["numbers"] and b["read_right"] <= b["numbers"] for b in s["by_height"].values())
    assert s["ms"]["p50"] > 0
    with Image.open(sheet) as im:
        assert im.width > 500 and im.height > 300

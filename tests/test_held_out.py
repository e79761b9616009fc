"""Held-out pictures stay unseen: train.synth --hold-out leaves their real digit crops out, and training says
when a run's validation pictures lent their digits to its synthetic numbers (recon/train is rebuilt from
format2_train_dev's crops, so without --hold-out a reader has seen every digit of its validation pictures)."""

import csv
import json
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image

from edge_app.annotations import read_annotations, write_csv
from train.folders import load_splits, split_indices
from train.leaks import seen_validation
from train.synth.generate import generate
from train.synth.real_digits import load_crops

from .conftest import ROOT, run_main


def _copy_pictures(src, dst, names):
    dst.mkdir()
    keep = [a for a in read_annotations(src) if a.name in names]
    for a in keep:
        shutil.copyfile(src / a.name, dst / a.name)
    write_csv(dst / "digitStruct.csv", keep)
    return dst


def _validation_names(folder, fraction=0.1, seed=0):
    names = [a.name for a in read_annotations(folder)]  # the crop cache keeps the labels' order
    _, val = split_indices(len(names), fraction, seed)
    return {names[i] for i in val}


def test_hold_out_leaves_the_pictures_digits_out(tmp_path, svhn):
    crops_dir = svhn / "format2_train_dev"
    held = _copy_pictures(svhn / "recon" / "train", tmp_path / "held", {"1.png", "2.png", "3.png", "5.png"})
    out = generate(tmp_path / "synth", 6, seed=2, workers=1, progress=False, real_digits=crops_dir, real_share=1.0,
                   hold_out=[held])
    record = json.loads((out / "synth.json").read_text())
    assert record["real_digits_held_out"] == ["1.png", "2.png", "3.png", "5.png"]

    with open(crops_dir / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    held_rows = [r for r in rows if r["format1_image"] in set(record["real_digits_held_out"])]
    assert len(held_rows) >= 8  # those four pictures hold at least two digits each
    kept = load_crops(crops_dir, frozenset(record["real_digits_held_out"]))
    everything = load_crops(crops_dir)
    assert sum(map(len, everything.values())) - sum(map(len, kept.values())) == len(held_rows)
    pool = {c.image.tobytes() for group in kept.values() for c in group}
    for r in held_rows:  # not one held-out crop is left to compose from
        assert np.asarray(Image.open(crops_dir / "images" / r["file"]).convert("RGB")).tobytes() not in pool


def test_hold_out_refuses_other_pictures_and_needs_real_digits(tmp_path, svhn):
    test_pictures = _copy_pictures(svhn / "recon" / "test", tmp_path / "test_pics", {"1.png", "2.png"})
    r = run_main("train.synth", "--out", tmp_path / "a", "--count", 3, "--real-digits", svhn / "format2_train_dev",
                 "--hold-out", test_pictures)
    assert r.returncode == 2 and "not the SVHN train pictures of that name" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "a").exists()
    r = run_main("train.synth", "--out", tmp_path / "b", "--count", 3, "--hold-out", test_pictures)
    assert r.returncode == 2 and "needs --real-digits" in r.stderr and not (tmp_path / "b").exists()


def test_training_says_when_validation_pictures_were_seen(tmp_path, svhn, caplog):
    recon = svhn / "recon" / "train"
    seen = generate(tmp_path / "seen", 20, seed=4, workers=1, progress=False, real_digits=svhn / "format2_train_dev")
    val = _validation_names(recon)
    held = _copy_pictures(recon, tmp_path / "val_recon", val)
    unseen = generate(tmp_path / "unseen", 20, seed=4, workers=1, progress=False,
                      real_digits=svhn / "format2_train_dev", hold_out=[held])
    plain = generate(tmp_path / "plain", 20, seed=4, workers=1, progress=False)

    lines = seen_validation(load_splits(f"{seen},{recon}", 0.1, 0))
    assert len(lines) == 1 and f"{len(val)} of the {len(val)} validation pictures of recon/train" in lines[0]
    assert "--hold-out" in lines[0]
    assert seen_validation(load_splits(f"{unseen},{recon}", 0.1, 0)) == []
    assert seen_validation(load_splits(f"{plain},{recon}", 0.1, 0)) == []
    # another split draws other validation pictures, which the held-out folder does not cover
    assert seen_validation(load_splits(f"{unseen},{recon}", 0.1, 1)) != []

    from train.config import TrainConfig
    from train.tasks import ReaderTask

    caplog.set_level("WARNING", logger="train")
    ReaderTask().load(TrainConfig(data=f"{seen},{recon}", out=str(tmp_path / "run")))
    assert any("lend their digits" in r.getMessage() for r in caplog.records)


def test_validation_pictures_of_a_run_still_to_be_trained(tmp_path, svhn):
    """Drawn before the run (train's seed 0 and --val-fraction), so that train.synth can hold them out."""
    recon = svhn / "recon" / "train"
    proc = subprocess.run([sys.executable, "scripts/validation_pictures.py", "--folder", recon, "--val-fraction", "0.2",
                           "--out", tmp_path / "val"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    val = _validation_names(recon, 0.2)
    assert {p.name for p in (tmp_path / "val").glob("*.png")} == val and len(val) == 100
    refused = subprocess.run([sys.executable, "scripts/validation_pictures.py", "--run", tmp_path, "--folder", recon,
                              "--val-fraction", "0.2", "--out", tmp_path / "v2"], cwd=ROOT, capture_output=True,
                             text=True, timeout=300)
    assert refused.returncode == 2 and "--val-fraction is for a run still to be trained" in refused.stderr

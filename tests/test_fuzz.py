"""Seeded, time-bounded fuzzing: mutated pictures and label files through the loader, cache, app and evaluate.

Every mutated input must give a picture or one ContractError/DataError line, never a traceback or a
death by signal. FUZZ_SEED and FUZZ_SECONDS (default 16 s for the whole module) change the run.
"""

import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from edge_app.annotations import write_csv
from edge_app.contract import Box, ContractError, crop_region, load_image
from edge_app.interpreter import DEFAULT_MODEL

from .conftest import ROOT, run_module
from .hostile import FORMATS, encoded_pictures, mutate, mutate_csv

SEED = int(os.environ.get("FUZZ_SEED", "20261126"))
SECONDS = float(os.environ.get("FUZZ_SECONDS", "16"))


@pytest.fixture(scope="module")
def seeds(svhn):
    """Real pictures encoded in each format, and their annotations."""
    return encoded_pictures(svhn / "recon" / "test", 6)


def test_mutated_pictures_load_or_give_one_contract_error(seeds, tmp_path):
    anns, encoded = seeds
    rng = np.random.default_rng(SEED)
    keys = sorted(encoded)
    deadline, tried, read = time.perf_counter() + SECONDS * 0.4, 0, 0
    while time.perf_counter() < deadline:
        name, ext = keys[int(rng.integers(0, len(keys)))]
        path = tmp_path / f"case{tried}.{ext}"
        path.write_bytes(mutate(encoded[(name, ext)], rng))
        try:
            image = load_image(path)
        except ContractError as err:
            assert "\n" not in str(err) and path.name in str(err)
        else:
            assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
            h, w = image.shape[:2]
            assert crop_region(image, Box(w * 0.1, h * 0.1, w * 0.8, h * 0.8)).shape == (64, 64, 3)
            read += 1
        path.unlink()
        tried += 1
    assert tried >= 50, f"only {tried} cases in the time budget"
    print(f"fuzz: {tried} mutated pictures, {read} still readable")


def test_mutated_folders_through_the_cache_the_app_and_evaluate(seeds, tmp_path):
    anns, encoded = seeds
    rng = np.random.default_rng(SEED + 1)
    deadline = time.perf_counter() + SECONDS * 0.6
    rounds = 0
    while rounds == 0 or time.perf_counter() < deadline:
        folder = tmp_path / f"round{rounds}"
        folder.mkdir()
        renamed = []
        for i, a in enumerate(anns):  # each picture in a random format, half of them mutated
            ext = list(FORMATS)[int(rng.integers(0, len(FORMATS)))]
            data = encoded[(a.name, ext)]
            (folder / f"{i + 1}.{ext}").write_bytes(mutate(data, rng) if rng.random() < 0.5 else data)
            renamed.append(a._replace(name=f"{i + 1}.{ext}"))
        write_csv(folder / "digitStruct.csv", renamed)
        csv = folder / "digitStruct.csv"
        csv.write_text(mutate_csv(csv.read_text(), rng))
        for args in (["edge_app", "--source", folder, "--scan", "--threshold", "0", "-q"],
                     ["edge_app", "--source", folder, "--boxes", "--threshold", "0", "-q"],
                     ["train.evaluate", "--model", DEFAULT_MODEL, "--data", folder, "-q"],
                     ["train.evaluate", "--model", DEFAULT_MODEL, "--data", folder, "--skip-bad", "-q",
                      "--json", folder / "eval.json"]):
            proc = run_module(*args, env={"HOUSE_NUMBERS_CACHE": str(tmp_path / "cache")}, timeout=120)
            assert proc.returncode in (0, 1, 2) and "Traceback" not in proc.stderr, (args, proc.stderr[-3000:])
            if proc.returncode:
                errors = [line for line in proc.stderr.splitlines() if "error:" in line]
                assert len(errors) == 1, (args, proc.stderr[-3000:])
        rounds += 1
        if rounds >= 4:
            break
    assert rounds >= 1


def test_mutated_digitstruct_mat_gives_labels_or_one_error(svhn, tmp_path):
    # In a child process: a corrupt HDF5 file must not take the reader down with a signal.
    rng = np.random.default_rng(SEED + 2)
    original = (svhn / "format1_samples" / "test" / "digitStruct.mat").read_bytes()
    folders = []
    for i in range(12):
        folder = tmp_path / f"mat{i}"
        folder.mkdir()
        (folder / "digitStruct.mat").write_bytes(mutate(original, rng) if i else original[: len(original) // 2])
        folders.append(str(folder))
    code = ("import sys\nfrom edge_app.annotations import read_labels\nfrom edge_app.contract import ContractError\n"
            "for f in sys.argv[1:]:\n    try:\n        labels = read_labels(f)\n"
            "        print('ok', len(labels.annotations), len(labels.bad))\n"
            "    except ContractError as err:\n        assert '\\n' not in str(err)\n        print('error')\n")
    proc = subprocess.run([sys.executable, "-c", code, *folders], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert len(proc.stdout.splitlines()) == 12
    # The same files through the cache: one line, exit 2, or a cache of the good pictures.
    pictures = svhn / "format1_samples" / "test"
    folder = tmp_path / "mat3"
    for name in sorted(os.listdir(pictures))[:10]:
        if name.endswith(".png"):
            shutil.copyfile(pictures / name, folder / name)
    proc = run_module("train.evaluate", "--model", DEFAULT_MODEL, "--data", folder, "--skip-bad", "-q",
                      env={"HOUSE_NUMBERS_CACHE": str(tmp_path / "cache")})
    assert proc.returncode in (0, 2) and "Traceback" not in proc.stderr, proc.stderr[-3000:]

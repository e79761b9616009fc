"""The preprocessed crop cache: built once, reused when fresh, rebuilt when stale, never used partial."""

import json
import shutil

import numpy as np
import pytest

from edge_app.annotations import read_annotations
from edge_app.contract import crop_region, digit_region, encode_label, load_image
from tests.conftest import run_module
from train.cache import DataError, cache_dir, load_crops


def _invert(path):
    from PIL import Image

    Image.fromarray(255 - load_image(path)).save(path)


@pytest.fixture
def folder(svhn, tmp_path):
    """A private copy of 30 recon/train pictures, so the test may change them."""
    src = svhn / "recon" / "train"
    dst = tmp_path / "train"
    dst.mkdir()
    lines = (src / "digitStruct.csv").read_text().splitlines()
    names = [a.name for a in read_annotations(src)[:30]]
    for n in names:
        shutil.copy(src / n, dst / n)
    keep = [lines[0]] + [line for line in lines[1:] if line.split(";")[0] in names]
    (dst / "digitStruct.csv").write_text("\n".join(keep) + "\n")
    return dst


def test_cache_holds_the_contract_crops(folder, tmp_path):
    crops = load_crops(folder, tmp_path / "cache", quiet=True)
    anns = read_annotations(folder)
    assert len(crops) == 30 and crops.regions.shape == (30, 64, 64, 3) and crops.regions.dtype == np.uint8
    a = anns[7]
    expected = crop_region(load_image(folder / a.name), digit_region(a.boxes))
    assert np.array_equal(crops.regions[7], expected)
    assert np.array_equal(crops.targets[7], encode_label(a.digits))
    assert crops.names == [x.name for x in anns]


def test_a_negative_region_is_cached_with_a_length_0_target(folder, tmp_path):
    from edge_app.annotations import Annotation, write_csv
    from edge_app.contract import Box

    anns = read_annotations(folder)[:3]
    write_csv(folder / "digitStruct.csv", [*anns[:2], Annotation(anns[2].name, (), (Box(2, 3, 20, 25),))])
    crops = load_crops(folder, tmp_path / "cache", quiet=True)
    expected = crop_region(load_image(folder / anns[2].name), digit_region((Box(2, 3, 20, 25),)))
    assert np.array_equal(crops.regions[2], expected)
    assert crops.targets[2].tolist() == [0, 10, 10, 10, 10, 10]  # length 0, no digit in any position


def test_fresh_cache_is_reused_and_stale_one_rebuilt(folder, tmp_path):
    root = tmp_path / "cache"
    load_crops(folder, root, quiet=True)
    manifest = cache_dir(folder, root) / "manifest.json"
    stamp = manifest.stat().st_mtime_ns
    load_crops(folder, root, quiet=True)
    assert manifest.stat().st_mtime_ns == stamp  # reused, not rebuilt
    # Change one picture: the cache must notice and rebuild.
    _invert(folder / "1.png")
    crops = load_crops(folder, root, quiet=True)
    assert manifest.stat().st_mtime_ns != stamp
    a = read_annotations(folder)[0]
    assert np.array_equal(crops.regions[0], crop_region(load_image(folder / "1.png"), digit_region(a.boxes)))


def test_partial_cache_is_never_used(folder, tmp_path):
    root = tmp_path / "cache"
    load_crops(folder, root, quiet=True)
    where = cache_dir(folder, root)
    (where / "manifest.json").unlink()  # as if the build was interrupted before its last write
    np.save(where / "regions.npy", np.zeros((30, 64, 64, 3), np.uint8))
    crops = load_crops(folder, root, quiet=True)
    assert crops.regions.any() and (where / "manifest.json").exists()


def test_cache_of_another_folder_is_not_taken(folder, tmp_path, svhn):
    root = tmp_path / "cache"
    other = tmp_path / "other" / "train"  # same folder name, other place, other pictures
    shutil.copytree(folder, other)
    _invert(other / "1.png")
    a, b = load_crops(folder, root, quiet=True), load_crops(other, root, quiet=True)
    assert cache_dir(folder, root) != cache_dir(other, root)
    assert not np.array_equal(a.regions[0], b.regions[0])
    manifest = json.loads((cache_dir(other, root) / "manifest.json").read_text())
    assert manifest["fingerprint"]["source"] == str(other.resolve())


def test_truncated_picture_is_one_clear_error(folder, tmp_path):
    data = (folder / "5.png").read_bytes()
    (folder / "5.png").write_bytes(data[: len(data) // 3])
    with pytest.raises(DataError, match="5.png") as err:
        load_crops(folder, tmp_path / "cache", quiet=True)
    assert "--skip-bad" in str(err.value) and "\n" not in str(err.value)
    assert not any((tmp_path / "cache").glob("*/manifest.json"))  # nothing that looks complete
    crops = load_crops(folder, tmp_path / "cache", skip_bad=True, quiet=True)
    assert len(crops) == 29 and "5.png" not in crops.names


def test_box_outside_the_picture_is_refused(folder, tmp_path):
    lines = (folder / "digitStruct.csv").read_text().splitlines()
    name = lines[1].split(";")[0]
    lines = [lines[0], f"{name};3;5000;5000;20;10"] + [line for line in lines[1:] if not line.startswith(name + ";")]
    (folder / "digitStruct.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="outside"):
        load_crops(folder, tmp_path / "cache", quiet=True)


def test_training_on_a_corrupt_folder_says_so_in_one_line(folder, tmp_path):
    (folder / "5.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    proc = run_module("train", "--data", folder, "--out", tmp_path / "run", "--steps", "2",
                      env={"HOUSE_NUMBERS_CACHE": str(tmp_path / "cache")})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert [line for line in proc.stderr.splitlines() if line.startswith("error:")][0].count("5.png") >= 1
    assert not (tmp_path / "run").exists()  # no run folder holding only config.json

"""One reader for digitStruct.mat (official layout) and digitStruct.csv, on the real files."""

import csv

import h5py
import numpy as np
import pytest

from edge_app.annotations import Annotation, read_annotations, read_csv, read_mat, write_csv
from edge_app.contract import Box, ContractError


@pytest.mark.parametrize("split,count", [("train", 39), ("test", 40), ("extra", 40)])
def test_official_samples_match_the_full_annotations(svhn, split, count):
    got = read_mat(svhn / "format1_samples" / split / "digitStruct.mat")
    assert len(got) == count
    assert [a.name for a in got[:3]] == ["1.png", "2.png", "3.png"]
    if split == "extra":
        return  # no independent CSV of the extra split
    # The official .mat agrees box by box with the independent CSV conversion of the full split.
    full = {}
    with open(svhn / "format1_annotations" / f"{split}_digitStruct.csv") as f:
        for row in csv.DictReader(f, delimiter=";"):
            full.setdefault(row["name"], []).append(row)
    for a in got:
        rows = full[a.name]
        assert a.digits == tuple(int(r["label"]) % 10 for r in rows)
        assert a.boxes == tuple(Box(float(r["left"]), float(r["top"]), float(r["width"]), float(r["height"])) for r in rows)


def test_single_box_and_multi_box_entries(svhn):
    got = read_mat(svhn / "format1_samples" / "test" / "digitStruct.mat")
    assert got[0].digits == (5,) and len(got[0].boxes) == 1  # scalar fields
    assert got[1].digits == (2, 1, 0) and len(got[1].boxes) == 3  # lists of references


@pytest.mark.parametrize("folder", ["recon/train", "recon/test"])
def test_recon_mat_and_csv_agree(svhn, folder):
    mat = read_mat(svhn / folder / "digitStruct.mat")
    assert mat == read_csv(svhn / folder / "digitStruct.csv")
    assert len(mat) == (498 if folder == "recon/train" else 2500)
    assert all(1 <= len(a.digits) <= 6 for a in mat)


def test_csv_round_trip(tmp_path):
    anns = [Annotation("1.png", (1, 0), (Box(1.0, 2.0, 3.0, 4.0), Box(4.0, 2.0, 3.0, 4.0)))]
    write_csv(tmp_path / "digitStruct.csv", anns)
    assert "1.png;10;" in (tmp_path / "digitStruct.csv").read_text()  # digit 0 written as SVHN's 10
    assert read_annotations(tmp_path) == anns


def test_not_hdf5_is_one_clear_error(tmp_path):
    (tmp_path / "digitStruct.mat").write_bytes(b"MATLAB 5.0 MAT-file, not v7.3")
    with pytest.raises(ContractError, match="not a valid SVHN digitStruct.mat"):
        read_annotations(tmp_path)


def test_hdf5_without_fields_is_one_clear_error(tmp_path):
    with h5py.File(tmp_path / "digitStruct.mat", "w") as f:
        f.create_dataset("something", data=np.zeros(3))
    with pytest.raises(ContractError, match="not a valid SVHN digitStruct.mat"):
        read_annotations(tmp_path)


def test_bad_csv_rows_and_headers(tmp_path):
    (tmp_path / "digitStruct.csv").write_text("name;label;top;left;height;width\n1.png;x;1;1;1;1\n")
    with pytest.raises(ContractError, match=":2: bad row"):
        read_annotations(tmp_path)
    (tmp_path / "digitStruct.csv").write_text("a,b\n")
    with pytest.raises(ContractError, match="header"):
        read_annotations(tmp_path)
    (tmp_path / "digitStruct.csv").write_text("name;label;top;left;height;width\n1.png;3;1;1;0;5\n")
    with pytest.raises(ContractError, match="empty box"):
        read_annotations(tmp_path)


def test_folder_without_labels(tmp_path):
    with pytest.raises(ContractError, match="neither"):
        read_annotations(tmp_path)

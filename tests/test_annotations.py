"""One reader for digitStruct.mat (official layout) and digitStruct.csv, on the real files."""

import csv

import h5py
import numpy as np
import pytest

from edge_app.annotations import Annotation, read_annotations, read_csv, read_labels, read_mat, write_csv
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
        assert a.boxes == tuple(Box(*(float(r[k]) for k in ("left", "top", "width", "height"))) for r in rows)


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


def test_a_negative_is_one_label_0_row_and_round_trips(tmp_path):
    anns = [Annotation("1.png", (), (Box(5.0, 6.0, 30.0, 20.0),)), Annotation("2.png", (7,), (Box(1, 2, 3, 4),))]
    write_csv(tmp_path / "digitStruct.csv", anns)
    assert "1.png;0;6.0;5.0;20.0;30.0" in (tmp_path / "digitStruct.csv").read_text()
    assert read_annotations(tmp_path) == anns
    with open(tmp_path / "digitStruct.csv", "a") as f:  # label 0 beside digits: that picture is left out
        f.write("2.png;0;1;1;5;5\n3.png;4;1;1;5;5\n3.png;0;1;1;5;5\n4.png\n")  # 4.png: a row cut short
    labels = read_labels(tmp_path)
    assert [a.name for a in labels.annotations] == ["1.png"]
    assert "4.png left out: field 'label' is missing" in labels.bad["4.png"]
    assert all("label 0 (no number) must be the picture's only row" in labels.bad[n] for n in ("2.png", "3.png"))


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
    with pytest.raises(ContractError, match=":2: 1.png left out: field 'label' is 'x', not a number"):
        read_annotations(tmp_path)
    (tmp_path / "digitStruct.csv").write_text("a,b\n")
    with pytest.raises(ContractError, match="header"):
        read_annotations(tmp_path)
    (tmp_path / "digitStruct.csv").write_text("name;label;top;left;height;width\n1.png;3;1;1;0;5\n")
    with pytest.raises(ContractError, match="field 'height' is '0': an empty box"):
        read_annotations(tmp_path)


def test_folder_without_labels(tmp_path):
    with pytest.raises(ContractError, match="neither"):
        read_annotations(tmp_path)


@pytest.mark.parametrize("row,field", [
    ("2.png;13;1;1;5;5", "'label' is '13', not an SVHN digit label"),
    ("2.png;3;nan;1;5;5", "'top' is 'nan', not a finite number"),
    ("2.png;3;1;inf;5;5", "'left' is 'inf', not a finite number"),
    ("2.png;3;1;1;5", "'width' is missing"),
    ("2.png;3.5;1;1;5;5", "'label' is '3.5'"),
])
def test_a_bad_csv_label_leaves_out_that_picture_naming_file_and_field(tmp_path, row, field):
    (tmp_path / "digitStruct.csv").write_text("name;label;top;left;height;width\n1.png;3;1;1;5;5\n"
                                              f"2.png;4;1;1;5;5\n{row}\n3.png;10;1;1;5;5\n")
    labels = read_labels(tmp_path)
    assert [a.name for a in labels.annotations] == ["1.png", "3.png"]
    assert list(labels.bad) == ["2.png"] and "digitStruct.csv:4: 2.png left out: field " + field in labels.bad["2.png"]


def test_a_bad_mat_label_leaves_out_that_picture(svhn, tmp_path):
    import shutil

    mat = tmp_path / "digitStruct.mat"
    shutil.copyfile(svhn / "format1_samples" / "test" / "digitStruct.mat", mat)
    with h5py.File(mat, "r+") as f:  # picture 1 (one box: scalars) gets a NaN top, picture 2 label 13
        bbox = f[f["digitStruct"]["bbox"][0][0]]
        bbox["top"][0, 0] = np.nan
        second = f[f["digitStruct"]["bbox"][1][0]]
        f[second["label"][0][0]][0, 0] = 13
    labels = read_labels(tmp_path)
    assert len(labels.annotations) == 38 and labels.annotations[0].name == "3.png"
    assert "1.png left out: field 'top' is nan" in labels.bad["1.png"] and str(mat) in labels.bad["1.png"]
    assert "2.png left out: field 'label' is 13.0, not an SVHN digit label" in labels.bad["2.png"]
    with pytest.raises(ContractError, match=r"1.png left out.*\(and 1 more\)"):
        read_annotations(tmp_path)

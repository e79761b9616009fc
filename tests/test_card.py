"""The model card: one typed owner, round trip through JSON, and the refusals a user can meet."""

import dataclasses
import json
import shutil

import pytest

from edge_app.inference.card import FORMAT, Gate, ModelCard, ModelError, read_card
from tests.conftest import ROOT
from tests.test_edge_app import app

SHIPPED = ROOT / "models" / "house_numbers.tflite"


def test_shipped_card_round_trips():
    card = read_card(SHIPPED, "reader")
    again = ModelCard.from_json(card.to_json())
    assert again == card and card.format == FORMAT and card.input_size == (54, 54)
    on_disk = json.loads(SHIPPED.with_suffix(".json").read_text())
    assert json.loads(card.to_json()) == on_disk  # nothing lost or added on the way through the dataclass
    assert 0.3 < card.gate.threshold < 1 and "validation" in card.gate.basis


def _with(tmp_path, change):
    """A copy of the shipped model whose card has been changed by `change(dict)`."""
    model = tmp_path / "m.tflite"
    shutil.copy(SHIPPED, model)
    d = json.loads(SHIPPED.with_suffix(".json").read_text())
    change(d)
    (tmp_path / "m.json").write_text(json.dumps(d))
    return model


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.update(format="house-numbers-model/1"), "re-export"),
        (lambda d: d.update(format="house-numbers-model/3"), "is not 'house-numbers-model/2'"),
        (lambda d: d.update(kind="classifier"), "kind 'classifier'"),
        (lambda d: d["outputs"].pop("digit5"), "needs outputs"),
        (lambda d: d["gate"].update(threshold=1.5), "not in 0..1"),
        (lambda d: d["training"].pop("licence"), "licence"),
        (lambda d: d.pop("gate"), "missing or has a malformed field"),
    ],
)
def test_bad_cards_are_refused_with_one_line(tmp_path, change, message):
    model = _with(tmp_path, change)
    with pytest.raises(ModelError, match=message):
        read_card(model, "reader")


def test_detector_card_is_refused_as_a_reader(tmp_path):
    def to_detector(d):
        d.update(kind="detector", outputs={"heatmap": d["outputs"]["length"], "box": d["outputs"]["digit1"]})

    model = _with(tmp_path, to_detector)
    with pytest.raises(ModelError, match="is a detector, but --model takes a reader"):
        read_card(model, "reader")
    proc = app("--model", model, "--source", ROOT / "docs", "--roi", "0,0,10,10")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "is a detector" in proc.stderr


def test_old_card_exits_2_in_the_app(tmp_path):
    model = _with(tmp_path, lambda d: d.update(format="house-numbers-model/1"))
    proc = app("--model", model, "--source", ROOT / "docs", "--roi", "0,0,10,10")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "house-numbers-model/1" in proc.stderr


def test_a_variant_without_a_gate_says_so_and_never_falls_to_zero(tmp_path, svhn):
    model = _with(tmp_path, lambda d: d.update(gate={"threshold": None, "basis": "no validation split"}))
    card = read_card(model, "reader")
    assert card.gate == Gate(None, "no validation split")
    picture = svhn / "recon" / "test" / "1.png"
    proc = app("--model", model, "--source", picture, "--roi", "0,0,40,30")
    assert proc.returncode == 2 and "no measured confidence gate (no validation split); pass --threshold" in proc.stderr
    proc = app("--model", model, "--source", picture, "--roi", "0,0,40,30", "--threshold", "0")
    assert proc.returncode == 0, proc.stderr


def test_card_fields_are_typed():
    card = read_card(SHIPPED, "reader")
    assert {f.name for f in dataclasses.fields(card)} >= {
        "format",
        "kind",
        "input",
        "outputs",
        "gate",
        "training",
        "calibration",
        "measured",
        "preprocessing",
    }
    assert card.outputs["length"].shape == (1, 7) and card.outputs["digit3"].quantization.scale == pytest.approx(
        1 / 256
    )


def test_a_card_beside_another_model_is_refused_in_one_line(tmp_path):
    """The clean model's card beside the SVHN model would give it the clean gate and licence: refused by sha256."""
    from edge_app.inference.reader import HouseNumberModel

    shutil.copy(ROOT / "models" / "house_numbers.tflite", tmp_path / "m.tflite")
    shutil.copy(ROOT / "models" / "house_numbers_clean.json", tmp_path / "m.json")
    with pytest.raises(ModelError, match="not the model its card m.json was written for") as err:
        HouseNumberModel(tmp_path / "m.tflite")
    assert "\n" not in str(err.value)
    shutil.copy(ROOT / "models" / "house_numbers.json", tmp_path / "m.json")
    assert HouseNumberModel(tmp_path / "m.tflite").card.training["licence"] == \
        HouseNumberModel(ROOT / "models" / "house_numbers.tflite").card.training["licence"]

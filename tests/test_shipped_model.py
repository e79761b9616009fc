"""The int8 model that ships in models/: it loads in the edge app, its card matches it, it is small."""

import numpy as np

from edge_app.inference.card import read_card
from edge_app.inference.reader import DEFAULT_MODEL, HouseNumberModel


def test_shipped_model_is_the_default_and_loads():
    assert DEFAULT_MODEL.is_file() and DEFAULT_MODEL.stat().st_size <= 2_000_000
    model = HouseNumberModel(DEFAULT_MODEL)
    length, digits = model.probabilities(np.zeros((54, 54, 3), np.uint8))
    assert length.shape == (7,) and digits.shape == (5, 11)
    assert abs(length.sum() - 1) < 0.05 and np.allclose(digits.sum(axis=1), 1, atol=0.05)


def test_card_matches_the_model():
    from ai_edge_litert.interpreter import Interpreter

    card = read_card(DEFAULT_MODEL, "reader")
    assert card.file == DEFAULT_MODEL.name and card.variant == "int8"
    interpreter = Interpreter(model_path=str(DEFAULT_MODEL))
    inp = interpreter.get_input_details()[0]
    assert card.input.shape == tuple(int(v) for v in inp["shape"]) and card.input.dtype == "uint8"
    assert (card.input.quantization.scale, card.input.quantization.zero_point) == inp["quantization"]
    outputs = {d["name"]: d for d in interpreter.get_output_details()}
    assert {t.name for t in card.outputs.values()} == set(outputs)
    for t in card.outputs.values():
        assert t.shape == tuple(int(v) for v in outputs[t.name]["shape"])
        assert (t.quantization.scale, t.quantization.zero_point) == outputs[t.name]["quantization"]


def test_card_tells_where_the_model_comes_from():
    card = read_card(DEFAULT_MODEL, "reader")
    assert "non-commercial" in card.training["licence"]
    assert not any("test" in f for f in card.training["folders"])  # never trained on test data
    assert not any("test" in f for f in card.calibration["folders"])
    assert 0 < card.gate.threshold < 1 and "validation" in card.gate.basis
    assert card.measured["sequence_accuracy"] > 0.5 and "recon/test" in card.measured["data"]


def test_synthetic_only_model_is_marked_commercially_clean():
    clean = DEFAULT_MODEL.with_name("house_numbers_clean.tflite")
    card = read_card(clean, "reader")
    assert card.training["licence"].startswith("trained on synthetic pictures only")
    assert all("svhn" not in f and "format2" not in f for f in card.training["folders"])
    assert all("svhn" not in f for f in card.calibration["folders"])  # calibrated on synthetic pictures too
    HouseNumberModel(clean)  # and it runs

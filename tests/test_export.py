"""Calibration and int8 export on a real tiny trained model: types, head mapping, sidecar, report, refusals."""

import json
import shutil
import stat
import subprocess
import sys

import numpy as np
import pytest

from edge_app.contract import HEADS
from edge_app.inference.card import file_sha256
from tests.conftest import ROOT, run_module


def test_calibration_is_stratified_and_remembers_its_provenance(tmp_path, svhn, synth):
    from calibration.build import load

    out = tmp_path / "calib.npz"
    proc = run_module("calibration", "--data", f"{synth},{svhn / 'recon' / 'train'}", "--count", "120",
                      "--out", out, "--seed", "3")
    assert proc.returncode == 0, proc.stderr
    inputs, prov = load(out)
    assert inputs.shape == (120, 54, 54, 3) and inputs.dtype == np.uint8
    assert sum(prov["per_length"].values()) == 120 and sum(prov["per_folder"].values()) == 120
    # stratified: every length present gets at least an even share, though 4-5 digit numbers are rare
    assert min(prov["per_length"].values()) >= 120 // len(prov["per_length"])
    again = tmp_path / "again.npz"
    run_module("calibration", "--data", f"{synth},{svhn / 'recon' / 'train'}", "--count", "120",
               "--out", again, "--seed", "3")
    assert np.array_equal(load(again)[0], inputs)  # reproducible with --seed


@pytest.mark.parametrize("folder", ["recon/test", "format2_test_dev"])
def test_calibration_refuses_test_data(tmp_path, svhn, folder):
    out = tmp_path / "calib.npz"
    proc = run_module("calibration", "--data", svhn / folder, "--count", "10", "--out", out)
    assert proc.returncode == 2 and "test split" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_int8_model_is_integer_only_with_raw_pixel_input(tiny_export):
    from ai_edge_litert.interpreter import Interpreter

    from export.convert import inspect, op_names

    path = tiny_export / "house_numbers.tflite"
    interpreter = Interpreter(model_path=str(path))
    inp = interpreter.get_input_details()[0]
    assert inp["dtype"] == np.uint8 and list(inp["shape"]) == [1, 54, 54, 3]
    assert inp["quantization"] == (1.0, 0)  # raw pixels go in unchanged
    assert all(o["dtype"] in (np.uint8, np.int8) for o in interpreter.get_output_details())
    info = inspect(path)
    assert info.float_tensors == [] and info.input["dtype"] == np.uint8
    assert sorted(info.heads.values()) == ["digit1", "digit2", "digit3", "digit4", "digit5", "length"]
    ops = op_names(path)  # read from the flatbuffer: the same ops the interpreter lists
    assert ops and set(ops) <= {"QUANTIZE", "MUL", "ADD", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED",
                                "RESHAPE", "SOFTMAX", "MEAN", "AVERAGE_POOL_2D", "MAX_POOL_2D", "CONCATENATION"}
    assert "DEQUANTIZE" not in ops and "CAST" not in ops


def test_sidecar_maps_each_output_to_its_head(tiny_export, tiny_run, svhn):
    """Each TF Lite head, found through the sidecar, matches the Keras head of that name and no other."""
    import keras

    from edge_app.inference.reader import HouseNumberModel
    from train.cache import load_crops
    from train.folders import eval_inputs

    card = json.loads((tiny_export / "house_numbers.json").read_text())
    assert card["kind"] == "reader" and sorted(card["outputs"]) == sorted(HEADS)
    inputs = eval_inputs(np.asarray(load_crops(svhn / "recon" / "test").regions[:40]))
    ref = keras.models.load_model(tiny_run / "model.keras").predict(inputs, verbose=0)

    def heads(path):
        model = HouseNumberModel(path)
        probs = [model.probabilities(x) for x in inputs]
        return np.stack([p[0] for p in probs]), np.stack([p[1] for p in probs])  # (40, 7), (40, 5, 11)

    # float TF Lite equals Keras up to float rounding, so a swapped head would stand out at once
    lengths, digits = heads(tiny_export / "house_numbers_float.tflite")
    assert np.abs(lengths - ref["length"]).max() < 1e-4
    for i in range(5):
        errors = [np.abs(digits[:, i] - ref[f"digit{j + 1}"]).max() for j in range(5)]
        assert errors[i] < 1e-4 and min(e for j, e in enumerate(errors) if j != i) > 1e-4, errors
    # int8 agrees within quantisation noise, head by head
    lengths, digits = heads(tiny_export / "house_numbers.tflite")
    assert np.abs(lengths - ref["length"]).mean() < 0.03
    for i in range(5):
        assert np.abs(digits[:, i] - ref[f"digit{i + 1}"]).mean() < 0.03


def test_sidecar_records_what_the_app_needs(tiny_export):
    from edge_app.inference.card import read_card

    card = read_card(tiny_export / "house_numbers.tflite", "reader")
    assert card.input.dtype == "uint8" and card.input.shape == (1, 54, 54, 3)
    assert card.preprocessing["region_size"] == 64 and card.preprocessing["input_size"] == 54
    assert card.training["arch"] == "edge" and "SVHN" in card.training["licence"]
    assert card.calibration["count"] == 64
    # Measured on the tiny run's validation split: 10% of 300 synthetic + 10% of 498 recon/train pictures.
    # Both fallbacks ("no run config", "no validation split") would fail here, and leave the gate None.
    assert "on the validation split of " in card.gate.basis and "(80 pictures)" in card.gate.basis
    assert 0 < card.gate.threshold <= 1
    assert set(card.measured) >= {"sequence_accuracy", "digit_accuracy", "coverage_at_98"}
    assert card.edgetpu["unsupported_ops"] == [] and card.edgetpu["compiled"] is False
    assert "edgetpu_compiler" in card.edgetpu["reason"]
    float_card = read_card(tiny_export / "house_numbers_float.tflite", "reader")  # its own gate, from its own outputs
    assert float_card.variant == "float" and float_card.calibration is None
    assert 0 < float_card.gate.threshold <= 1 and "(80 pictures)" in float_card.gate.basis


def test_parity_report_comes_from_a_real_run(tiny_export):
    report = json.loads((tiny_export / "report.json").read_text())
    assert report["count"] == 100
    assert set(report["variants"]) == {"int8", "float"}
    int8 = report["variants"]["int8"]
    assert int8["bytes"] == (tiny_export / "house_numbers.tflite").stat().st_size
    assert 0.5 <= int8["agreement_with_float"] <= 1.0
    assert report["variants"]["float"]["agreement_with_float"] >= 0.97  # float TF Lite = Keras, up to rounding
    assert int8["latency_1_thread"]["mean_ms"] > 0 and int8["latency_2_threads"]["p95_ms"] > 0
    assert "| int8 |" in (tiny_export / "report.md").read_text()


def test_int8_model_runs_without_tensorflow(tiny_export, svhn):
    code = ("import sys; sys.modules['tensorflow'] = None; sys.modules['keras'] = None\n"
            "from edge_app.inference.reader import HouseNumberModel\n"
            "from edge_app.contract import load_image, model_input, Box\n"
            f"m = HouseNumberModel({str(tiny_export / 'house_numbers.tflite')!r})\n"
            f"img = load_image({str(svhn / 'recon' / 'test' / '1.png')!r})\n"
            "r = m.read(model_input(img, Box(0, 0, img.shape[1], img.shape[0])))\n"
            "print(0 <= r.confidence <= 1)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "True", proc.stderr


def test_fake_edgetpu_compiler_is_run_and_its_log_recorded(tiny_export, tmp_path):
    from export.edgetpu import compile_edgetpu

    fake = tmp_path / "bin" / "edgetpu_compiler"
    fake.parent.mkdir()
    # Stands in for Coral's compiler (not installable here): copies the model and prints its log format.
    fake.write_text("#!/bin/sh\n"
                    "out=$3; model=$4; name=$(basename \"$model\" .tflite)\n"
                    "cp \"$model\" \"$out/${name}_edgetpu.tflite\"\n"
                    "echo 'Edge TPU Compiler version 16.0.384591198'\n"
                    "echo 'Number of operations that will run on Edge TPU: 31'\n"
                    "echo 'Number of operations that will run on CPU: 0'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    out = tmp_path / "out"
    out.mkdir()
    result = compile_edgetpu(tiny_export / "house_numbers.tflite", out, compiler=str(fake))
    assert result == {"compiled": True, "file": "house_numbers_edgetpu.tflite", "ops_on_tpu": 31, "ops_on_cpu": 0,
                      "compiler_version": "16.0.384591198",
                      "sha256": file_sha256(out / "house_numbers_edgetpu.tflite")}  # the compiled file's own
    fake.write_text("#!/bin/sh\necho 'ERROR: unsupported op' >&2\nexit 1\n")
    result = compile_edgetpu(tiny_export / "house_numbers.tflite", tmp_path / "out2", compiler=str(fake))
    assert result["compiled"] is False and "unsupported op" in result["reason"]


def test_export_refusals(tmp_path, tiny_run, tiny_export):
    calib = tiny_export.parent / "calib.npz"
    not_model = tmp_path / "model.keras"
    not_model.write_text("definitely not a zip")
    proc = run_module("export", "--model", not_model, "--calibration", calib, "--out", tmp_path / "o1")
    assert proc.returncode == 2 and "not a Keras model" in proc.stderr and "Traceback" not in proc.stderr

    bad_calib = tmp_path / "bad.npz"
    np.savez(bad_calib, inputs=np.zeros((4, 32, 32, 3), np.uint8), provenance=np.array("{}"))
    proc = run_module("export", "--model", tiny_run / "model.keras", "--calibration", bad_calib,
                      "--out", tmp_path / "o2")
    assert proc.returncode == 2 and "54 x 54 x 3" in proc.stderr

    shutil.copytree(tiny_export, tmp_path / "o3")  # a real export of tiny_run/model.keras, its cards included
    before = (tmp_path / "o3" / "house_numbers.tflite").read_bytes()
    other = tmp_path / "other" / "model.keras"
    other.parent.mkdir()
    other.write_bytes((tiny_run / "model.keras").read_bytes())
    proc = run_module("export", "--model", other, "--calibration", calib, "--out", tmp_path / "o3")
    assert proc.returncode == 2 and "--force" in proc.stderr
    assert (tmp_path / "o3" / "house_numbers.tflite").read_bytes() == before
    assert not list((tmp_path / "o3").glob("*.tmp"))


def test_export_refuses_a_model_with_the_wrong_input(tmp_path, tiny_export):
    import keras

    x = keras.Input((32, 32, 3), dtype="uint8")
    y = keras.layers.Flatten()(keras.layers.Identity(dtype="float32")(x))
    model = keras.Model(x, {h: keras.layers.Dense(7 if h == "length" else 11, name=h)(y) for h in HEADS})
    path = tmp_path / "wrong.keras"
    model.save(path)
    proc = run_module("export", "--model", path, "--calibration", tiny_export.parent / "calib.npz",
                      "--out", tmp_path / "o")
    assert proc.returncode == 2 and "54, 54, 3" in proc.stderr and "Traceback" not in proc.stderr
    assert not any((tmp_path / "o").glob("*.tflite")) if (tmp_path / "o").exists() else True

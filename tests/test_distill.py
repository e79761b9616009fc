"""Distillation: the teacher's soft targets come from the same batch, frozen and without dropout."""

import json

import numpy as np

from edge_app.contract import HEADS
from tests.conftest import run_main


def test_distill_loss_mixes_label_and_teacher():
    import keras

    from train.distill import DistillLoss

    student = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], np.float32)
    teacher = np.array([[0.2, 0.7, 0.1], [0.1, 0.1, 0.8]], np.float32)
    labels = np.array([0, 2])
    packed = np.concatenate([student, teacher], axis=1)
    hard = float(keras.losses.SparseCategoricalCrossentropy()(labels, student))
    soft = float(keras.losses.CategoricalCrossentropy()(teacher, student))
    assert np.isclose(float(DistillLoss(3, 0.0)(labels, packed)), hard, rtol=1e-5)
    assert np.isclose(float(DistillLoss(3, 1.0)(labels, packed)), soft, rtol=1e-5)
    assert np.isclose(float(DistillLoss(3, 0.25)(labels, packed)), 0.75 * hard + 0.25 * soft, rtol=1e-5)


def test_teacher_inside_the_training_model_gives_its_inference_outputs(tiny_run, svhn):
    import keras

    from train.distill import student_of, with_teacher
    from train.folders import eval_inputs, load_splits
    from train.models import build_model

    inputs = eval_inputs(load_splits(str(svhn / "recon" / "train"), 0.1, 0)[0].crops.regions[:16])
    teacher = keras.models.load_model(tiny_run / "model.keras", compile=False)
    expected = teacher.predict(inputs, verbose=0)
    model = with_teacher(build_model("edge"), str(tiny_run / "model.keras"))  # same arch as the teacher
    got = model(inputs, training=True)  # as in a training step: no dropout or batch statistics in the teacher
    for h in HEADS:
        assert np.allclose(np.asarray(got[h])[:, expected[h].shape[1]:], expected[h], atol=1e-5), h
    assert student_of(model, "edge").name == "edge" and not model.get_layer("teacher").trainable


def test_distilled_run_saves_a_plain_student(tiny_run, svhn, tmp_path):
    out = tmp_path / "student"
    proc = run_main("train", "--data", svhn / "recon" / "train", "--arch", "edge", "--out", out, "--steps", "4",
                      "--batch-size", "8", "--eval-every", "4", "--checkpoint-every", "4", "--val-fraction", "0.05",
                      "--teacher", tiny_run / "model.keras", "--distill-weight", "0.7")
    assert proc.returncode == 0, proc.stderr[-2000:]
    config = json.loads((out / "config.json").read_text())
    assert config["teacher"] == str(tiny_run / "model.keras") and config["distill_weight"] == 0.7
    import keras

    student = keras.models.load_model(out / "model.keras")
    assert student.name == "edge" and sorted(student.output_names) == sorted(HEADS)  # no teacher inside
    assert keras.models.load_model(out / "ckpt" / "last.keras").name == "distill"  # resumable with its teacher

"""Distillation: the student learns each head from the labels and from a trained teacher's soft targets.

The teacher runs inside the training graph on the same augmented batch as the student; its outputs are
concatenated to the student's per head, so one Keras loss per head sees both (no second data pass).
The student is a nested model of the training model: that is what gets validated and saved.
"""

from __future__ import annotations

import keras
from keras import layers

from edge_app.contract import DIGIT_CLASSES, HEADS, LENGTH_CLASSES

from .models.heads import pixel_input


@keras.saving.register_keras_serializable(package="house_numbers")
class DistillLoss(keras.losses.Loss):
    """(1 - w) x cross-entropy with the label + w x cross-entropy with the teacher's probabilities."""

    def __init__(self, classes: int, weight: float, name: str = "distill", reduction: str = "sum_over_batch_size"):
        super().__init__(name=name, reduction=reduction)
        self.classes, self.weight = int(classes), float(weight)

    def call(self, y_true, y_pred):
        student, teacher = y_pred[:, : self.classes], y_pred[:, self.classes :]
        hard = keras.losses.sparse_categorical_crossentropy(y_true, student)
        soft = keras.losses.categorical_crossentropy(teacher, student)
        return (1.0 - self.weight) * hard + self.weight * soft

    def get_config(self) -> dict:
        return {"classes": self.classes, "weight": self.weight, "name": self.name, "reduction": self.reduction}


def with_teacher(student: keras.Model, teacher_path: str) -> keras.Model:
    """A training model whose head h outputs [student's h | teacher's h] (teacher frozen, no dropout)."""
    teacher = keras.models.load_model(teacher_path, compile=False)
    for layer in teacher.layers:
        if isinstance(layer, layers.Dropout):
            layer.rate = 0.0  # a functional call passes training=True down; dropout must not reach the targets
    teacher.trainable = False  # frozen batch norm runs in inference mode
    inner = pixel_input()
    teacher = keras.Model(inner, teacher(inner), name="teacher")  # a fresh name: the student may share the arch
    pixels = pixel_input()
    s, t = student(pixels), teacher(pixels)
    outputs = {h: layers.Concatenate(name=h, dtype="float32")([s[h], t[h]]) for h in HEADS}
    return keras.Model(pixels, outputs, name="distill")


def losses(weight: float) -> dict:
    """The per-head distillation losses for compile()."""
    return {h: DistillLoss(LENGTH_CLASSES if h == "length" else DIGIT_CLASSES, weight,
                           name=f"distill_{h}") for h in HEADS}


def student_of(model: keras.Model, arch_name: str) -> keras.Model:
    """The student inside a distillation training model (the model itself when there is no teacher)."""
    return model.get_layer(arch_name) if model.name == "distill" else model

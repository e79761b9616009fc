"""The number reader: a 54x54 region in, six dequantised heads and the paper's joint decode out."""

from __future__ import annotations

import numpy as np

from ..contract import INPUT_SIZE, MAX_DIGITS
from ..decode import Reading, decode
from ..package import models_dir
from .card import ModelError
from .runtime import TFLiteModel

DEFAULT_MODEL = models_dir() / "house_numbers.tflite"  # the shipped reader (installed or in the checkout)


class HouseNumberModel(TFLiteModel):
    """A loaded reader .tflite: pixels in, head probabilities and a Reading out."""

    kind = "reader"
    flag = "--model"

    def __init__(self, model_path, threads: int | None = None, edgetpu: bool = False):
        super().__init__(model_path, threads, edgetpu)
        if self.card.input_size != (INPUT_SIZE, INPUT_SIZE):
            raise ModelError(f"{self.path}: input is {list(self.card.input.shape)}, "
                             f"the contract needs one [1, {INPUT_SIZE}, {INPUT_SIZE}, 3] picture")

    @property
    def threshold(self) -> float | None:
        """The card's gate (coverage at 98% on validation data), or None where this variant has none."""
        return self.card.gate.threshold

    def probabilities(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """54x54x3 uint8 pixels -> length (7,) and digit (5, 11) probabilities, dequantised to float."""
        heads = self.run(pixels)
        return heads["length"].reshape(-1), np.stack([heads[f"digit{i + 1}"].reshape(-1) for i in range(MAX_DIGITS)])

    def read(self, pixels: np.ndarray) -> Reading:
        """54x54x3 uint8 pixels -> the decoded Reading."""
        return decode(*self.probabilities(pixels))

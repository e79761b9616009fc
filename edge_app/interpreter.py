"""Moved to edge_app.inference (card, runtime, reader); these names stay importable for code not yet updated."""

from .inference.card import ModelError, card_path
from .inference.reader import DEFAULT_MODEL, HouseNumberModel
from .inference.runtime import EDGETPU_LIBRARY, dequantize, interpreter_class, quantize_input

__all__ = ["DEFAULT_MODEL", "EDGETPU_LIBRARY", "HouseNumberModel", "ModelError", "card_path", "dequantize",
           "interpreter_class", "quantize_input"]

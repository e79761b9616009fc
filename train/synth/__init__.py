"""Synthetic house numbers in SVHN format-1 layout, made to look like Street View crops."""

from .generate import SynthError, generate

__all__ = ["SynthError", "generate"]

"""The paper's joint decode of the six heads: the most probable length together with its digits."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .contract import MAX_DIGITS

_EPS = 1e-12  # keeps log() finite when an int8 head says exactly 0


class Reading(NamedTuple):
    """One decoded number: its digits as text, length, joint confidence and per-digit confidences."""

    text: str
    length: int
    confidence: float
    digit_confidences: tuple[float, ...]

    def rank(self) -> tuple[bool, float]:
        """Which of several readings of a frame wins (the larger): any number before "no number", then the more
        confident. A sure "no number" in one region must not hide a number read in another."""
        return self.length > 0, self.confidence

    def passes(self, gate: float) -> bool:
        """Whether this is a number read at least `gate` sure ("no number" never passes)."""
        return self.length > 0 and self.confidence >= gate

    def per_head(self) -> float:
        """The geometric mean of its heads' probabilities (the length's and each digit's): unlike `confidence`,
        whose ceiling falls with every digit, it means the same for a number of any length."""
        return self.confidence ** (1 / (self.length + 1))


def decode_batch(length_probs: np.ndarray, digit_probs: np.ndarray):
    """Joint decode of a batch.

    length_probs (B, 7), digit_probs (B, 5, 11) -> lengths (B,), digits (B, 5), confidence (B,),
    digit_conf (B, 5). Picks L in 0..5 and digits maximising log P(L) + sum_{i<=L} log P(d_i);
    confidence = exp(that score). Length class 6 ("more than 5") is never a reading.
    """
    length_probs = np.asarray(length_probs, dtype=np.float64)
    digit_probs = np.asarray(digit_probs, dtype=np.float64)
    real = digit_probs[:, :, :10]  # a digit inside the number is 0..9, never "no digit"
    digits = real.argmax(axis=2)
    digit_conf = np.take_along_axis(real, digits[:, :, None], axis=2)[:, :, 0]
    # (B, 6): score of each length 0..5 = log P(L) + cumulative log P of the best first L digits
    cum = np.concatenate([np.zeros((len(digits), 1)), np.cumsum(np.log(digit_conf + _EPS), axis=1)], axis=1)
    scores = np.log(length_probs[:, : MAX_DIGITS + 1] + _EPS) + cum
    lengths = scores.argmax(axis=1)
    confidence = np.exp(scores[np.arange(len(lengths)), lengths])
    return lengths, digits, confidence, digit_conf


def decode(length_probs: np.ndarray, digit_probs: np.ndarray) -> Reading:
    """Joint decode of one input: length_probs (7,), digit_probs (5, 11) -> Reading."""
    lengths, digits, confidence, digit_conf = decode_batch(length_probs[None], digit_probs[None])
    n = int(lengths[0])
    return Reading(
        text="".join(str(int(d)) for d in digits[0, :n]),
        length=n,
        confidence=float(confidence[0]),
        digit_confidences=tuple(round(float(c), 4) for c in digit_conf[0, :n]),
    )


def rescore(length_probs: np.ndarray, digit_probs: np.ndarray, reading: Reading) -> Reading:
    """The same reading with the confidences these heads (7,) and (5, 11) give it: its joint probability, as
    decode scores it, and each digit's."""
    digits = [int(c) for c in reading.text]
    digit_conf = [float(digit_probs[i, d]) for i, d in enumerate(digits)]
    score = np.log(length_probs[reading.length] + _EPS) + sum(np.log(c + _EPS) for c in digit_conf)
    return reading._replace(confidence=float(np.exp(score)), digit_confidences=tuple(round(c, 4) for c in digit_conf))


def predictions(lengths: np.ndarray, digits: np.ndarray) -> np.ndarray:
    """Decoded lengths (B,) and digits (B, 5) -> targets (B, 6) in the contract's label coding."""
    out = np.full((len(lengths), 1 + MAX_DIGITS), 10, dtype=np.int64)
    out[:, 0] = lengths
    for i in range(MAX_DIGITS):
        out[:, 1 + i] = np.where(lengths > i, digits[:, i], 10)
    return out

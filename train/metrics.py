"""Accuracy the paper's way: a number counts only if its length and every digit are right."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from edge_app.contract import MAX_DIGITS
from edge_app.decode import decode_batch, predictions

TARGET_ACCURACY = 0.98  # coverage is reported at the confidence where accuracy reaches 98%


class Judged(NamedTuple):
    """A batch read and judged: readings (B, 6) in label coding, right or wrong (B,), the confidence the app
    gates (B,; 0 for a "no number" reading)."""

    predicted: np.ndarray
    correct: np.ndarray
    confidence: np.ndarray


def judge(length_probs: np.ndarray, digit_probs: np.ndarray, targets: np.ndarray | None = None) -> Judged:
    """Head probabilities (B, 7), (B, 5, 11) -> decoded readings, compared with targets (B, 6) when given."""
    lengths, digits, confidence, _ = decode_batch(length_probs, digit_probs)
    # "No number" is never reported (the app gates readings of length > 0 only): no threshold covers it.
    confidence = np.where(lengths > 0, confidence, 0.0)
    predicted = predictions(lengths, digits)
    correct = np.all(predicted == targets, axis=1) if targets is not None else np.zeros(len(predicted), bool)
    return Judged(predicted, correct, confidence)


def score(length_probs: np.ndarray, digit_probs: np.ndarray, targets: np.ndarray) -> dict:
    """Head probabilities (B, 7), (B, 5, 11) and targets (B, 6) -> the report of DESIGN.md."""
    pred, correct, confidence = judge(length_probs, digit_probs, targets)
    true_len = np.minimum(targets[:, 0], MAX_DIGITS + 1)
    positions = np.arange(MAX_DIGITS)[None] < np.minimum(true_len, MAX_DIGITS)[:, None]  # (B, 5) real digits
    digit_ok = (pred[:, 1:] == targets[:, 1:]) & positions
    coverage, threshold = coverage_at(correct, confidence, TARGET_ACCURACY)
    return {
        "count": int(len(targets)),
        "sequence_accuracy": float(correct.mean()) if len(targets) else 0.0,
        "digit_accuracy": float(digit_ok.sum() / max(positions.sum(), 1)),
        "by_length": {
            str(n): {"accuracy": float(correct[true_len == n].mean()), "count": int((true_len == n).sum())}
            for n in np.unique(true_len)
        },
        "coverage_at_98": coverage,
        "threshold_at_98": threshold,
    }


def coverage_at(correct: np.ndarray, confidence: np.ndarray, target: float) -> tuple[float, float]:
    """Largest share of inputs, most confident first, read with accuracy >= target; and its threshold."""
    if len(correct) == 0:
        return 0.0, 1.0
    order = np.argsort(-confidence, kind="stable")
    running = np.cumsum(correct[order]) / np.arange(1, len(order) + 1)
    ok = np.nonzero(running >= target)[0]
    if len(ok) == 0:
        return 0.0, 1.0
    k = ok[-1] + 1
    return float(k / len(order)), float(confidence[order][k - 1])


def coverage_curve(correct: np.ndarray, confidence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coverage (share read) and accuracy on that share, most confident first: the coverage plot's data."""
    order = np.argsort(-confidence, kind="stable")
    n = np.arange(1, len(order) + 1)
    return n / len(order), np.cumsum(correct[order]) / n

"""How well a detector finds numbers: matches at IoU 0.5, recall, precision, mean IoU, average precision.

A detection matches a true number when their IoU is at least 0.5; each true number is matched at most
once, best score first (the PASCAL VOC rule). numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edge_app.contract import Box

IOU_MATCH = 0.5


def iou_matrix(a: Sequence[Box], b: Sequence[Box]) -> np.ndarray:
    """(len(a), len(b)) intersection over union."""
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    A, B = np.array(a, np.float64), np.array(b, np.float64)  # (n, 4) left, top, width, height
    ix = np.minimum(A[:, None, 0] + A[:, None, 2], B[None, :, 0] + B[None, :, 2]) - np.maximum(
        A[:, None, 0], B[None, :, 0]
    )
    iy = np.minimum(A[:, None, 1] + A[:, None, 3], B[None, :, 1] + B[None, :, 3]) - np.maximum(
        A[:, None, 1], B[None, :, 1]
    )
    inter = np.clip(ix, 0, None) * np.clip(iy, 0, None)
    union = (A[:, 2] * A[:, 3])[:, None] + (B[:, 2] * B[:, 3])[None, :] - inter
    return inter / np.maximum(union, 1e-9)


def match(detections: Sequence[tuple[Box, float]], truths: Sequence[Box]) -> list[tuple[float, float]]:
    """(score, IoU with the matched true box, or 0 for a false detection) for each detection, best first."""
    order = sorted(range(len(detections)), key=lambda i: -detections[i][1])
    ious = iou_matrix([detections[i][0] for i in order], truths)
    free = np.ones(len(truths), bool)
    out = []
    for k, i in enumerate(order):
        candidates = np.where(free, ious[k], -1.0) if len(truths) else np.zeros(0)
        j = int(np.argmax(candidates)) if len(candidates) else -1
        if j >= 0 and candidates[j] >= IOU_MATCH:
            free[j] = False
            out.append((detections[i][1], float(candidates[j])))
        else:
            out.append((detections[i][1], 0.0))
    return out


def report(
    frames_detections: Sequence[Sequence[tuple[Box, float]]], frames_truths: Sequence[Sequence[Box]], threshold: float
) -> dict:
    """Recall, precision, F1 and mean IoU (of the matched pairs) at one score threshold; AP over all scores."""
    matched = [m for d, t in zip(frames_detections, frames_truths) for m in match(d, t)]
    n_true = sum(len(t) for t in frames_truths)
    scores = np.array([s for s, _ in matched])
    hits = np.array([i >= IOU_MATCH for _, i in matched], bool)
    ious = np.array([i for _, i in matched])
    kept = scores >= threshold if len(scores) else np.zeros(0, bool)
    tp = int(hits[kept].sum())
    recall = tp / max(n_true, 1)
    precision = tp / max(int(kept.sum()), 1)
    return {
        "threshold": float(threshold),
        "numbers": n_true,
        "frames": len(frames_truths),
        "recall": recall,
        "precision": precision,
        "f1": 2 * recall * precision / max(recall + precision, 1e-9),
        "mean_iou": float(ious[kept & hits].mean()) if tp else 0.0,
        "ap50": average_precision(scores, hits, n_true),
        "false_per_empty_frame": _false_on_empty(frames_detections, frames_truths, threshold),
    }


def average_precision(scores: np.ndarray, hits: np.ndarray, n_true: int) -> float:
    """Area under the precision-recall curve (all points, precision made monotone)."""
    if not n_true or not len(scores):
        return 0.0
    order = np.argsort(-scores, kind="stable")
    tp = np.cumsum(hits[order])
    precision = tp / np.arange(1, len(order) + 1)
    recall = tp / n_true
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    return float(np.sum(np.diff(np.concatenate([[0.0], recall])) * precision))


THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.01), 2)  # candidate score thresholds


def best_f1_threshold(frames_detections, frames_truths) -> tuple[float, dict]:
    """The score threshold of best F1 and its report (ties: the lower threshold, for recall)."""
    best = None
    for t in THRESHOLDS:
        r = report(frames_detections, frames_truths, float(t))
        if best is None or r["f1"] > best[1]["f1"] + 1e-12:
            best = (float(t), r)
    return best


def _false_on_empty(frames_detections, frames_truths, threshold: float) -> float:
    empty = [d for d, t in zip(frames_detections, frames_truths) if not len(t)]
    return float(np.mean([sum(s >= threshold for _, s in d) for d in empty])) if empty else 0.0

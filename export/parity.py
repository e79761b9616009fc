"""The parity report: each variant's size, accuracy, agreement with the float Keras model, and latency."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_app.inference.reader import HouseNumberModel
from edge_app.timing import latency_stats, time_calls
from train.metrics import judge, score


def readings(length_probs, digit_probs) -> np.ndarray:
    """(N, 6) decoded readings in label coding, for agreement counts."""
    return judge(length_probs, digit_probs).predicted


def latency(path: Path, inputs: np.ndarray, threads: int, runs: int = 200) -> dict:
    """Mean and p95 milliseconds of one invoke on this CPU (after a warm-up)."""
    model = HouseNumberModel(path, threads=threads)
    stats = latency_stats(time_calls(lambda i: model.probabilities(inputs[i % len(inputs)]), runs))
    return {"mean_ms": stats["mean_ms"], "p95_ms": stats["p95_ms"]}


def variant_report(path: Path, probs, reference: np.ndarray, targets: np.ndarray, inputs: np.ndarray) -> dict:
    """One row of the report for a .tflite whose head probabilities on `inputs` are `probs`."""
    r = score(*probs, targets)
    return {
        "file": path.name,
        "bytes": path.stat().st_size,
        "sequence_accuracy": r["sequence_accuracy"],
        "digit_accuracy": r["digit_accuracy"],
        "coverage_at_98": r["coverage_at_98"],
        "by_length": r["by_length"],
        "agreement_with_float": float(np.all(readings(*probs) == reference, axis=1).mean()),
        "latency_1_thread": latency(path, inputs, 1),
        "latency_2_threads": latency(path, inputs, 2),
    }


def markdown(report: dict) -> str:
    """report.json -> a short Markdown table."""
    lines = [f"# Export parity report: {report['model']}", "",
             f"Evaluated on `{report['eval_data']}` ({report['count']} pictures); latency on {report['cpu']}.", "",
             "| variant | size | sequence acc. | digit acc. | coverage@98% | agreement with float "
             "| latency 1 thr (mean/p95) | 2 thr |",
             "|---|---|---|---|---|---|---|---|"]
    k = report["keras"]
    lines.append(f"| keras float | - | {k['sequence_accuracy']:.4f} | {k['digit_accuracy']:.4f} | "
                 f"{k['coverage_at_98']:.3f} | 1.000 | - | - |")
    for name, v in report["variants"].items():
        l1, l2 = v["latency_1_thread"], v["latency_2_threads"]
        lines.append(f"| {name} | {v['bytes'] / 1e6:.2f} MB | {v['sequence_accuracy']:.4f} | "
                     f"{v['digit_accuracy']:.4f} | {v['coverage_at_98']:.3f} | {v['agreement_with_float']:.3f} | "
                     f"{l1['mean_ms']:.2f}/{l1['p95_ms']:.2f} ms | "
                     f"{l2['mean_ms']:.2f}/{l2['p95_ms']:.2f} ms |")
    if "int8" in report["variants"]:
        drop = (k["sequence_accuracy"] - report["variants"]["int8"]["sequence_accuracy"]) * 100
        lines += ["", f"int8 drop vs float Keras: {drop:+.2f} points of sequence accuracy."]
    return "\n".join(lines) + "\n"

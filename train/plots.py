"""PNG plots: the training curve and the coverage-vs-accuracy curve."""

from __future__ import annotations

from pathlib import Path

import matplotlib

from edge_app.atomic import atomic_path

matplotlib.use("Agg")  # no display on workstations over ssh or in CI
import matplotlib.pyplot as plt  # noqa: E402


def plot_training(history: list[dict], path: Path, metric: str = "sequence_accuracy") -> None:
    """The validation metric (sequence accuracy, or a detector's AP) per folder against the step."""
    if not history:
        return
    fig, ax = plt.subplots(figsize=(6, 4))
    steps = [h["step"] for h in history]
    for key in sorted(k for k in history[0] if k.startswith("val/")):
        ax.plot(steps, [h.get(key) for h in history], label=key[4:])
    ax.plot(steps, [h[f"val_{metric}"] for h in history], "k--", label="mean")
    ax.set(xlabel="step", ylabel=f"validation {metric.replace('_', ' ')}", ylim=(0, 1), title="training")
    ax.grid(alpha=0.3)
    ax.legend()
    _save(fig, path)


def plot_coverage(coverage, accuracy, path: Path, title: str) -> None:
    """Accuracy on the most confident share of inputs, against that share."""
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(coverage, accuracy)
    ax.axhline(0.98, color="grey", linestyle=":", label="98% accuracy")
    ax.set(xlabel="coverage (share of inputs read)", ylabel="sequence accuracy", ylim=(0, 1.01), title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    _save(fig, path)


def _save(fig, path: Path) -> None:
    try:
        fig.tight_layout()
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, dpi=100)
    finally:
        plt.close(fig)


def plot_mistakes(inputs, predicted, targets, confidence, names, path: Path) -> None:
    """A contact sheet of mistakes: each input with what was read, what is true and the confidence."""
    from edge_app.contract import label_text

    n = len(inputs)
    cols = 8
    rows = max(1, -(-n // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.5, rows * 1.7), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, x, p, t, c, name in zip(axes.ravel(), inputs, predicted, targets, confidence, names):
        ax.imshow(x)
        ax.set_title(f"{label_text(p) or '-'} ({c:.2f})\ntrue {label_text(t)}  {name}", fontsize=7)
    fig.suptitle("most confident mistakes: read (confidence) / true" if n else "no mistakes")
    _save(fig, path)

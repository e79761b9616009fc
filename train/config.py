"""The training configuration: one dataclass, saved as config.json beside the model."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from edge_app.atomic import write_atomic

# The builders in train/models/, named here so the CLI need not import Keras; and what each learns (train/tasks.py).
ARCH_NAMES = ("edge", "goodfellow", "detector")
TASK_OF_ARCH = {"edge": "reader", "goodfellow": "reader", "detector": "detector"}


@dataclass
class TrainConfig:
    """Everything a run depends on; --resume refuses a folder whose config differs in what matters."""

    data: str
    out: str
    arch: str = "edge"
    steps: int = 0  # 0: derived from epochs
    epochs: float = 10.0
    batch_size: int = 64
    learning_rate: float = 2e-3
    warmup_steps: int = 200
    weight_decay: float = 1e-4
    dropout: float | None = None  # None: the architecture's default
    val_fraction: float = 0.1
    val_max: int = 2000  # at most this many validation pictures per folder
    eval_every: int = 500
    checkpoint_every: int = 250
    seed: int = 0
    augment: bool = True
    mixed_precision: bool = False
    skip_bad: bool = False  # leave unreadable pictures out of the cache instead of stopping
    init: str | None = None  # start from the weights of another model (fine-tuning)
    train_only: str | None = None  # comma-separated layer names trained; every other layer frozen (fine-tuning)
    teacher: str | None = None  # distil from this trained .keras model's soft targets
    distill_weight: float = 0.5  # share of the loss from the teacher's soft targets
    devices: int = 0  # 0: every GPU when there are several, else one device
    workers: bool = False  # several machines (MultiWorkerMirroredStrategy, cluster from TF_CONFIG)

    # Changing these mid-run would make a resumed run a different run.
    IDENTITY = ("data", "arch", "batch_size", "learning_rate", "seed", "val_fraction", "val_max", "dropout", "init",
                "train_only", "teacher", "distill_weight")

    def save(self, path: Path) -> None:
        """Write as JSON (temp file + rename)."""
        write_atomic(path, json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        """Read a config.json written by save()."""
        raw = json.loads(Path(path).read_text())
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})

    def differences(self, other: TrainConfig, given: set[str]) -> list[str]:
        """The identity fields, among those in `given`, in which two configs differ ('name: a != b')."""
        return [f"{k}: {getattr(self, k)!r} != {getattr(other, k)!r}"
                for k in self.IDENTITY if k in given and getattr(self, k) != getattr(other, k)]

    def run_folder_problem(self, resume: bool, given: set[str]) -> str | None:
        """Why self.out cannot take this run, or None. It only reads, so the CLI asks before TensorFlow starts."""
        out = Path(self.out)
        if resume:
            if not (out / "config.json").exists():
                return f"{out} holds no run to resume (no config.json); drop --resume to start one"
            diff = TrainConfig.load(out / "config.json").differences(self, given)
            if diff:
                return (f"{out} was trained with another configuration ({'; '.join(diff)}); "
                        "resume it with the same settings or pick a new --out")
        elif (out / "metrics.json").exists() or (out / "ckpt").exists():
            return f"{out} already holds a run; pass --resume to continue it or pick a new --out"
        return None

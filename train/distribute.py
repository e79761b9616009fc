"""Where a run computes: one device, several devices of this machine, or several machines (workers).

TensorFlow's own engines do the work: `MirroredStrategy` splits each global batch between the devices
of one machine, `MultiWorkerMirroredStrategy` between the machines named in `TF_CONFIG`. Every replica
sees global_batch / replicas pictures and the gradients are summed, so a run gives the same model on
one device or several (up to float rounding and per-replica batch-norm statistics).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import tensorflow as tf


class PlacementError(ValueError):
    """A --devices / --workers request this machine cannot satisfy."""


@dataclass
class Placement:
    """The strategy a run uses and this process's role in it."""

    strategy: tf.distribute.Strategy
    chief: bool = True  # the chief writes the run folder; other workers write to a temporary folder
    worker: int = 0
    workers: int = 1

    @property
    def replicas(self) -> int:
        return self.strategy.num_replicas_in_sync


def place(devices: int = 0, workers: bool = False) -> Placement:
    """The strategy for `devices` (0: every GPU when there are several, else one device) or for workers.

    With `workers` (or TF_CONFIG set) the cluster comes from TF_CONFIG. On a machine without GPUs,
    `devices` > 1 splits the CPU into logical devices: no faster, but it runs the multi-device code.
    """
    if workers or os.environ.get("TF_CONFIG"):
        return _multi_worker()
    gpus = tf.config.list_physical_devices("GPU")
    if devices == 0:
        devices = len(gpus) if len(gpus) > 1 else 1
    if devices == 1:
        return Placement(tf.distribute.get_strategy())
    if gpus:
        if devices > len(gpus):
            raise PlacementError(f"--devices {devices}: this machine has {len(gpus)} GPU(s)")
        return Placement(tf.distribute.MirroredStrategy([f"/gpu:{i}" for i in range(devices)]))
    cpu = tf.config.list_physical_devices("CPU")[0]
    if len(tf.config.get_logical_device_configuration(cpu) or []) != devices:
        try:
            tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * devices)
        except RuntimeError:
            raise PlacementError(f"--devices {devices}: TensorFlow already started with another CPU layout; "
                                 "ask for devices before anything else runs") from None
    return Placement(tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(devices)]))


def _multi_worker() -> Placement:
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise PlacementError("--workers needs TF_CONFIG (the cluster and this worker's task); see docs/training.md, "
                             "'Training on several machines'")
    try:
        config = json.loads(raw)
        cluster, task = config["cluster"], config["task"]
        kind, index = task["type"], int(task["index"])
    except (ValueError, KeyError, TypeError):
        raise PlacementError('TF_CONFIG is not {"cluster": {...}, "task": {"type": ..., "index": ...}}') from None
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    # TensorFlow's rule: the "chief" task if the cluster names one, else worker 0.
    chief = kind == "chief" or (kind == "worker" and index == 0 and "chief" not in cluster)
    everyone = sum(len(v) for k, v in cluster.items() if k in ("chief", "worker"))
    number = index + (1 if kind == "worker" and "chief" in cluster else 0)
    return Placement(strategy, chief, number, everyone)


def compute_policy(mixed_precision: bool) -> str:
    """Keras dtype policy: float16 compute on GPUs (with loss scaling), bfloat16 on CPUs, else float32."""
    if not mixed_precision:
        return "float32"
    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"

"""Size and speed of the architectures on this machine: parameters, multiply-adds, training and inference speed.

Example:

    python -m train.bench --json out/train_bench.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from edge_app.atomic import write_atomic


def flops(model) -> int:
    """Multiply-adds of one forward pass (convolutions and dense layers; the rest is negligible)."""
    from keras import layers

    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.DepthwiseConv2D):
            _, h, w, c = layer.output.shape
            total += h * w * c * int(np.prod(layer.kernel_size))
        elif isinstance(layer, layers.Conv2D):
            _, h, w, c = layer.output.shape
            total += h * w * c * int(np.prod(layer.kernel_size)) * layer.input.shape[-1]
        elif isinstance(layer, layers.Dense):
            total += layer.input.shape[-1] * layer.units
    return int(total)


def measure(arch: str, steps: int, batch_size: int) -> dict:
    """Params, multiply-adds, training images/s and float inference latency (batch 1 and 64) of one arch."""
    import keras

    from edge_app.contract import HEADS

    from .models import build_model

    model = build_model(arch)
    model.compile(optimizer="adam", loss={h: "sparse_categorical_crossentropy" for h in HEADS})
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (batch_size, 54, 54, 3), dtype=np.uint8)
    y = {h: rng.integers(0, 7 if h == "length" else 11, batch_size) for h in HEADS}
    model.train_on_batch(x, y)  # build and trace first
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    train_ips = steps * batch_size / (time.perf_counter() - start)
    single = x[:1]
    model.predict_on_batch(single)
    times = []
    for _ in range(30):
        t = time.perf_counter()
        model.predict_on_batch(single)
        times.append((time.perf_counter() - t) * 1000)
    model.predict_on_batch(x)  # trace the batch shape first
    t = time.perf_counter()
    for _ in range(5):
        model.predict_on_batch(x)
    batch_ms = (time.perf_counter() - t) * 1000 / 5
    keras.backend.clear_session()
    return {"arch": arch, "params": int(model.count_params()), "mult_adds": flops(model),
            "train_images_per_second": round(train_ips, 1), "infer_ms_batch1_p50": round(float(np.median(times)), 2),
            "infer_images_per_second_batch": round(batch_size / batch_ms * 1000, 1)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--archs", default="edge,goodfellow", help="comma-separated architectures (default edge,goodfellow)")
    p.add_argument("--steps", type=int, default=10, help="timed training steps per arch (default 10)")
    p.add_argument("--batch-size", type=int, default=64, help="batch size (default 64)")
    p.add_argument("--json", type=Path, help="write the results here")
    args = p.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    rows = [measure(a.strip(), args.steps, args.batch_size) for a in args.archs.split(",")]
    print(f"{'arch':<11} {'params':>10} {'mult-adds':>12} {'train img/s':>12} {'infer ms (1)':>13} {'infer img/s (batch)':>20}")
    for r in rows:
        print(f"{r['arch']:<11} {r['params']:>10,} {r['mult_adds']:>12,} {r['train_images_per_second']:>12} "
              f"{r['infer_ms_batch1_p50']:>13} {r['infer_images_per_second_batch']:>20}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(args.json, json.dumps({"machine": f"{platform.machine()} {os.cpu_count()} cores", "results": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

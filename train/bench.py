"""Size and speed of the architectures on this machine: parameters, multiply-adds, training and inference speed.

Example:

    python -m train.bench --json out/train_bench.json
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time

import numpy as np

from edge_app import cli
from edge_app.atomic import write_atomic
from edge_app.timing import time_calls

from .config import ARCH_NAMES


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
    single = time_calls(lambda _: model.predict_on_batch(x[:1]), 30)
    batch_ms = float(time_calls(lambda _: model.predict_on_batch(x), 5).mean())  # the warm-up traces the shape
    keras.backend.clear_session()
    return {"arch": arch, "params": int(model.count_params()), "mult_adds": flops(model),
            "train_images_per_second": round(train_ips, 1), "infer_ms_batch1_p50": round(float(np.median(single)), 2),
            "infer_images_per_second_batch": round(batch_size / batch_ms * 1000, 1)}


def main(argv=None) -> int:
    p = cli.parser("python -m train.bench", __doc__)
    p.add_argument("--archs", default="edge,goodfellow", help="comma-separated architectures")
    p.add_argument("--steps", type=cli.positive_int, default=10, help="timed training steps per arch")
    p.add_argument("--batch-size", type=cli.int_range(1, 4096), default=64, help="batch size")
    p.add_argument("--json", type=cli.output_file, help="write the results to this file")
    args = p.parse_args(argv)
    cli.setup_logging(args.verbose, args.quiet)
    archs = [a.strip() for a in args.archs.split(",") if a.strip()]
    if not archs or any(a not in ARCH_NAMES for a in archs):
        p.error(f"--archs {args.archs!r}: choose from {', '.join(ARCH_NAMES)}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return cli.run(lambda: _main(args, archs))


def _main(args, archs: list[str]) -> int:
    rows = [measure(a, args.steps, args.batch_size) for a in archs]
    print(f"{'arch':<11} {'params':>10} {'mult-adds':>12} {'train img/s':>12} {'infer ms (1)':>13} "
          f"{'infer img/s (batch)':>20}")
    for r in rows:
        print(f"{r['arch']:<11} {r['params']:>10,} {r['mult_adds']:>12,} {r['train_images_per_second']:>12} "
              f"{r['infer_ms_batch1_p50']:>13} {r['infer_images_per_second_batch']:>20}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        machine = f"{platform.machine()} {os.cpu_count()} cores"
        write_atomic(args.json, json.dumps({"machine": machine, "results": rows}, indent=2))
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

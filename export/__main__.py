"""Export a trained model to full-integer int8 TF Lite (uint8 raw-pixel input) with its model card.

Example:

    python -m export --model runs/edge/model.keras --calibration calib.npz --out models \
        --variants int8,float,dynamic --eval-data ../shared/data/svhn/recon/test

Writes <name>.tflite + <name>.json (and <name>_float / _dynamic variants on request), report.json
and report.md with --eval-data, and <name>_edgetpu.tflite when edgetpu_compiler is installed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m export", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, required=True, help="RUN/model.keras from python -m train")
    p.add_argument("--calibration", type=Path, required=True, help="representative set from python -m calibration")
    p.add_argument("--out", type=Path, required=True, help="folder for the .tflite files, sidecars and report")
    p.add_argument("--name", default="house_numbers", help="file name stem (default house_numbers)")
    p.add_argument("--variants", default="int8", help="comma-separated: int8 (always), float, dynamic (default int8)")
    p.add_argument("--eval-data", type=Path, help="labelled folder for the parity report (accuracy, agreement, latency)")
    p.add_argument("--eval-limit", type=int, help="only the first N pictures of --eval-data")
    p.add_argument("--force", action="store_true", help="replace models from another source in --out")
    p.add_argument("--compiler", default="edgetpu_compiler", help="Edge TPU compiler to run when installed")
    args = p.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from edge_app.inference.card import ModelError
    from train.cache import DataError

    from .convert import VARIANTS, ExportError
    from .run import ExportConfig, export

    variants = tuple(v.strip() for v in args.variants.split(",") if v.strip())
    if bad := [v for v in variants if v not in VARIANTS]:
        p.error(f"unknown variant(s) {bad}; choose from {', '.join(VARIANTS)}")
    cfg = ExportConfig(args.model, args.calibration, args.out, args.name, variants, args.eval_data,
                       args.eval_limit, args.force, args.compiler)
    try:
        report = export(cfg)
    except (ExportError, DataError, ModelError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {', '.join(f'{args.name}{v}' for v in [''] + [f'_{x}' for x in variants if x != 'int8'])} in {args.out}")
    if "variants" in report and report["variants"]:
        print((args.out / "report.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())

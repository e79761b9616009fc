"""Export a trained model to full-integer int8 TF Lite (uint8 raw-pixel input) with its model card.

Example:

    python -m export --model runs/edge/model.keras --calibration calib.npz --out models \\
        --variants int8,float,dynamic --eval-data ../shared/data/svhn/recon/test

Writes <name>.tflite + <name>.json (and <name>_float / _dynamic variants on request), report.json
and report.md with --eval-data, and <name>_edgetpu.tflite when edgetpu_compiler is installed.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from edge_app import cli

log = logging.getLogger("export")


def main(argv=None) -> int:
    p = cli.parser("python -m export", __doc__)
    p.add_argument("--model", type=Path, required=True, help="RUN/model.keras from python -m train")
    p.add_argument("--calibration", type=Path, required=True, help="representative set from python -m calibration")
    p.add_argument("--out", type=Path, required=True, help="folder for the .tflite files, sidecars and report")
    p.add_argument("--name", default="house_numbers", help="file name stem")
    p.add_argument("--variants", default="int8", help="comma-separated: int8 (always), float, dynamic")
    p.add_argument("--eval-data", type=Path, help="labelled folder for the parity report (accuracy, agreement, "
                   "latency)")
    p.add_argument("--eval-limit", type=cli.positive_int, help="only the first N pictures of --eval-data")
    p.add_argument("--skip-bad", action="store_true", help="leave out --eval-data pictures that cannot be read or "
                   "whose label is bad (each is named), instead of stopping")
    p.add_argument("--threshold-data", help="DIR,DIR: the run's validation pictures, when its training folders are "
                   "not on this machine (scripts/validation_pictures.py); default: the run's own split")
    p.add_argument("--force", action="store_true", help="replace models from another source in --out")
    p.add_argument("--compiler", default="edgetpu_compiler", help="Edge TPU compiler to run when installed")
    p.add_argument("--target", choices=("tflite", "imx500"), default="tflite",
                   help="imx500: the detector or the reader as packerOut.zip for the Raspberry Pi AI Camera (--model: "
                   "the detector's run model.keras, or either int8 .tflite with its card), in the environment of "
                   "scripts/imx500_env.sh (docs/imx500.md)")
    p.add_argument("--fixture", type=Path, help="--target imx500: also write this .npz of real frames with the "
                   "quantized model's outputs (the tests' stand-in AI Camera)")
    args = p.parse_args(argv)
    cli.setup_logging(args.verbose, args.quiet)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.out.exists() and not args.out.is_dir():
        p.error(f"--out {args.out} is a file; give a folder")

    from edge_app.contract import ContractError
    from edge_app.inference.card import VARIANTS, ModelError
    from train.cache import DataError

    from .checks import ExportError

    if args.target == "imx500":
        return cli.run(lambda: _imx500(args), errors=(ExportError, DataError, ModelError, ContractError))
    variants = tuple(v.strip() for v in args.variants.split(",") if v.strip())
    if bad := [v for v in variants if v not in VARIANTS]:
        p.error(f"unknown variant(s) {bad}; choose from {', '.join(VARIANTS)}")
    return cli.run(lambda: _main(args, variants), errors=(ExportError, DataError, ModelError, ContractError))


def _main(args, variants: tuple[str, ...]) -> int:
    from .run import ExportConfig, export

    cfg = ExportConfig(args.model, args.calibration, args.out, args.name, variants, args.eval_data,
                       args.eval_limit, args.force, args.compiler, args.skip_bad, args.threshold_data)
    report = export(cfg)
    names = [f"{args.name}{'' if v == 'int8' else '_' + v}" for v in variants]
    log.info("wrote %s in %s", ", ".join(names), args.out)
    if report.get("variants"):
        print((args.out / "report.md").read_text())
    return cli.EXIT_OK


def _imx500(args) -> int:
    from .imx500 import Imx500Config, check_toolchain

    check_toolchain()  # one line, before TensorFlow loads, in an environment without it
    from .imx500.run import export_imx500

    name = args.name if args.name != "house_numbers" else None  # default: <the .tflite's stem>_imx500
    report = export_imx500(Imx500Config(args.model, args.calibration, args.out, name, args.eval_data,
                                        args.eval_limit, args.fixture))
    m = report.get("measured")
    if m and report["kind"] == "detector":
        print(f"recall at IoU 0.5 (threshold {m['threshold']}): float {m['float']['recall']:.3f}, MCT "
              f"{m['mct']['recall']:.3f} ({m['recall_drop_points']:+.2f} points); precision float "
              f"{m['float']['precision']:.3f}, MCT {m['mct']['precision']:.3f}")
    elif m:
        tflite = f", int8 .tflite {m['tflite']['sequence_accuracy']:.4f}" if "tflite" in m else ""
        print(f"sequence accuracy on {m['pictures']} pictures of {m['data']}: float "
              f"{m['float']['sequence_accuracy']:.4f}, MCT {m['mct']['sequence_accuracy']:.4f}{tflite}")
    log.info("wrote the %s's packerOut.zip and card in %s (conversion %.1f s, %s on the sensor)", report["kind"],
             args.out, report["converter"]["seconds"], report["converter"]["memory"]["Memory Usage"])
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

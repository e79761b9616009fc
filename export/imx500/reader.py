"""The reader's part of export --target imx500: float vs MCT-quantized vs the int8 .tflite on labelled pictures
(sequence accuracy, through the contract's centre crops), and the stand-in's fixture for the fixed-ROI mode."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from edge_app.annotations import read_labels
from edge_app.atomic import write_atomic
from edge_app.contract import HEADS, Box, digit_region, load_image, model_input, union_box
from edge_app.decode import decode_batch
from edge_app.sources.base import natural_key
from train.cache import load_crops
from train.folders import eval_inputs
from train.metrics import score

from . import Imx500Config

OUTPUTS = HEADS  # the sensor model's output order: length, digit1..digit5 (the card names them for the app)
FIXTURE_SIZE = (320, 240)  # the stand-in's frames: each picture letterboxed (edge pixels) into 4:3
BATCH = 64
KEPT = ("sequence_accuracy", "digit_accuracy", "coverage_at_98", "by_length")


def heads(outputs) -> tuple[np.ndarray, np.ndarray]:
    """Six head outputs (a dict by name, or a list in OUTPUTS order) -> length (N, 7) and digits (N, 5, 11)."""
    if not isinstance(outputs, dict):
        outputs = dict(zip(OUTPUTS, outputs))
    return np.asarray(outputs["length"]), np.stack([np.asarray(outputs[h]) for h in HEADS[1:]], axis=1)


def evaluate(cfg: Imx500Config, model, quantized, twin_path: Path | None, twin) -> dict:
    """Sequence accuracy of the rebuilt float model, the MCT-quantized one and the .tflite on the first
    --eval-limit pictures of --eval-data (centre crops of the contract's regions), and how often they agree."""
    crops = load_crops(cfg.eval_data, quiet=True)
    n = len(crops) if cfg.eval_limit is None else min(cfg.eval_limit, len(crops))
    inputs, targets = eval_inputs(np.asarray(crops.regions[:n])), crops.targets[:n]
    probs = {"float": heads(model.predict(inputs, batch_size=BATCH, verbose=0)),
             "mct": heads(quantized.predict(inputs.astype(np.float32), batch_size=BATCH, verbose=0))}
    if twin_path is not None:
        probs["tflite"] = tflite_heads(twin_path, twin, inputs)
    scores = {name: {k: v for k, v in score(*p, targets).items() if k in KEPT} for name, p in probs.items()}
    texts = {name: _texts(*p) for name, p in probs.items()}
    measured = {"data": str(cfg.eval_data), "pictures": n, "crop": "contract: region grown 30%, 64x64, centre 54x54",
                **scores,
                "sequence_drop_points": round((scores["float"]["sequence_accuracy"]
                                               - scores["mct"]["sequence_accuracy"]) * 100, 2),
                "mct_reads_as_float": float(np.mean(texts["mct"] == texts["float"]))}
    if "tflite" in probs:
        measured["rebuilt_vs_tflite"] = {
            "reads_alike": float(np.mean(texts["float"] == texts["tflite"])),
            "length_mean_abs_diff": float(np.abs(probs["float"][0] - probs["tflite"][0]).mean()),
            "digits_mean_abs_diff": float(np.abs(probs["float"][1] - probs["tflite"][1]).mean())}
    return {"measured": measured}


def _texts(length_probs: np.ndarray, digit_probs: np.ndarray) -> np.ndarray:
    lengths, digits, _, _ = decode_batch(length_probs, digit_probs)
    return np.array(["".join(map(str, d[:n])) for n, d in zip(lengths, digits)])


def tflite_heads(path: Path, card, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The int8 .tflite's dequantised heads, found by name through its card (the converter reorders outputs)."""
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    index = {d["name"]: d for d in interpreter.get_output_details()}
    got = {h: [] for h in HEADS}
    for x in inputs:
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x[None])
        interpreter.invoke()
        for h in HEADS:
            d = index[card.outputs[h].name]
            scale, zero = d["quantization"]
            got[h].append(scale * (interpreter.get_tensor(d["index"])[0].astype(np.int64) - zero))  # widened first
    return heads({h: np.stack(v) for h, v in got.items()})


def write_fixture(cfg: Imx500Config, quantized, twin) -> None:
    """The first `fixture_count` pictures of --eval-data letterboxed into FIXTURE_SIZE frames, each with its number's
    box (the ROI a user draws, in frame pixels), its label and the MCT model's six heads on that ROI as the
    contract grows and crops it: what the stand-in AI Camera serves in the fixed-ROI mode."""
    annotations = sorted(read_labels(cfg.eval_data).annotations, key=lambda a: natural_key(a.name))
    frames, rois, labels, inputs, names = [], [], [], [], []
    for a in annotations[: cfg.fixture_count]:
        frame, (scale, dx, dy) = letterbox(load_image(Path(cfg.eval_data) / a.name), FIXTURE_SIZE)
        u = union_box(a.boxes)
        roi = [u.left * scale + dx, u.top * scale + dy, u.width * scale, u.height * scale]
        frames.append(frame)
        rois.append(roi)
        labels.append("".join(map(str, a.digits)))
        inputs.append(model_input(frame, digit_region([Box(*roi)])))
        names.append(a.name)
    out = quantized.predict(np.stack(inputs).astype(np.float32), verbose=0)
    buf = io.BytesIO()
    np.savez_compressed(buf, frames=np.stack(frames), rois=np.array(rois, np.float32), labels=np.array(labels),
                        names=np.array(names), output_order=np.array(OUTPUTS),
                        **{h: np.asarray(o, np.float32) for h, o in zip(OUTPUTS, out)},
                        source=np.array(json.dumps({"data": str(cfg.eval_data), "model": str(cfg.model)})))
    write_atomic(cfg.fixture, buf.getvalue())


def letterbox(image: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, tuple[float, int, int]]:
    """The picture scaled to fit (w, h), its edge pixels replicated around it; and (scale, dx, dy) of the mapping."""
    from PIL import Image

    w, h = size
    scale = min(w / image.shape[1], h / image.shape[0])
    nw, nh = max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale))
    small = np.asarray(Image.fromarray(image).resize((nw, nh), Image.BILINEAR))
    dx, dy = (w - nw) // 2, (h - nh) // 2
    framed = np.pad(small, ((dy, h - nh - dy), (dx, w - nw - dx), (0, 0)), mode="edge")
    return framed, (scale, dx, dy)

"""The detector's part of --target imx500: float vs MCT-quantized on the dev scenes; the stand-in's fixture."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from edge_app.atomic import write_atomic
from edge_app.contract import detector_input, load_image
from edge_app.inference.card import read_card
from edge_app.scenes import read_scenes
from train.detection_metrics import report
from train.scene_data import found_in, load_frames

from . import Imx500Config

OUTPUTS = ("heatmap", "box")  # the sensor model's output order (the converter keeps it: dnnParams.xml ordinals)
FIXTURE_SIZE = (256, 192)  # the stand-in's frames: 4:3 like the detector, above its input, small enough to commit
BATCH = 32


def gate(twin) -> float:
    """The CPU detector's box score threshold, which the scores and the fixture use."""
    return twin.gate.threshold if twin and twin.gate.threshold is not None else 0.5


def evaluate(cfg: Imx500Config, model, quantized, twin_path: Path | None, twin) -> dict:
    """Float (rebuilt) vs MCT-quantized on the dev scenes at IoU 0.5, at the CPU detector's threshold; and how
    close the rebuilt float model's outputs are to the shipped .tflite's."""
    threshold = gate(twin)
    frames, boxes, _ = load_frames(cfg.eval_data)
    n = len(frames) if cfg.eval_limit is None else min(cfg.eval_limit, len(frames))
    frames, boxes = frames[:n], boxes[:n]
    out_f = model.predict(frames, batch_size=BATCH, verbose=0)
    out_q = dict(zip(OUTPUTS, quantized.predict(frames.astype(np.float32), batch_size=BATCH, verbose=0)))
    found = {"float": found_in(out_f["heatmap"], out_f["box"]), "mct": found_in(out_q["heatmap"], out_q["box"])}
    keys = ("recall", "precision", "f1", "mean_iou", "ap50", "false_per_empty_frame")
    scores = {name: {k: report(f, boxes, threshold)[k] for k in keys} for name, f in found.items()}
    measured = {"data": str(cfg.eval_data), "frames": n, "numbers": sum(len(b) for b in boxes), "iou": 0.5,
                "threshold": threshold, **scores,
                "recall_drop_points": round((scores["float"]["recall"] - scores["mct"]["recall"]) * 100, 2),
                "heatmap_mean_abs_diff_mct_vs_float": float(np.abs(out_q["heatmap"] - out_f["heatmap"]).mean())}
    if twin_path is not None:
        measured["rebuilt_vs_tflite"] = parity(model, twin_path, frames, boxes, threshold, out_f)
    return {"measured": measured}


def parity(model, twin: Path, frames, boxes, threshold: float, out_f: dict) -> dict:
    """The rebuilt float model against the .tflite it came from: output differences and both detectors' scores."""
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(twin))
    interpreter.allocate_tensors()
    card = read_card(twin, "detector")
    index = {d["name"]: d for d in interpreter.get_output_details()}
    heat, box = [], []
    for frame in frames:
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], frame[None])
        interpreter.invoke()
        got = {}
        for role in OUTPUTS:
            d = index[card.outputs[role].name]
            scale, zero = d["quantization"]
            got[role] = scale * (interpreter.get_tensor(d["index"])[0].astype(np.int64) - zero)
        heat.append(got["heatmap"])
        box.append(got["box"])
    heat, box = np.stack(heat), np.stack(box)
    tflite = report(found_in(heat, box), boxes, threshold)
    return {"heatmap_mean_abs_diff": float(np.abs(heat - out_f["heatmap"]).mean()),
            "heatmap_max_abs_diff": float(np.abs(heat - out_f["heatmap"]).max()),
            "box_mean_abs_diff": float(np.abs(box - out_f["box"]).mean()),
            "tflite_recall": tflite["recall"], "tflite_precision": tflite["precision"]}


def write_fixture(cfg: Imx500Config, quantized, twin) -> None:
    """The first `fixture_count` dev scenes at FIXTURE_SIZE with the MCT model's outputs on each: what the tests'
    stand-in sensor serves (real frames, real outputs), with the numbers' true boxes in frame pixels."""
    from PIL import Image

    threshold = gate(twin)
    scenes = read_scenes(cfg.eval_data)[: cfg.fixture_count]
    frames, truths = [], []
    for s in scenes:
        image = load_image(Path(cfg.eval_data) / s.name)
        sx, sy = FIXTURE_SIZE[0] / image.shape[1], FIXTURE_SIZE[1] / image.shape[0]
        frames.append(np.asarray(Image.fromarray(image).resize(FIXTURE_SIZE, Image.BILINEAR)))
        truths.append([[b.left * sx, b.top * sy, b.width * sx, b.height * sy] for b in s.number_boxes()])
    frames = np.stack(frames)
    inputs = np.stack([detector_input(f) for f in frames]).astype(np.float32)
    heat, box = quantized.predict(inputs, verbose=0)
    buf = io.BytesIO()
    np.savez_compressed(buf, frames=frames, heatmap=heat.astype(np.float32), box=box.astype(np.float32),
                        truths=np.array(json.dumps(truths)), names=np.array([s.name for s in scenes]),
                        threshold=np.float32(threshold))
    write_atomic(cfg.fixture, buf.getvalue())

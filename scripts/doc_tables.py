"""The results tables of the docs, each rendered from the JSON report it comes from (scripts/render_docs.py puts
them between `<!-- table: NAME -->` and `<!-- /table -->`; NAME is a key of TABLES)."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load(path: str) -> dict:
    return json.loads((ROOT / path).read_text())


def _pct(v) -> str:
    return "" if v is None else f"{100 * v:.1f}%"


def _when(summary: dict) -> str:
    """The date and machine a report was measured on (older reports: not recorded)."""
    return f"{summary['date']}, {summary['machine']}" if summary.get("date") else "not recorded"


def table_readers() -> str:
    """The shipped readers: accuracy from their model cards (measured by export), size, licence."""
    rows = ["| model | SVHN test (rebuilt, images 1-2500) | per digit | coverage at 98% | size | licence |",
            "|---|---|---|---|---|---|"]
    for name in ("house_numbers", "house_numbers_clean"):
        card = _load(f"models/{name}.json")
        m = card["measured"]
        size = (ROOT / "models" / f"{name}.tflite").stat().st_size / 1e6
        rows.append(f"| `models/{name}.tflite` | {_pct(m['sequence_accuracy'])} | {_pct(m['digit_accuracy'])} | "
                    f"{_pct(m['coverage_at_98'])} | {size:.2f} MB | {card['training']['licence']} |")
    return "\n".join(rows)


def table_scenes() -> str:
    """The shipped detector + reader on the dev scenes (real SVHN test numbers pasted into 640x480 house fronts)."""
    rows = ["| dev scenes | frames (with a number / empty) | read right | precision | false readings on empty frames "
            "| detector recall at IoU 0.5 | whole frame p50 / p95 | measured |", "|---|---|---|---|---|---|---|---|"]
    for label, path in (("numbers 5-40% of the height", "docs/eval_scenes_dev.json"),
                        ("small numbers, 3-15%", "docs/eval_scenes_small_dev.json")):
        if not (ROOT / path).is_file():
            continue
        s = _load(path)["summary"]
        d, lat = s["detect"], s["latency_ms"]["detect_frame"]
        rows.append(f"| {label} | {s['number_frames']} / {s['empty_frames']} | {_pct(d['number_frames_read_right'])} | "
                    f"{_pct(d['precision'])} | {d['false_readings_on_empty']} | {_pct(s['detector']['recall_at_0.5'])} "
                    f"| {lat['p50']:.1f} / {lat['p95']:.1f} ms | {_when(s)} |")
    return "\n".join(rows)


def table_real_photos() -> str:
    """The app on real photographs (real_numbers), each half, with RapidOCR measured in the same run."""
    rows = ["| real photographs | photos with a number / without | read right | precision | readings on photos without "
            "| reader on the true boxes | time a photo (p50) | measured |", "|---|---|---|---|---|---|---|---|"]
    for half in ("dev", "tune"):
        path = f"docs/eval_real_{half}.json"
        if not (ROOT / path).is_file():
            continue
        s = _load(path)["summary"]
        d = s["detect"]
        t = s["true_boxes"]
        rows.append(f"| edge app, {half} half | {d['photos_with_number']} / {d['empty_photos']} | {d['read_right']} "
                    f"({_pct(d['read_right_share'])}) | {_pct(d['precision'])} | {d['false_on_empty']} | "
                    f"{t['read_right']} of {t['numbers']} | {s['ms']['p50']:.0f} ms | {_when(s)} |")
        if "rapidocr" in s:
            r = s["rapidocr"]
            rows.append(f"| RapidOCR (PP-OCRv4, 1 thread), {half} half | {r['photos_with_number']} / "
                        f"{r['empty_photos']} | {r['read_right']} ({_pct(r['read_right_share'])}) | "
                        f"{_pct(r['precision'])} | {r['false_on_empty']} | | {r['ms']['p50']:.0f} ms | {_when(s)} |")
    return "\n".join(rows)


CLIP_REPORTS = (("tracks (default), dev", "docs/eval_clips_dev.json"),
                 ("3/5 vote (0.2.0), dev", "docs/eval_clips_dev_vote.json"),
                 ("tracks (default), tune", "docs/eval_clips_tune.json"),
                 ("3/5 vote (0.2.0), tune", "docs/eval_clips_tune_vote.json"),
                 ("tracks (default), tune2", "docs/eval_clips_tune2.json"))


def table_clips() -> str:
    """Live reading on the camera-like clips (scripts/eval_clips.py): the tracks against the old per-frame vote."""
    rows = ["| live clips, 640x480 at 15 fps | clips with a number / empty | clips right | wrong reports | "
            "false reports on empty clips | first right report (median) | frame p50 | measured |",
            "|---|---|---|---|---|---|---|---|"]
    for label, path in CLIP_REPORTS:
        if not (ROOT / path).is_file():
            continue
        r = _load(path)
        o = r["overall"]
        first = "" if o["median_first_right_s"] is None else f"{o['median_first_right_s']:.2f} s"
        rows.append(f"| {label} | {o['with_number']} / {o['empty']} | {o['right']} ({_pct(o['right_share'])}) | "
                    f"{o['wrong_reports']} | {o['false_on_empty']} | {first} | {r['frame_ms_p50']:.1f} ms | "
                    f"{_when(r)}, {r['threads']} thread |")
    return "\n".join(rows)


def table_clip_kinds() -> str:
    """The dev clips kind by kind, tracks against the old vote."""
    tracks, vote = _load("docs/eval_clips_dev.json"), _load("docs/eval_clips_dev_vote.json")
    rows = ["| kind (dev clips) | clips | right, tracks | right, 3/5 vote | wrong reports, tracks | "
            "wrong reports, vote | first right report, tracks |", "|---|---|---|---|---|---|---|"]
    for kind, k in tracks["kinds"].items():
        v = vote["kinds"][kind]
        right = (f"{k['right']}", f"{v['right']}") if k["with_number"] else ("", "")
        wrong = (k["wrong_reports"] + k["false_on_empty"], v["wrong_reports"] + v["false_on_empty"])
        first = f"{k['median_first_right_s']:.2f} s" if k.get("median_first_right_s") is not None else ""
        rows.append(f"| {kind} | {k['clips']} | {right[0]} | {right[1]} | {wrong[0]} | {wrong[1]} | {first} |")
    return "\n".join(rows)


def table_imx500() -> str:
    """export --target imx500: the detector rebuilt in float and MCT-quantized for the sensor, on the dev scenes."""
    r = _load("docs/imx500_report.json")
    m = r["measured"]
    zipped = (ROOT / "models" / "number_detector_imx500_packerOut.zip").stat().st_size / 1e3
    cpu = (ROOT / r["model"]).stat().st_size / 1e3
    t = m["rebuilt_vs_tflite"]
    rows = [f"| detector on the dev scenes (IoU {m['iou']}, threshold {m['threshold']}) | recall | precision | AP50 "
            "| size |", "|---|---|---|---|---|",
            f"| float, rebuilt in tf.keras 2.15 | {_pct(m['float']['recall'])} | {_pct(m['float']['precision'])} | "
            f"{m['float']['ap50']:.3f} | |",
            f"| MCT-quantized (the sensor's network) | {_pct(m['mct']['recall'])} | {_pct(m['mct']['precision'])} | "
            f"{m['mct']['ap50']:.3f} | {zipped:.0f} KB packerOut.zip |",
            f"| int8 .tflite (the CPU detector), for reference | {_pct(t['tflite_recall'])} | "
            f"{_pct(t['tflite_precision'])} | | {cpu:.0f} KB |"]
    return "\n".join(rows) + f"\n\nFrom `docs/imx500_report.json` ({r['measured_on']}).\n\n" + _imx500_reader()


def _imx500_reader() -> str:
    """The reader's row set: rebuilt float, MCT-quantized and the int8 .tflite on the same labelled pictures."""
    r = _load("docs/imx500_reader_report.json")
    m, c = r["measured"], r["converter"]
    zipped = (ROOT / "models" / "house_numbers_imx500_packerOut.zip").stat().st_size / 1e6
    cpu = (ROOT / r["model"]).stat().st_size / 1e6
    rows = [f"| reader on {m['pictures']} pictures of `{'/'.join(Path(m['data']).parts[-2:])}` | sequence accuracy "
            "| digit accuracy | coverage at 98% | size |", "|---|---|---|---|---|"]
    for key, label, size in (("float", "float, rebuilt in tf.keras 2.15", ""),
                             ("mct", "MCT-quantized (the sensor's network)", f"{zipped:.2f} MB packerOut.zip"),
                             ("tflite", "int8 .tflite (the CPU reader), for reference", f"{cpu:.2f} MB")):
        rows.append(f"| {label} | {_pct(m[key]['sequence_accuracy'])} | {_pct(m[key]['digit_accuracy'])} | "
                    f"{_pct(m[key]['coverage_at_98'])} | {size} |")
    return ("\n".join(rows) + f"\n\nThe MCT-quantized reader reads {_pct(m['mct_reads_as_float'])} of the pictures as "
            f"the float one does; on the sensor it takes {c['memory']['Memory Usage']} of "
            f"{c['memory']['Total Memory Available On Chip']} (converter {c['version']}, {c['seconds']:.0f} s). From "
            f"`docs/imx500_reader_report.json` ({r['measured_on']}).")


def table_net_fault_pass() -> str:
    report = _load("docs/net_fault_pass.json")
    rows = [f"{report['cases'] - report['failed']} of {report['cases']} cases ok ({report['date']}, "
            f"{report['machine']}, {report['seconds']:.0f} s).\n", "| case | tried | must happen | verdict | seen |",
            "|---|---|---|---|---|"]
    for r in report["results"]:
        seen = r["seen"].replace("|", "\\|")[:90]
        rows.append(f"| {r['id']} | {r['case']} | {r['expect']} | {r['verdict']} | {seen} |")
    return "\n".join(rows)


def table_fault_pass() -> str:
    report = _load("docs/fault_pass.json")
    totals = ", ".join(f"{k} {v}" for k, v in report["totals"].items())
    return (f"| pass | cases | verdicts | seconds |\n|---|---|---|---|\n"
            f"| `scripts/fault_pass.py` ({report['mode']}) | {report['cases']} | {totals} | {report['seconds']:.0f} |")


def table_edge_bench() -> str:
    """edge_app.bench: the reader, one ROI frame, the detector, and a whole detected frame, per thread count."""
    report = _load("docs/bench_edge.json")
    rows = [f"Measured {report.get('date', '(date not recorded)')} on {report['machine']}, {report['runs']} runs each, "
            f"the shipped models, a {report['frame']}.\n",
            "| threads | reader p50 / p95 | ROI frame p50 / p95 | detector p50 / p95 | detected frame p50 / p95 | "
            "detected frames/s | one look p50 |", "|---|---|---|---|---|---|---|"]
    for r in report["results"]:
        model, frame, detector, detected = (f"{r[k]['p50_ms']:.2f} / {r[k]['p95_ms']:.2f} ms"
                                            for k in ("model", "frame", "detector", "detected_frame"))
        rows.append(f"| {r['threads']} | {model} | {frame} | {detector} | {detected} | "
                    f"{r['detected_frame']['fps']:,.0f} | {r['detected_frame_one_look']['p50_ms']:.2f} ms |")
    return "\n".join(rows)


def table_fleet_cost() -> str:
    """scripts/bench_outputs.py: the frame loop with MQTT + HTTP + an open page against no outputs."""
    r = _load("docs/bench_outputs.json")
    off, on = "outputs off", "mqtt + http + page"
    return "\n".join([
        f"Measured on {r['machine']} (load average {r['load_average']['before'][0]:.0f}: a shared machine).\n",
        "| frame loop | FPS, all blocks | FPS, median block | CPU per frame |", "|---|---|---|---|",
        f"| outputs off | {r['fps_overall'][off]} | {r['fps_median_of_blocks'][off]} | "
        f"{r['cpu_ms_per_frame'][off]:.2f} ms |",
        f"| MQTT + HTTP + a page open | {r['fps_overall'][on]} | {r['fps_median_of_blocks'][on]} | "
        f"{r['cpu_ms_per_frame'][on]:.2f} ms |",
        f"| cost | {r['cost_percent_overall']}% | {r['cost_percent']}% | **{r['cpu_cost_percent']:+.1f}%** |"])


def table_results() -> str:
    """The README's one results table: each way the app reads, on its dev data, from the reports below it."""
    rows = ["| what is read | data (evaluation only) | read right | mistakes | time, 1 thread (p50) | measured |",
            "|---|---|---|---|---|---|"]
    bench = _load("docs/bench_edge.json")
    one = next(r for r in bench["results"] if r["threads"] == 1)
    for name, label in (("house_numbers", "a fixed region (`--roi`), the reader"),
                        ("house_numbers_clean", "the same, synthetic-only reader")):
        m = _load(f"models/{name}.json")["measured"]
        time = f"{one['model']['p50_ms']:.2f} ms" if name == "house_numbers" else "(the same network)"
        rows.append(f"| {label} | SVHN test (rebuilt, images 1-2500), 2,500 numbers | {_pct(m['sequence_accuracy'])} "
                    f"| {_pct(1 - m['sequence_accuracy'])} read wrong; {_pct(m['coverage_at_98'])} read at 98% "
                    f"precision | {time} | model card (export); time {_when(bench)} |")
    for label, what, path in (("a still frame: detector + reader", "5-40%", "docs/eval_scenes_dev.json"),
                              ("a still frame, small numbers", "3-15%", "docs/eval_scenes_small_dev.json")):
        s = _load(path)["summary"]
        d = s["detect"]
        rows.append(f"| {label} | dev scenes, 640x480, numbers {what} of the height: {s['number_frames']} frames + "
                    f"{s['empty_frames']} empty | {_pct(d['number_frames_read_right'])} | precision "
                    f"{_pct(d['precision'])}, {d['false_readings_on_empty']} readings on empty frames | "
                    f"{s['latency_ms']['detect_frame']['p50']:.1f} ms | {_when(s)} |")
    r = _load("docs/eval_clips_dev.json")
    o = r["overall"]
    rows.append(f"| a live camera: tracks fuse every frame | dev clips, 640x480 at 15 fps: {o['with_number']} clips + "
                f"{o['empty']} empty | {_pct(o['right_share'])} of clips, first right report after "
                f"{o['median_first_right_s']:.2f} s | {o['wrong_reports']} wrong reports, {o['false_on_empty']} on "
                f"empty clips | {r['frame_ms_p50']:.1f} ms a frame | {_when(r)}, {r['threads']} thread |")
    s = _load("docs/eval_real_dev.json")["summary"]
    d = s["detect"]
    rows.append(f"| real photographs of house numbers | `real_numbers`, dev half: {d['photos_with_number']} photos + "
                f"{d['empty_photos']} without | {d['read_right']} of {d['photos_with_number']} | "
                f"{d['readings'] - d['read_right']} wrong of {d['readings']}, {d['false_on_empty']} on photos without "
                f"| {s['ms']['p50']:.0f} ms | {_when(s)} |")
    return "\n".join(rows)


TABLES = {"results": table_results, "readers": table_readers, "edge-bench": table_edge_bench,
          "fleet-cost": table_fleet_cost, "scenes": table_scenes, "real-photos": table_real_photos,
          "clips": table_clips, "clip-kinds": table_clip_kinds, "imx500": table_imx500,
          "net-fault-pass": table_net_fault_pass, "fault-pass": table_fault_pass}

"""Frame-loop FPS with MQTT + HTTP + a page open, against outputs off, in one run.

    python scripts/bench_outputs.py --json docs/bench_outputs.json

One process reads a 640x480 MJPG demo video with one ROI (made by scripts/make_demo_video.py when missing)
through the app's own frame loop (source -> region -> read -> gate -> smooth -> outputs), switching every
`--block` seconds between no outputs and MQTT (to a local Mosquitto) + HTTP with a client that fetches what
the page fetches every second (status, recent readings, snapshot). Alternating blocks in one run cancel the
drift of other work on the machine; each mode's FPS is its frames over its wall time (source decoding included),
and its CPU time per frame counts every thread of the process (the loop, paho, the spool, the HTTP server).
Needs `mosquitto` on the PATH and paho-mqtt installed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edge_app.app import App, AppConfig  # noqa: E402
from edge_app.atomic import write_atomic  # noqa: E402
from edge_app.contract import Box  # noqa: E402
from edge_app.interpreter import DEFAULT_MODEL  # noqa: E402
from edge_app.outputs import Fanout, build_outputs  # noqa: E402
from edge_app.outputs.mqtt import parse_mqtt_url  # noqa: E402
from edge_app.smoothing import Smoother  # noqa: E402
from edge_app.sources import open_source  # noqa: E402
from scripts.make_demo_video import ROI as DEMO_ROI  # noqa: E402
from scripts.make_demo_video import SVHN_TRAIN, write_video  # noqa: E402

ROI = Box(*DEMO_ROI)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_broker(folder: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    conf = folder / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n" + ("user root\n" if os.geteuid() == 0 else ""))
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.02)
    sys.exit("mosquitto did not start")


def page_client(port: int, page_on: threading.Event, stop: threading.Event, counts: dict) -> None:
    """While the outputs are on, every second what the page fetches."""
    while not stop.is_set():
        if not page_on.wait(0.05):
            continue
        for path in ("/api/status", "/api/readings?limit=10", "/snapshot.jpg"):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
                    r.read()
                counts[path] = counts.get(path, 0) + 1
            except OSError as err:
                counts["errors"] = counts.get("errors", 0) + 1
                print(f"page client: {path}: {err}", file=sys.stderr)
        stop.wait(1.0)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--video", type=Path, default=ROOT / "out" / "bench_outputs.avi",
                   help="demo video (made when missing)")
    p.add_argument("--passes", type=int, default=4, help="times through the video")
    p.add_argument("--block", type=float, default=1.0, help="seconds in one mode before switching to the other")
    p.add_argument("--json", type=Path, help="write the results here")
    args = p.parse_args(argv)
    if shutil.which("mosquitto") is None:
        sys.exit("mosquitto is not installed: apt-get install -y mosquitto")
    if not args.video.exists():
        args.video.parent.mkdir(parents=True, exist_ok=True)
        write_video(args.video, SVHN_TRAIN, numbers=40, frames=60)
    load = [round(v, 2) for v in os.getloadavg()]
    with tempfile.TemporaryDirectory() as tmp:
        broker, mqtt_port = start_broker(Path(tmp))
        http_port = free_port()
        cfg = AppConfig(model=DEFAULT_MODEL, source=str(args.video), roi=ROI, quiet=True,
                        mqtt=parse_mqtt_url(f"mqtt://127.0.0.1:{mqtt_port}"), mqtt_id="bench",
                        mqtt_spool=Path(tmp) / "spool", http=("127.0.0.1", http_port))
        outputs = build_outputs(cfg)
        app = App(cfg, outputs)
        modes = {"outputs off": Fanout([]), "mqtt + http + page": app.outputs}
        app.outputs.start(app)
        stop, page_on, counts = threading.Event(), threading.Event(), {}
        threading.Thread(target=page_client, args=(http_port, page_on, stop, counts), daemon=True).start()
        time.sleep(1.0)  # the broker connection
        blocks: dict[str, list[tuple[int, float, float]]] = {name: [] for name in modes}  # (frames, wall s, CPU s)
        names = list(modes)
        mode, frames, began, cpu = 0, 0, time.perf_counter(), time.process_time()
        readings = {name: 0 for name in modes}
        try:
            for _ in range(args.passes):
                with open_source(cfg.source) as source:
                    smoother = Smoother(3, 5)
                    for frame in source:
                        fan = modes[names[mode]]
                        view = app.process(frame, smoother)
                        fan.frame(view)
                        for event in view.events:
                            readings[names[mode]] += 1
                            fan.write(event)
                        frames += 1
                        now = time.perf_counter()
                        if now - began >= args.block:  # close this block, switch modes
                            blocks[names[mode]].append((frames, now - began, time.process_time() - cpu))
                            mode, frames, began, cpu = 1 - mode, 0, now, time.process_time()
                            page_on.set() if mode == 1 else page_on.clear()
        finally:
            stop.set()
            app.outputs.close()
            broker.terminate()
            broker.wait(10)
    fps = {name: [n / t for n, t, _ in b] for name, b in blocks.items()}
    off, on = statistics.median(fps["outputs off"]), statistics.median(fps["mqtt + http + page"])
    total = {name: sum(n for n, _, _ in b) / sum(t for _, t, _ in b) for name, b in blocks.items()}
    # The process's CPU time (all its threads: the loop, paho, the spool, the HTTP server) per frame: steadier
    # than wall time where other work shares the CPU.
    cpu_ms = {name: 1000 * sum(c for _, _, c in b) / sum(n for n, _, _ in b) for name, b in blocks.items()}
    result = {
        "video": str(args.video.relative_to(ROOT) if args.video.is_relative_to(ROOT) else args.video),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "block_s": args.block, "blocks": {k: len(v) for k, v in blocks.items()},
        "frames": {k: sum(n for n, _, _ in v) for k, v in blocks.items()}, "readings": readings,
        "fps_median_of_blocks": {"outputs off": round(off, 1), "mqtt + http + page": round(on, 1)},
        "fps_overall": {k: round(v, 1) for k, v in total.items()},
        "cost_percent": round(100 * (1 - on / off), 1),
        "cost_percent_overall": round(100 * (1 - total["mqtt + http + page"] / total["outputs off"]), 1),
        "cpu_ms_per_frame": {k: round(v, 3) for k, v in cpu_ms.items()},
        "cpu_cost_percent": round(100 * (cpu_ms["mqtt + http + page"] / cpu_ms["outputs off"] - 1), 1),
        "page_requests": counts, "load_average": {"before": load, "after": [round(v, 2) for v in os.getloadavg()]},
    }
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(args.json, json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Frame-loop FPS with MQTT + HTTP + a page open, against outputs off, in one run (interleaved rounds).

    python scripts/bench_outputs.py --json docs/bench_outputs.json

Runs `python -m edge_app` on a 640x480 MJPG demo video with one ROI (made by scripts/make_demo_video.py when
missing), once with no outputs and once with --mqtt to a local Mosquitto, --http and a client that asks for
what the page asks for every second (status, recent readings, snapshot). FPS is the app's own summary
(first frame to last); the app's CPU time per frame (start-up included) is steadier on a busy machine. Needs
`mosquitto` on the PATH and paho-mqtt installed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
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
ROI = "224,176,192,128"  # make_demo_video.py's


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_broker(folder: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    conf = folder / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n" + ("user root\n" if _root() else ""))
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_port(port)
    return proc, port


def _root() -> bool:
    return os.geteuid() == 0


def _wait_port(port: int, timeout: float = 30) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.02)
    return False


def page_client(port: int, stop: threading.Event, counts: dict) -> None:
    """Every second, what the page fetches: /api/status, /api/readings?limit=10 and /snapshot.jpg."""
    if not _wait_port(port):
        return
    while not stop.is_set():
        for path in ("/api/status", "/api/readings?limit=10", "/snapshot.jpg"):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
                    r.read()
                counts[path] = counts.get(path, 0) + 1
            except OSError:
                pass
        stop.wait(1.0)


def run_app(video: Path, extra: list[str], page_port: int | None) -> dict:
    stop, counts = threading.Event(), {}
    client = threading.Thread(target=page_client, args=(page_port, stop, counts), daemon=True) if page_port else None
    if client:
        client.start()
    cmd = [sys.executable, "-m", "edge_app", "--source", str(video), "--roi", ROI, "--quiet", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    stop.set()
    if proc.returncode != 0:
        sys.exit(f"edge_app failed: {proc.stderr[-2000:]}")
    summary = proc.stderr.strip().splitlines()[-1]
    fps = float(re.search(r"fps ([0-9.]+)", summary).group(1))
    frames = int(re.search(r"frames (\d+)", summary).group(1))
    readings = int(re.search(r"readings (\d+)", summary).group(1))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)  # the app's CPU, start-up included
    return {"fps": fps, "frames": frames, "readings": readings, "cpu_ms_per_frame": round(1000 * cpu / frames, 3),
            "page_requests": counts}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--video", type=Path, default=ROOT / "out" / "bench_outputs.avi", help="demo video (made when missing)")
    p.add_argument("--rounds", type=int, default=5, help="rounds of (off, on), interleaved; the median counts")
    p.add_argument("--json", type=Path, help="write the results here")
    args = p.parse_args()
    if shutil.which("mosquitto") is None:
        sys.exit("mosquitto is not installed: apt-get install -y mosquitto")
    if not args.video.exists():
        subprocess.run([sys.executable, "scripts/make_demo_video.py", "--out", str(args.video), "--numbers", "40",
                        "--frames", "60"], cwd=ROOT, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    load = [round(v, 2) for v in os.getloadavg()]  # other work on the machine makes the wall-clock FPS noisy
    with tempfile.TemporaryDirectory() as tmp:
        broker, mqtt_port = start_broker(Path(tmp))
        try:
            runs: dict[str, list[dict]] = {"outputs off": [], "mqtt + http + page": []}
            for i in range(args.rounds):
                runs["outputs off"].append(run_app(args.video, [], None))
                http = free_port()
                on = ["--mqtt", f"mqtt://127.0.0.1:{mqtt_port}", "--mqtt-id", "bench", "--mqtt-spool",
                      str(Path(tmp) / f"spool{i}"), "--http", str(http)]
                runs["mqtt + http + page"].append(run_app(args.video, on, http))
                a, b = runs["outputs off"][-1], runs["mqtt + http + page"][-1]
                print(f"round {i + 1}: off {a['fps']:.0f} fps {a['cpu_ms_per_frame']:.3f} CPU ms/frame, "
                      f"on {b['fps']:.0f} fps {b['cpu_ms_per_frame']:.3f} CPU ms/frame", file=sys.stderr)
        finally:
            broker.terminate()
            broker.wait(10)
    off = statistics.median(r["fps"] for r in runs["outputs off"])
    on = statistics.median(r["fps"] for r in runs["mqtt + http + page"])
    cpu_off = statistics.median(r["cpu_ms_per_frame"] for r in runs["outputs off"])
    cpu_on = statistics.median(r["cpu_ms_per_frame"] for r in runs["mqtt + http + page"])
    result = {
        "video": str(args.video.relative_to(ROOT) if args.video.is_relative_to(ROOT) else args.video),
        "frames": runs["outputs off"][0]["frames"], "readings_per_run": runs["mqtt + http + page"][0]["readings"],
        "machine": f"{platform.machine()}, {platform.python_version()}", "rounds": args.rounds,
        "fps_median": {"outputs off": round(off, 1), "mqtt + http + page": round(on, 1)},
        "cost_percent": round(100 * (1 - on / off), 1),
        "cpu_ms_per_frame_median": {"outputs off": cpu_off, "mqtt + http + page": cpu_on},
        "cpu_cost_percent": round(100 * (cpu_on / cpu_off - 1), 1),
        "load_average_before": load, "runs": runs,
    }
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()

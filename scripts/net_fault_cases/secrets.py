"""Secrets: a camera password and tokens never shown in JSONL, the status, the log or MQTT."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.broker import free_port, retained
from tests.test_edge_app import SHIPPED, app
from tests.test_http import request

from .kit import PASSWORD, ROOT, SVHN, TOKEN, Device, case


@case("S1", "a camera password and a ?token= in the --source URL", "masked in JSONL, /api/status, the log (-v), MQTT")
def secrets_in_the_source(d: Device, tmp: Path) -> tuple[bool, str]:
    import cv2
    import numpy as np
    from PIL import Image

    writer = cv2.VideoWriter(str(tmp / "clip.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
    for n in (105, 180, 62):
        picture = np.asarray(Image.open(SVHN / "recon" / "test" / f"{n}.png").convert("RGB").resize((320, 240)))
        writer.write(cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
    writer.release()
    server = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port := free_port())],
                              cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    http_port = free_port()
    try:
        time.sleep(1.0)
        source = f"http://admin:{PASSWORD}@127.0.0.1:{port}/clip.avi?token=t{PASSWORD}"
        proc = app("--model", SHIPPED, "--source", source, "--roi", "0,0,320,240", "--threshold", "0",
                   "--smooth", "off", "--jsonl", tmp / "s1.jsonl", "--http", http_port, "--mqtt", d.broker.url,
                   "--mqtt-id", "s1", "--mqtt-spool", tmp / "s1spool", "-v", popen=True)
        status = None
        for _ in range(100):
            try:
                code, status = request(f"http://127.0.0.1:{http_port}/api/status")
                if code == 200 and status["latest"]:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        state = {t: p.decode(errors="replace") for t, p in retained(d.broker, ("house_numbers/s1/#",)).items()}
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    finally:
        server.terminate()
    shown = json.dumps(status) + (tmp / "s1.jsonl").read_text() + err + json.dumps(state)
    leaks = shown.count(PASSWORD)
    shown_as = status and status["source"]
    return leaks == 0 and bool(status and status["latest"]), f"{leaks} leaks; source shown as {shown_as}"


@case("S2", "the page opened as /?token=..., then the API, with -v", "the token in no log line and no page URL")
def token_in_logs(d: Device, tmp: Path) -> tuple[bool, str]:
    code, _ = request(f"{d.base}/?token={TOKEN}")
    page = (ROOT / "edge_app" / "outputs" / "page.html").read_text()
    return code == 200 and "encodeURIComponent(token" not in page, f"page {code}; log checked at the end (S9)"

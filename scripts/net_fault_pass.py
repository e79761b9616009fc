"""The network fault pass of issue 32, replayable: the device's network surface attacked through real sockets.

One app runs as a user runs it (the fake Pi camera of the tests showing two real SVHN numbers, the shipped
reader, --http with a token, --mqtt to a real Mosquitto, a config file the page writes back to), and each case
attacks it on 127.0.0.1 only: secrets in URLs, other Host names and Origins, floods of idle and slow
connections, malformed requests, wrong tokens, a second process on the same config or spool, config write-back
through a link or with a 0600 file, discovery ids, a broker that never answers. Each case gets a verdict, ok or
FAIL, with what was seen. Writes a JSON report and prints a table; exit 1 if any case fails.

    python scripts/net_fault_pass.py --json docs/net_fault_pass.json
    python scripts/net_fault_pass.py --only H1,M3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edge_app.atomic import write_json  # noqa: E402
from tests.broker import Broker, free_port, retained  # noqa: E402
from tests.test_edge_app import SHIPPED, app  # noqa: E402
from tests.test_http import JSON, LEFT, request, start_app, stop  # noqa: E402

SVHN = ROOT.parent / "shared" / "data" / "svhn"
TOKEN = "net-fault-pass-token-0123456789"
PASSWORD = "CamPass99"
CASES: list[tuple[str, str, str]] = []  # (id, what is tried, what must happen), in the order they run
RESULTS: dict[str, tuple[bool, str]] = {}


def case(cid: str, what: str, expect: str):
    def register(fn):
        CASES.append((cid, what, expect))
        fn.cid = cid
        return fn
    return register


class Device:
    """The app under attack and what it was started with."""

    def __init__(self, tmp: Path, broker: Broker):
        tmp.mkdir(parents=True)
        self.tmp, self.broker = tmp, broker
        self.proc, self.base, self.config, _ = start_app(
            SVHN, tmp, "--http-token", TOKEN, "--mqtt", broker.url, "--mqtt-id", "gate.lan",
            "--mqtt-spool", tmp / "spool", "--jsonl", tmp / "r.jsonl", "-v")
        self.port = int(self.base.rsplit(":", 1)[1])

    def get(self, path: str, headers=None):
        return request(self.base + path, headers={"Authorization": f"Bearer {TOKEN}", **(headers or {})})

    def put(self, body: bytes, headers=None, token: str | None = TOKEN):
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        return request(self.base + "/api/roi", "PUT", body, {**auth, **JSON, **(headers or {})})

    def raw(self, data: bytes, timeout: float = 5.0) -> bytes:
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            s.sendall(data)
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)


def _ready(base: str) -> None:
    """Wait until the app has shown the page a frame (a region is checked against it)."""
    deadline = time.time() + 30
    while time.time() < deadline:
        code, body = request(base + "/api/status", headers={"Authorization": f"Bearer {TOKEN}"})
        if code == 200 and body["frame_size"]:
            return
        time.sleep(0.1)


def _set_region_and_stop(proc, base: str):
    """Once the app shows a frame, set a region as the page does; then stop the app. (status, answer)."""
    try:
        _ready(base)
        return request(base + "/api/roi", "PUT", b"[10, 20, 100, 100]", {"Authorization": f"Bearer {TOKEN}", **JSON})
    finally:
        stop(proc)


def _status_line(answer: bytes) -> int | None:
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", answer)
    return int(m.group(1)) if m else None


# -- secrets ------------------------------------------------------------------------------------------------------

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


# -- who may ask -------------------------------------------------------------------------------------------------

@case("H1", "GET /api/status with Host: rebind.attacker.example (DNS rebinding)", "421, nothing served")
def rebind_get(d, tmp):
    code, _ = d.get("/api/status", {"Host": "rebind.attacker.example:8080"})
    return code == 421, f"{code}"


@case("H2", "PUT /api/roi with the token and Host: rebind.attacker.example", "421, config unchanged")
def rebind_put(d, tmp):
    before = d.config.read_text()
    code, _ = d.put(b"[200, 100, 100, 100]", {"Host": "rebind.attacker.example"})
    return code == 421 and d.config.read_text() == before, f"{code}"


@case("H3", "PUT /api/roi with the token from Origin: http://evil.example", "403, config unchanged")
def evil_origin(d, tmp):
    before = d.config.read_text()
    code, _ = d.put(b"[200, 100, 100, 100]", {"Origin": "http://evil.example"})
    return code == 403 and d.config.read_text() == before, f"{code}"


@case("H4", "PUT /api/roi with Sec-Fetch-Site: cross-site", "403")
def cross_site(d, tmp):
    code, _ = d.put(b"[200, 100, 100, 100]", {"Sec-Fetch-Site": "cross-site"})
    return code == 403, f"{code}"


@case("H5", "PUT /api/roi as a form (Content-Type: application/x-www-form-urlencoded)", "415")
def form_put(d, tmp):
    code, _ = d.put(b"[200, 100, 100, 100]", {"Content-Type": "application/x-www-form-urlencoded"})
    return code == 415, f"{code}"


@case("H6", "PUT /api/roi without the token, and with it in ?token=", "401 both, config unchanged")
def no_token_put(d, tmp):
    before = d.config.read_text()
    a = d.put(b"[200, 100, 100, 100]", token=None)[0]
    b = request(f"{d.base}/api/roi?token={TOKEN}", "PUT", b"[200, 100, 100, 100]", JSON)[0]
    return (a, b) == (401, 401) and d.config.read_text() == before, f"{a}, {b}"


@case("H7", "the page's answer headers", "CSP frame-ancestors 'none', X-Frame-Options DENY (no clickjacking)")
def framing(d, tmp):
    import urllib.request

    with urllib.request.urlopen(urllib.request.Request(d.base + "/", headers={"Authorization": f"Bearer {TOKEN}"}),
                                timeout=10) as r:
        csp, xfo = r.headers["Content-Security-Policy"] or "", r.headers["X-Frame-Options"]
    return "frame-ancestors 'none'" in csp and xfo == "DENY", f"{xfo}; {csp[-40:]}"


@case("H8", "a same-origin PUT /api/roi with the token (the page itself)", "200, saved")
def same_origin(d, tmp):
    code, answer = d.put(json.dumps(list(LEFT)).encode(), {"Origin": d.base})
    return code == 200 and answer.get("saved") is True, f"{code} {answer}"


# -- floods ------------------------------------------------------------------------------------------------------

@case("F1", "1,000 idle connections, then GET /api/status", "answered within 1 s")
def idle_flood(d, tmp):
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, 4096), hard), hard))
    idle = []
    try:
        for _ in range(1000):
            idle.append(socket.create_connection(("127.0.0.1", d.port), timeout=5))
        t = time.monotonic()
        code, _ = d.get("/api/status")
        took = time.monotonic() - t
    finally:
        for s in idle:
            s.close()
    return code == 200 and took < 1.0, f"{code} in {took:.3f} s"


@case("F2", "100 slow clients sending a header a byte at a time, then GET /api/status", "answered within 1 s")
def slowloris(d, tmp):
    stop_at = time.monotonic() + 6
    socks = [socket.create_connection(("127.0.0.1", d.port), timeout=5) for _ in range(100)]

    def drip():
        for byte in b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100:
            if time.monotonic() > stop_at:
                return
            for s in socks:
                try:
                    s.send(bytes([byte]))
                except OSError:
                    pass
            time.sleep(0.2)

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    time.sleep(1.0)
    t = time.monotonic()
    code, _ = d.get("/api/status")
    took = time.monotonic() - t
    thread.join(10)
    for s in socks:
        s.close()
    return code == 200 and took < 1.0, f"{code} in {took:.3f} s"


@case("F3", "20 clients ask for /snapshot.jpg and never read it, then GET /api/status", "answered within 1 s")
def slow_readers(d, tmp):
    socks = []
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        s.sendall(f"GET /snapshot.jpg HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode())
        socks.append(s)
    t = time.monotonic()
    code, _ = d.get("/api/status")
    took = time.monotonic() - t
    for s in socks:
        s.close()
    return code == 200 and took < 1.0, f"{code} in {took:.3f} s"


# -- malformed requests ------------------------------------------------------------------------------------------

AUTH = f"Authorization: Bearer {TOKEN}\r\n".encode()
MALFORMED = {
    "M1": ("a 400-digit number in the region", b"PUT /api/roi HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
           b"application/json\r\nContent-Length: 410\r\n" + AUTH + b"\r\n[" + b"9" * 400 + b", 1, 1, 1]"),
    "M2": ("Content-Length: \u00b2 (a superscript two)", b"PUT /api/roi HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Content-Type: application/json\r\nContent-Length: \xc2\xb2\r\n" + AUTH + b"\r\n[1,2,3,4]"),
    "M3": ("/api/readings?limit=%C2%B2", b"GET /api/readings?limit=%C2%B2 HTTP/1.1\r\nHost: 127.0.0.1\r\n" + AUTH
           + b"\r\n"),
    "M4": ("a request line of one word", b"GARBAGE\r\n\r\n"),
    "M5": ("a Host header that is not a host", b"GET / HTTP/1.1\r\nHost: [zz\r\n\r\n"),
    "M6": ("a 20 kB header", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n"),
    "M7": ("no Host header", b"GET /api/status HTTP/1.1\r\n" + AUTH + b"\r\n"),
    "M8": ("a body longer than a region", b"PUT /api/roi HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
           b"application/json\r\nContent-Length: 5000\r\n" + AUTH + b"\r\n" + b" " * 5000),
    "M9": ("JSON nested 100,000 deep", b"PUT /api/roi HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
           b"\r\nContent-Length: 1000\r\n" + AUTH + b"\r\n" + b"[" * 1000),
    "M10": ("DELETE /api/roi", b"DELETE /api/roi HTTP/1.1\r\nHost: 127.0.0.1\r\n" + AUTH + b"\r\n"),
}


def _malformed(cid: str):
    what, data = MALFORMED[cid]

    @case(cid, what, "a 4xx answer with a status line, never a dropped connection")
    def run(d, tmp):
        code = _status_line(d.raw(data))
        return code is not None and 400 <= code < 500, f"{code}"
    return run


MALFORMED_CASES = [_malformed(cid) for cid in MALFORMED]


# -- authentication ----------------------------------------------------------------------------------------------

@case("A1", "five wrong tokens in a row from one address, then the right one",
      "401 x5, then 429 for a minute even with the right token, and one log line")
def lockout(d, tmp):
    folder = tmp / "a1"
    folder.mkdir()
    proc, base, _, _ = start_app(SVHN, folder, "--http-token", TOKEN)  # its own count of wrong tokens
    try:
        codes = [request(base + "/api/status", headers={"Authorization": f"Bearer guess{i}"})[0] for i in range(5)]
        after = request(base + "/api/status", headers={"Authorization": f"Bearer {TOKEN}"})[0]
    finally:
        err = stop(proc)
    said = err.count("5 wrong tokens from 127.0.0.1")
    return codes == [401] * 5 and after == 429 and said == 1, f"{codes} then {after}; {said} log line"


@case("A2", "--http 0.0.0.0:PORT with a 5-character token", "exit 2, one line naming the 16-character minimum")
def short_token(d, tmp):
    proc = app("--model", SHIPPED, "--source", SVHN / "recon" / "test" / "1.png", "--http", f"0.0.0.0:{free_port()}",
               "--http-token", "short")
    return proc.returncode == 2 and "at least 16" in proc.stderr, proc.stderr.strip()[:120]


# -- two processes, write-back, discovery, broker -----------------------------------------------------------------

@case("P1", "a second app on the device's config file (after the page wrote it back)",
      "exit 2 in one line; the first keeps reading")
def second_on_config(d, tmp):
    before = d.get("/api/status")[1]["frames"]
    proc = app("--config", d.config, "--max-frames", "3")
    if "another house-numbers process" not in proc.stderr:
        return False, proc.stderr.strip()[:100]
    time.sleep(1.0)
    after = d.get("/api/status")[1]["frames"]
    return proc.returncode == 2 and after > before, f"rc {proc.returncode}: {proc.stderr.strip()[:100]}"


@case("P2", "a second app with its own config on the device's MQTT spool", "exit 2; no reading of the first lost")
def second_on_spool(d, tmp):
    proc = app("--model", SHIPPED, "--source", SVHN / "recon" / "test", "--boxes", "--threshold", "0",
               "--max-frames", "5", "--mqtt", d.broker.url, "--mqtt-id", "gate.lan", "--mqtt-spool", d.tmp / "spool")
    return proc.returncode == 2 and "another process uses the mqtt spool" in proc.stderr, proc.stderr.strip()[:100]


@case("W1", "the config is a symlink to a 0600 file; the page sets the region", "still a link, still 0600, saved")
def write_back(d, tmp):
    real = tmp / "real.toml"
    real.write_text(d.config.read_text())
    real.chmod(0o600)
    link = tmp / "link" / "device.toml"
    link.parent.mkdir()
    link.symlink_to(real)
    (tmp / "w1").mkdir()
    proc, base, _, _ = start_app(SVHN, tmp / "w1", "--config", link, "--http-token", TOKEN)
    code, answer = _set_region_and_stop(proc, base)
    mode = real.stat().st_mode & 0o777
    ok = code == 200 and answer.get("saved") and link.is_symlink() and mode == 0o600
    return bool(ok), f"{code} saved={answer.get('saved')} link={link.is_symlink()} mode={oct(mode)}"


@case("W2", "a config whose roi line sits inside a multi-line string; the page sets the region",
      "applied, 'saved': false with the reason, file unchanged")
def write_back_string(d, tmp):
    folder = tmp / "w2"
    folder.mkdir()
    proc, base, config, _ = start_app(SVHN, folder, "--http-token", TOKEN)
    text = config.read_text().replace('roi = "16,56,128,128"\n',
                                      'note = """\nroi = "1,1,1,1"\n"""\nroi = "16,56,128,128"\n')
    config.write_text(text)
    code, answer = _set_region_and_stop(proc, base)
    return code == 200 and answer.get("saved") is False and config.read_text() == text, f"{code} {answer}"


@case("D1", "--mqtt-id gate.lan (the default id is the hostname, which may hold dots)",
      "discovery topics and unique ids in Home Assistant's [a-zA-Z0-9_-]")
def discovery(d, tmp):
    topics = [t for t in retained(d.broker, ("homeassistant/#",)) if "gate" in t]
    valid = r"homeassistant/(sensor|binary_sensor|image)/[a-zA-Z0-9_-]+/[a-zA-Z0-9_-]+/config"
    bad = [t for t in topics if not re.fullmatch(valid, t)]
    return bool(topics) and not bad, f"{len(topics)} topics, {len(bad)} invalid {bad[:2]}; e.g. {topics[0]}"


@case("B1", "a broker port that takes the connection and never answers (no CONNACK)", "logged once, retried")
def mute_broker(d, tmp):
    from edge_app.outputs.mqtt import MqttOutput, parse_mqtt_url

    server = socket.create_server(("127.0.0.1", 0))
    taken = []
    threading.Thread(target=lambda: [taken.append(server.accept()[0]) for _ in range(10)], daemon=True).start()
    import logging

    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("edge_app").addHandler(handler)
    out = MqttOutput(parse_mqtt_url(f"mqtt://127.0.0.1:{server.getsockname()[1]}"), spool=tmp / "b1", device_id="b1")
    out.client.connect_async("127.0.0.1", server.getsockname()[1], keepalive=1)
    out.client.loop_start()
    deadline = time.time() + 20
    while len(taken) < 2 and time.time() < deadline:
        time.sleep(0.1)
    out.client.loop_stop()
    out.spool.close()
    server.close()
    logging.getLogger("edge_app").removeHandler(handler)
    said = sum("never answered" in r.getMessage() for r in records)
    return len(taken) >= 2 and said == 1, f"{len(taken)} connections, {said} log lines"


def run(only: set[str] | None) -> dict:
    fns = [f for f in list(globals().values()) + MALFORMED_CASES if callable(f) and hasattr(f, "cid")]
    fns = sorted({f.cid: f for f in fns}.values(), key=lambda f: [c[0] for c in CASES].index(f.cid))
    rows, started = [], time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="net-fault-") as scratch:
        tmp = Path(scratch)
        broker = Broker(tmp / "broker").start()
        device = Device(tmp / "device", broker)
        try:
            for fn in fns:
                if only and fn.cid not in only:
                    continue
                cid, what, expect = next(c for c in CASES if c[0] == fn.cid)
                t = time.perf_counter()
                try:
                    ok, seen = fn(device, tmp)
                except Exception as err:  # noqa: BLE001 - a broken case is a failed case; the pass goes on
                    ok, seen = False, f"the case failed: {type(err).__name__}: {err}"[:200]
                rows.append({"id": cid, "case": what, "expect": expect, "verdict": "ok" if ok else "FAIL",
                             "seen": seen.replace(str(tmp), "TMP"), "seconds": round(time.perf_counter() - t, 2)})
                print(f"{cid:<4} {rows[-1]['verdict']:<4} {what[:60]:<60} {rows[-1]['seen'][:60]}", flush=True)
        finally:
            err = stop(device.proc)
            broker.stop()
        if not only or "S2" in only:  # the device's own log, after all of the above with -v
            leaked = err.count(TOKEN) + err.count(PASSWORD) + err.count("Traceback")
            rows.append({"id": "S9", "case": "the device's whole log (-v) after every case", "expect":
                         "no token, no password, no traceback", "verdict": "ok" if not leaked else "FAIL",
                         "seen": f"{leaked} found in {err.count(chr(10))} lines", "seconds": 0.0})
    return {"python": platform.python_version(), "machine": f"{platform.machine()} {os.cpu_count()} cores",
            "date": time.strftime("%Y-%m-%d"), "seconds": round(time.perf_counter() - started, 1),
            "cases": len(rows), "failed": sum(r["verdict"] != "ok" for r in rows), "results": rows}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", type=lambda t: set(t.split(",")), help="comma-separated case ids, e.g. H1,M3")
    p.add_argument("--json", type=Path, help="write the report here (docs/net_fault_pass.json)")
    args = p.parse_args(argv)
    report = run(args.only)
    if args.json:
        write_json(args.json, report)
    print(f"{report['cases'] - report['failed']} of {report['cases']} cases ok in {report['seconds']} s")
    return 1 if report["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())

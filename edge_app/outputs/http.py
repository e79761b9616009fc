"""`--http [HOST:]PORT`: the status page with a live snapshot and ROI drawing, and its JSON API.

GET / (the page), GET /api/status, GET /api/readings?limit=N, GET /snapshot.jpg, PUT /api/roi ([x, y, w, h]).
Served by the standard library in its own threads. The frame loop only hands over references (a few
attribute writes per frame); a snapshot is drawn and encoded only when someone asks, at most once a second.
Bound to 127.0.0.1 unless a host is given; any other host needs a token (Authorization: Bearer T, or ?token=T).
"""

from __future__ import annotations

import argparse
import hmac
import io
import ipaddress
import json
import logging
import math
import sys
import threading
import time
from collections import deque
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from ..contract import Box
from .annotate import annotate_view
from .base import Event, FrameView, Output, OutputError, flag_type
from .jsonl import to_json

if TYPE_CHECKING:
    from ..app import App, AppConfig

log = logging.getLogger("edge_app")
MAX_BODY = 1024  # a region is a few dozen bytes; anything bigger is refused unread
SNAPSHOT_INTERVAL = 1.0  # seconds: at most one JPEG encoding per interval, whoever asks


def parse_http(text: str) -> tuple[str, int]:
    """'[HOST:]PORT' -> (host, port); the host defaults to loopback. Raises ValueError."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"{text!r}: expected [HOST:]PORT with a port 1..65535, e.g. 8080 or 0.0.0.0:8080")
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HttpOutput(Output):
    """Policy: never disabled; a request that fails gets its error, and the frame loop never waits on one."""

    key = "http"
    max_failures = None

    def __init__(self, host: str, port: int, token: str | None = None, keep: int = 200) -> None:
        if not is_loopback(host) and not token:
            raise OutputError(f"--http {host}:{port} opens the page to the network: give --http-token TOKEN too "
                              "(or http-token in the config file), so no one on the LAN changes the region unasked")
        self.token = token
        self.app: App | None = None
        self.latest: FrameView | None = None
        self.recent: deque[dict] = deque(maxlen=keep)
        self.latencies: deque[float] = deque(maxlen=30)
        self._snapshot: tuple[float, bytes] | None = None
        self._snapshot_lock = threading.Lock()
        self.page = resources.files(__package__).joinpath("page.html").read_bytes()
        try:
            self.server = _Server((host, port), _Handler)
        except OSError as err:
            raise OutputError(f"--http {host}:{port}: cannot listen there ({err.strerror or err}); "
                              "is another program using the port? choose another one") from None
        self.server.output = self  # type: ignore[attr-defined]
        self.address = f"http://{host if ':' not in host else f'[{host}]'}:{self.server.server_address[1]}/"
        self._thread = threading.Thread(target=self.server.serve_forever, name="http", daemon=True)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        w = parser.add_argument_group("web page and JSON API")
        w.add_argument("--http", type=flag_type(parse_http),
                       help="[HOST:]PORT: serve the status page (live view, draw the region) and /api/...; loopback "
                       "unless a host is given")
        w.add_argument("--http-token",
                       help="a secret the page and API ask for (?token=... or Authorization: Bearer ...); required "
                       "for a host other than loopback")

    @classmethod
    def from_config(cls, cfg: AppConfig) -> HttpOutput | None:
        return cls(*cfg.http, token=cfg.http_token) if cfg.http else None

    def start(self, app: App) -> None:
        self.app = app
        self._thread.start()
        log.info("http: status page at %s%s", self.address, "?token=..." if self.token else "")

    def frame(self, view: FrameView) -> None:
        if view.image is not None:
            self.latest = view  # a reference: nothing is copied or encoded here
            if view.latency_ms is not None:
                self.latencies.append(view.latency_ms)

    def write(self, event: Event) -> None:
        self.recent.append(event.as_dict())

    def close(self) -> None:
        if self._thread.is_alive():
            self.server.shutdown()
        self.server.server_close()

    # what the handlers serve (HTTP threads)
    def status(self) -> dict:
        app = self.app
        view = self.latest
        latencies = sorted(self.latencies)
        s = app.summary
        return {
            "source": app.cfg.source,
            "mode": ("boxes" if app.labels is not None else "roi" if app.roi is not None
                     else "scan" if app.scan else "detect" if app.detector is not None else "frame"),
            "roi": [round(v, 1) for v in app.roi] if app.roi is not None else None,
            "frame_size": [int(view.image.shape[1]), int(view.image.shape[0])] if view else None,
            "frames": s.frames, "skipped": s.skipped, "readings": s.readings,
            "fps": round(s.recent_fps, 2) if s.recent_fps else None,
            "latency_ms": round(latencies[len(latencies) // 2], 3) if latencies else None,
            "uptime_s": round(time.time() - app.started, 1),
            "latest": self.recent[-1] if self.recent else None,
            "current": {"frame": view.index, "reading": view.reading, "confidence": view.confidence,
                        "region": view.region, "box": view.box} if view else None,
            "model": app.model.path.name,
            "licence": app.model.card.training.get("licence"),
            "threshold": app.threshold,
            "config": str(app.cfg.config) if app.cfg.config else None,
        }

    def snapshot(self) -> bytes | None:
        """The latest frame drawn and encoded as JPEG, reused for SNAPSHOT_INTERVAL seconds."""
        with self._snapshot_lock:
            now = time.monotonic()
            if self._snapshot and now - self._snapshot[0] < SNAPSHOT_INTERVAL:
                return self._snapshot[1]
            view = self.latest
            if view is None:
                return None
            buffer = io.BytesIO()
            annotate_view(view).save(buffer, format="JPEG", quality=80)
            self._snapshot = (now, buffer.getvalue())
            return self._snapshot[1]

    def set_roi(self, values) -> tuple[int, dict]:
        """Check a drawn region against the frame and apply it; (HTTP status, JSON answer)."""
        app, view = self.app, self.latest
        if app.labels is not None:
            return 409, {"error": "the app reads the labelled boxes (--boxes); a drawn region does not apply"}
        if view is None:
            return 409, {"error": "no frame yet: wait for the first frame, then draw the region"}
        if (not isinstance(values, list) or len(values) != 4
                or not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                           for v in values)):
            return 400, {"error": "expected a JSON list of four numbers [x, y, w, h] in frame pixels"}
        x, y, w, h = (round(float(v), 1) for v in values)
        width, height = view.image.shape[1], view.image.shape[0]
        if w < 8 or h < 8:
            return 400, {"error": f"region {w:g}x{h:g} is too small: at least 8x8 pixels"}
        if x < 0 or y < 0 or x + w > width or y + h > height:
            return 400, {"error": f"region [{x:g}, {y:g}, {w:g}, {h:g}] is outside the {width}x{height} frame"}
        try:
            saved = app.set_roi(Box(x, y, w, h))
        except (OSError, ValueError) as err:  # ValueError: a config file this writer cannot edit safely
            why = getattr(err, "strerror", None) or err
            log.warning("http: region applied but not saved to %s (%s)", app.cfg.config, why)
            return 200, {"roi": [x, y, w, h], "saved": False, "error": f"not saved to {app.cfg.config}: {why}"}
        return 200, {"roi": [x, y, w, h], "saved": saved, "config": str(app.cfg.config) if saved else None}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """One line instead of socketserver's traceback on stderr; the server goes on."""
        err = sys.exc_info()[1]
        log.warning("http: a request from %s failed: %s: %s", client_address[0], type(err).__name__, err)


class _Handler(BaseHTTPRequestHandler):
    server_version = "house-numbers"
    protocol_version = "HTTP/1.1"

    @property
    def output(self) -> HttpOutput:
        return self.server.output  # type: ignore[attr-defined]

    def log_message(self, format, *args) -> None:  # noqa: A002 - one debug line per request, not stderr noise
        log.debug("http: %s %s", self.address_string(), format % args)

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        if not self._authorised(url):
            return
        out = self.output
        if url.path == "/":
            self._send(200, out.page, "text/html; charset=utf-8")
        elif url.path == "/api/status":
            self._json(200, out.status())
        elif url.path == "/api/readings":
            limit = parse_qs(url.query).get("limit", ["20"])[0]
            if not limit.isdigit() or not 1 <= int(limit) <= out.recent.maxlen:
                return self._json(400, {"error": f"limit must be a whole number 1..{out.recent.maxlen}"})
            recent = list(out.recent)[-int(limit):]
            self._json(200, recent[::-1])  # newest first
        elif url.path == "/snapshot.jpg":
            jpeg = out.snapshot()
            if jpeg is None:
                return self._json(503, {"error": "no frame yet"})
            self._send(200, jpeg, "image/jpeg")
        else:
            self._json(404, {"error": f"no such page: {url.path}"})

    def do_PUT(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        if not self._authorised(url):
            return
        if url.path != "/api/roi":
            return self._json(404, {"error": f"no such page: {url.path}"}, close=True)
        length = self.headers.get("Content-Length", "")
        if not length.isdigit():
            return self._json(400, {"error": "a Content-Length is required"}, close=True)
        if int(length) > MAX_BODY:
            return self._json(400, {"error": f"body of {length} bytes is too big: a region is [x, y, w, h]"},
                              close=True)
        try:
            values = json.loads(self.rfile.read(int(length)) or b"null")
        except (ValueError, UnicodeDecodeError):
            return self._json(400, {"error": "the body is not JSON: expected [x, y, w, h]"})
        self._json(*self.output.set_roi(values))

    def _authorised(self, url) -> bool:
        token = self.output.token
        if token is None:
            return True
        given = parse_qs(url.query).get("token", [""])[0]
        header = self.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            given = header[7:]
        if hmac.compare_digest(given.encode(), token.encode()):
            return True
        self._json(401, {"error": "missing or wrong token: open the page as /?token=TOKEN"},
                   extra={"WWW-Authenticate": "Bearer"}, close=True)  # a body may be left unread
        return False

    def _json(self, status: int, body, extra: dict | None = None, close: bool = False) -> None:
        self._send(status, (to_json(body) + "\n").encode(), "application/json", extra, close)

    def _send(self, status: int, data: bytes, kind: str, extra: dict | None = None, close: bool = False) -> None:
        self.send_response(HTTPStatus(status))
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if close:  # a body we did not read stays in the socket: do not reuse the connection
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

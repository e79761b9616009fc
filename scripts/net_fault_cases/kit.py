"""What every network fault case shares: the device under attack, its secrets, and the registry of cases."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from tests.broker import Broker
from tests.test_http import JSON, request, start_app, stop

ROOT = Path(__file__).resolve().parents[2]
SVHN = ROOT.parent / "shared" / "data" / "svhn"
TOKEN = "net-fault-pass-token-0123456789"
PASSWORD = "CamPass99"


class Case(NamedTuple):
    """One attack: its id, what is tried, what must happen, and the function that tries it (-> ok, what was seen)."""

    id: str
    what: str
    expect: str
    run: Callable


CASES: list[Case] = []  # in the order they run: the order their modules are imported, then written


def case(cid: str, what: str, expect: str):
    """Register the decorated function as case `cid`."""
    def register(fn):
        CASES.append(Case(cid, what, expect, fn))
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


def ready(base: str) -> None:
    """Wait until the app has shown the page a frame (a region is checked against it)."""
    deadline = time.time() + 30
    while time.time() < deadline:
        code, body = request(base + "/api/status", headers={"Authorization": f"Bearer {TOKEN}"})
        if code == 200 and body["frame_size"]:
            return
        time.sleep(0.1)


def set_region_and_stop(proc, base: str):
    """Once the app shows a frame, set a region as the page does; then stop the app. (status, answer)."""
    try:
        ready(base)
        return request(base + "/api/roi", "PUT", b"[10, 20, 100, 100]", {"Authorization": f"Bearer {TOKEN}", **JSON})
    finally:
        stop(proc)


def status_line(answer: bytes) -> int | None:
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", answer)
    return int(m.group(1)) if m else None

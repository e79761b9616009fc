"""sd_notify over a real unix datagram socket, as systemd listens for it: READY, rate-bounded WATCHDOG, STOPPING."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading

import pytest

from edge_app.watchdog import Watchdog

from .conftest import ROOT


@pytest.fixture
def listener(tmp_path):
    """A bound AF_UNIX datagram socket standing where systemd's $NOTIFY_SOCKET would be."""
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(10)
    yield sock, str(path)
    sock.close()


def drain(sock) -> list[str]:
    messages = []
    sock.setblocking(False)
    try:
        while True:
            messages.append(sock.recv(256).decode())
    except BlockingIOError:
        pass
    sock.settimeout(10)
    return messages


def test_ready_pings_at_a_bounded_rate_and_stopping(listener):
    sock, path = listener
    now = [100.0]
    dog = Watchdog({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"}, clock=lambda: now[0])
    assert dog.enabled and dog.period == 0.5  # a quarter of WatchdogSec=2
    dog.ready()
    for _ in range(1000):  # a fast frame loop: one ping goes out, not a thousand
        dog.ping()
    now[0] += 0.49
    dog.ping()
    now[0] += 0.02
    dog.ping()
    dog.close()
    assert drain(sock) == ["READY=1", "WATCHDOG=1", "WATCHDOG=1", "STOPPING=1"]


def test_abstract_socket_name(tmp_path):
    name = f"house-numbers-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(10)
        Watchdog({"NOTIFY_SOCKET": "@" + name}).ready()
        assert sock.recv(64) == b"READY=1"


def test_outside_systemd_nothing_happens():
    dog = Watchdog({})
    assert not dog.enabled
    dog.ready(), dog.ping(), dog.close()  # no socket, no error


def test_a_watchdog_meant_for_another_process_is_not_pinged(listener):
    sock, path = listener
    dog = Watchdog({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"})
    dog.ping()
    dog.ready()
    assert drain(sock) == ["READY=1"]


def test_a_vanished_socket_never_stops_the_app(listener):
    _, path = listener
    dog = Watchdog({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"})
    os.unlink(path)
    dog.ready(), dog.ping(), dog.close()


def test_the_app_notifies_from_its_frame_loop(listener, svhn, tmp_path):
    """The real app on 12 real pictures at 20 frames/s under a 0.2 s watchdog: READY, pings, STOPPING."""
    sock, path = listener
    folder = tmp_path / "pics"
    folder.mkdir()
    for i in range(1, 13):
        shutil.copy(svhn / "recon" / "test" / f"{i}.png", folder)
    env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000", "PYTHONPATH": str(ROOT)}
    env.pop("WATCHDOG_PID", None)
    messages: list[str] = []

    def receive():  # as systemd does: read while the app runs (the kernel queues only ~10 datagrams)
        while not messages or messages[-1] != "STOPPING=1":
            try:
                messages.append(sock.recv(256).decode())
            except OSError:
                return

    reader = threading.Thread(target=receive, daemon=True)
    reader.start()
    proc = subprocess.run([sys.executable, "-m", "edge_app", "--source", folder, "--scan", "--fps", "20", "--quiet"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    reader.join(10)
    assert messages[0] == "READY=1" and messages[-1] == "STOPPING=1"
    pings = messages.count("WATCHDOG=1")
    # 12 frames over ~0.6 s, one ping per 0.05 s at most: more than one, fewer than one per frame plus one
    assert 2 <= pings <= 13 and set(messages) == {"READY=1", "WATCHDOG=1", "STOPPING=1"}


def test_a_receiver_that_never_reads_cannot_stall_the_loop(listener):
    _, path = listener
    dog = Watchdog({"NOTIFY_SOCKET": path})
    for _ in range(1000):  # far past the kernel's datagram queue: sends are dropped, not blocked
        dog.ready()

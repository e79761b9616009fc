"""Floods: idle connections, slow senders and readers never keep the page from answering."""

from __future__ import annotations

import socket
import threading
import time

from .kit import TOKEN, case


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

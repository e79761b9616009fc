"""The status page's server, bounded so that a flood of idle or slow connections cannot silence it.

One thread accepts every connection at once and watches it with a selector: a waiting connection costs a
socket and no thread. Only when a request has arrived whole (its head, and a body of at most MAX_BODY bytes)
does one of a few worker threads answer it, from memory, and the connection closes after the answer. A
connection that has not sent its request within HEAD_TIMEOUT seconds is closed, and beyond MAX_OPEN waiting
connections the oldest is closed first. IPv4 and IPv6 addresses both work.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import selectors
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger("edge_app")
MAX_OPEN = 256  # waiting connections kept; 1,000 idle sockets still leave /api/status answering at once
HEAD_TIMEOUT = 5.0  # seconds a connection may take to send its whole request
SEND_TIMEOUT = 10.0  # seconds an answer may take to leave (a snapshot to a slow phone)
MAX_HEAD = 16384  # bytes of request line and headers
MAX_BODY = 1024  # a region is a few dozen bytes; the handler refuses bigger bodies unread
WORKERS = 4


class ListenError(OSError):
    """The server cannot listen at that address; the message says why in a user's words."""


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family, backlog=128)
    except OSError as err:
        what = os.strerror(err.errno) if err.errno else str(err)  # create_server appends the address to strerror
        if err.errno == errno.EADDRINUSE:
            why = f"{what}; is another program using the port? choose another one"
        elif err.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT) or isinstance(err, socket.gaierror):
            why = f"{what}; this machine has no such address: use 127.0.0.1, ::1, 0.0.0.0 or one of its own"
        else:
            why = what
        raise ListenError(why) from None
    sock.setblocking(False)
    return sock


def _complete(data: bytes) -> bool:
    """Whether `data` holds a whole request: its head, and the body its Content-Length announces (up to MAX_BODY)."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return len(data) >= MAX_HEAD  # an oversized head is answered (431) rather than waited for
    length = 0
    for line in data[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            value = value.strip()
            length = int(value) if value.isdigit() and len(value) < 8 else 0  # malformed: the handler says 400
    return len(data) >= end + 4 + min(length, MAX_BODY + 1)


class BoundedServer:
    """An HTTP server for one handler class: `serve_forever()` in a thread, `shutdown()`, `server_close()`."""

    def __init__(self, address: tuple[str, int], handler_class) -> None:
        self.handler_class = handler_class
        self.socket = _listen(*address)
        self.server_address = self.socket.getsockname()[:2]
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.socket, selectors.EVENT_READ)
        self._waiting: dict[socket.socket, tuple[float, bytearray, tuple]] = {}  # insertion order = age
        self._workers = ThreadPoolExecutor(WORKERS, thread_name_prefix="http")
        self._stop = threading.Event()
        self._done = threading.Event()

    def serve_forever(self) -> None:
        try:
            while not self._stop.is_set():
                for key, _ in self._selector.select(timeout=0.25):
                    if key.fileobj is self.socket:
                        self._accept()
                    else:
                        self._receive(key.fileobj)
                self._expire()
        finally:
            self._done.set()

    def _accept(self) -> None:
        while True:
            try:
                conn, addr = self.socket.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as err:  # out of file descriptors: shed the oldest waiting connections
                log.warning("http: cannot accept a connection (%s); closing waiting ones", err.strerror or err)
                for old in list(self._waiting)[: max(1, len(self._waiting) // 4)]:
                    self._drop(old)
                return
            conn.setblocking(False)
            self._waiting[conn] = (time.monotonic(), bytearray(), addr)
            self._selector.register(conn, selectors.EVENT_READ)
            if len(self._waiting) > MAX_OPEN:
                self._drop(next(iter(self._waiting)))

    def _receive(self, conn: socket.socket) -> None:
        started, data, addr = self._waiting[conn]
        try:
            chunk = conn.recv(MAX_HEAD + MAX_BODY)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:
            return self._drop(conn)
        data += chunk
        if _complete(bytes(data)):
            self._selector.unregister(conn)
            del self._waiting[conn]
            self._workers.submit(self._answer, conn, bytes(data), addr)

    def _expire(self) -> None:
        limit = time.monotonic() - HEAD_TIMEOUT
        for conn, (started, _, _) in list(self._waiting.items()):
            if started >= limit:
                break  # the rest are younger
            self._drop(conn)

    def _drop(self, conn: socket.socket) -> None:
        self._waiting.pop(conn, None)
        try:
            self._selector.unregister(conn)
        except (KeyError, ValueError):
            pass
        conn.close()

    def _answer(self, conn: socket.socket, request: bytes, addr) -> None:
        try:
            conn.setblocking(True)
            conn.settimeout(SEND_TIMEOUT)
            self.handler_class(conn, addr, self, io.BytesIO(request))
        except Exception:  # noqa: BLE001 - one line for any request that fails; the server goes on
            self.handle_error(conn, addr)
        finally:
            try:
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            conn.close()

    def handle_error(self, request, client_address) -> None:
        """Overridden by the owner to log one line."""

    def shutdown(self) -> None:
        self._stop.set()
        self._done.wait(5)

    def server_close(self) -> None:
        self._stop.set()
        for conn in list(self._waiting):
            self._drop(conn)
        self._workers.shutdown(wait=False, cancel_futures=True)
        self._selector.close()
        self.socket.close()

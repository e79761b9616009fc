"""Malformed requests: each gets a 4xx answer with a status line, never a dropped connection."""

from __future__ import annotations

from .kit import TOKEN, case, status_line

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
        code = status_line(d.raw(data))
        return code is not None and 400 <= code < 500, f"{code}"
    return run


MALFORMED_CASES = [_malformed(cid) for cid in MALFORMED]

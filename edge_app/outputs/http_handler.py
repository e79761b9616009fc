"""The status page's requests: who may ask (Host, Origin, token), and the answers of each page and API path."""

from __future__ import annotations

import hmac
import io
import ipaddress
import json
import logging
import re
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from ..redact import redact_query
from .http_server import MAX_BODY
from .jsonl import to_json

if TYPE_CHECKING:
    from .http import HttpOutput

log = logging.getLogger("edge_app")
COOKIE = "hn_token"
SECURITY_HEADERS = {
    # The page's own script and style are inline; nothing may frame it (clickjacking the region drag).
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; "
                               "style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _host_name(header: str) -> str | None:
    """The name in a Host header, without port or brackets; None when malformed."""
    m = re.fullmatch(r"\[([0-9a-fA-F:.%]+)\](?::\d{1,5})?|([^:\[\]\s]+)(?::\d{1,5})?", header.strip())
    if m is None:
        return None
    return (m.group(1) or m.group(2)).lower()


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.split("%")[0])
        return True
    except ValueError:
        return False


class Handler(BaseHTTPRequestHandler):
    server_version = "house-numbers"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.0"  # a garbled request line still gets a status line with its 400

    def __init__(self, request, client_address, server, prefetched: io.BytesIO) -> None:
        self._prefetched = prefetched  # the whole request, read by the server: nothing here waits on a client
        super().__init__(request, client_address, server)

    def setup(self) -> None:
        super().setup()
        self.rfile = self._prefetched

    @property
    def output(self) -> HttpOutput:
        return self.server.output  # type: ignore[attr-defined]

    def log_message(self, format, *args) -> None:  # noqa: A002 - one debug line per request, not stderr noise
        log.debug("http: %s %s", self.address_string(), redact_query(format % args))

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        if not self._allowed(url, change=False):
            return
        out = self.output
        if url.path == "/":
            self._send(200, out.page, "text/html; charset=utf-8", self._cookie(url))
        elif url.path == "/api/status":
            self._json(200, out.status())
        elif url.path == "/api/readings":
            limit = parse_qs(url.query).get("limit", ["20"])[0]
            if not _whole(limit) or not 1 <= int(limit) <= out.recent.maxlen:
                return self._json(400, {"error": f"limit must be a whole number 1..{out.recent.maxlen}"})
            recent = list(out.recent)[-int(limit):]
            self._json(200, recent[::-1])  # newest first
        elif url.path == "/api/settings":
            self._json(200, out.settings())
        elif url.path == "/api/history":
            hours = parse_qs(url.query).get("hours", ["24"])[0]
            if not _whole(hours) or not 1 <= int(hours) <= 168:
                return self._json(400, {"error": "hours must be a whole number 1..168"})
            self._json(*out.history(int(hours)))
        elif url.path == "/api/log":
            limit = parse_qs(url.query).get("limit", ["50"])[0]
            if not _whole(limit) or not 1 <= int(limit) <= out.log_tail.lines.maxlen:
                return self._json(400, {"error": f"limit must be a whole number 1..{out.log_tail.lines.maxlen}"})
            self._json(200, list(out.log_tail.lines)[-int(limit):])
        elif url.path == "/snapshot.jpg":
            jpeg = out.snapshot()
            if jpeg is None:
                return self._json(503, {"error": "no frame yet"})
            self._send(200, jpeg, "image/jpeg")
        else:
            self._json(404, {"error": f"no such page: {url.path}"})

    def do_PUT(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        if not self._allowed(url, change=True):
            return
        if url.path not in ("/api/roi", "/api/settings", "/api/saved-frames"):
            return self._json(404, {"error": f"no such page: {url.path}"})
        if self.headers.get_content_type() != "application/json":
            return self._json(415, {"error": "send the region as JSON (Content-Type: application/json)"})
        length = self.headers.get("Content-Length", "")
        if not _whole(length):
            return self._json(400, {"error": "a Content-Length is required"})
        if int(length) > MAX_BODY:
            return self._json(400, {"error": f"body of {length} bytes is too big: a region is [x, y, w, h]"})
        try:
            # parse_int=float: a 400-digit number becomes inf (refused below), not an int too big for a float
            values = json.loads(self.rfile.read(int(length)) or b"null", parse_int=float)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return self._json(400, {"error": "the body is not JSON: expected [x, y, w, h]"})
        handler = {"/api/roi": self.output.set_roi, "/api/settings": self.output.set_settings,
                   "/api/saved-frames": self.output.save_frame}[url.path]
        self._json(*handler(values))

    def do_POST(self) -> None:  # noqa: N802
        self._json(405, {"error": "the region is changed with PUT /api/roi"}, extra={"Allow": "GET, PUT"})

    do_DELETE = do_PATCH = do_POST  # noqa: N815

    def _allowed(self, url, change: bool) -> bool:
        """Host, Origin and token checks; answers and returns False when the request may not go on."""
        out = self.output
        name = _host_name(self.headers.get("Host", ""))
        if name is None or not (_is_ip(name) or name in out.names):
            self._json(421, {"error": "this server does not answer to that Host name; open it by its address "
                                      "(or add the name with --http-host)"})
            return False
        if change:
            origin = self.headers.get("Origin")
            if (origin is not None and urlsplit(origin).netloc.lower() != self.headers["Host"].strip().lower()) \
                    or self.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
                self._json(403, {"error": "a change must come from the page itself (another site's Origin)"})
                return False
        if out.token is None:
            return True
        client = self.client_address[0]
        if out.locked_out(client):
            self._json(429, {"error": "too many wrong tokens: wait a minute"}, extra={"Retry-After": "60"})
            return False
        if any(hmac.compare_digest(given.encode(), out.token.encode()) for given in self._tokens(url)):
            return True
        out.failed(client)
        self._json(401, {"error": "missing or wrong token: open the page once as /?token=TOKEN"},
                   extra={"WWW-Authenticate": "Bearer"})
        return False

    def _tokens(self, url) -> list[str]:
        """The tokens this request offers: Bearer header, the page's cookie, and ?token= on the page itself."""
        given = []
        header = self.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            given.append(header[7:])
        try:
            cookie = SimpleCookie(self.headers.get("Cookie", ""))
        except CookieError:
            cookie = {}
        if COOKIE in cookie:
            given.append(cookie[COOKIE].value)
        if url.path == "/":
            given += parse_qs(url.query).get("token", [])
        return given

    def _cookie(self, url) -> dict:
        """Opening the page with ?token= sets the cookie that carries the token from then on (never in a URL)."""
        if self.output.token is None or "token" not in parse_qs(url.query):
            return {}
        return {"Set-Cookie": f"{COOKIE}={self.output.token}; HttpOnly; SameSite=Strict; Path=/"}

    def _json(self, status: int, body, extra: dict | None = None) -> None:
        self._send(status, (to_json(body) + "\n").encode(), "application/json", extra)

    def _send(self, status: int, data: bytes, kind: str, extra: dict | None = None) -> None:
        self.send_response(HTTPStatus(status))
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for k, v in {**SECURITY_HEADERS, **(extra or {})}.items():
            self.send_header(k, v)
        self.send_header("Connection", "close")  # one request a connection: a waiting client holds no thread
        self.close_connection = True
        self.end_headers()
        self.wfile.write(data)


def _whole(text: str) -> bool:
    """ASCII digits only ('²'.isdigit() is True in Python), and short enough to be a sane number."""
    return text.isascii() and text.isdigit() and len(text) < 10

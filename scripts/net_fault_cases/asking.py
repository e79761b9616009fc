"""Who may ask: other Host names (DNS rebinding), other Origins, forms, no token, framing."""

from __future__ import annotations

import json

from tests.test_http import JSON, LEFT, request

from .kit import TOKEN, case


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

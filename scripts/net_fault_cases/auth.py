"""Authentication: a lockout after wrong tokens, and no short token on an open port."""

from __future__ import annotations

from tests.broker import free_port
from tests.test_edge_app import SHIPPED, app
from tests.test_http import request, start_app, stop

from .kit import SVHN, TOKEN, case


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

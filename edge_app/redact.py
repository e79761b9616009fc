"""Secrets never leave the process: source and broker URLs are shown with their password and secret query
values masked, in events, logs, the page, the API and MQTT."""

from __future__ import annotations

import re

MASK = "***"
# Query parameters that carry a secret in camera and stream URLs (tokens, passwords, API keys, signatures).
SECRET_PARAMS = ("token", "access_token", "auth", "password", "passwd", "pass", "pwd", "key", "apikey", "api_key",
                 "secret", "sig", "signature", "user_pass")
_PARAM = re.compile(r"([?&;](?:" + "|".join(SECRET_PARAMS) + r")=)[^&;#]*", re.IGNORECASE)


def redact_query(text: str) -> str:
    """'GET /?token=t&x=1 HTTP/1.1' -> 'GET /?token=***&x=1 HTTP/1.1': secret query values masked in any text."""
    return _PARAM.sub(lambda m: m.group(1) + MASK, text)


def redact(text: str) -> str:
    """'rtsp://user:secret@host/x?token=t' -> 'rtsp://user:***@host/x?token=***'; text that is no URL unchanged.

    The password runs to the last '@' before the query, so a raw '@' or '/' inside it is masked too."""
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text
    query_at = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    at = rest.rfind("@", 0, query_at)
    if at >= 0:
        user, colon, _ = rest[:at].partition(":")
        rest = f"{user}{':' + MASK if colon else ''}{rest[at:]}"
    return f"{scheme}://{redact_query(rest)}"

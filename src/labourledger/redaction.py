"""Hiding the credentials a URL can carry before it is shown, logged or written anywhere.

A JSON-RPC URL from a node provider often holds an API key: as user info
(`https://user:key@host`), in the query (`?apikey=...`) or as a path segment
(`/v3/<key>`). Reports, bundles, JSON output and error messages show the URL with
those parts replaced, so a shared report or a pasted error leaks no key.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit, urlunsplit

__all__ = ["HIDDEN", "redact_text", "redact_url", "url_secrets"]

HIDDEN = "***"
#: A path segment this long, of the characters API keys are made of, is taken for a key.
_TOKEN_SEGMENT = re.compile(r"^[A-Za-z0-9_\-]{16,}$")
_SHORTEST_KEY = 8


def url_secrets(url: str) -> list[str]:
    """The parts of `url` that may be credentials, longest first."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    found = [parts.netloc.rpartition("@")[0]] if "@" in parts.netloc else []
    found += [value for _, value in parse_qsl(parts.query)]
    found += [s for s in parts.path.split("/") if _TOKEN_SEGMENT.match(s)]
    return sorted({s for s in found if s}, key=len, reverse=True)


def redact_url(url: str) -> str:
    """`url` with its user info, query values and key-like path segments replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return HIDDEN
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{HIDDEN}@{host}" if "@" in parts.netloc else host
    path = "/".join(HIDDEN if _TOKEN_SEGMENT.match(s) else s for s in parts.path.split("/"))
    query = "&".join(f"{key}={HIDDEN}" for key, _ in parse_qsl(parts.query))
    return urlunsplit((parts.scheme, netloc, path, query, parts.fragment))


def redact_text(text: str, url: str) -> str:
    """`text` with `url` shown redacted, and any credential of it quoted on its own (the
    path a transport error names, say) replaced by ***; too short a value to be a key is
    left alone, since replacing it would garble ordinary words and numbers."""
    text = text.replace(url, redact_url(url))
    for secret in url_secrets(url):
        if len(secret) >= _SHORTEST_KEY:
            text = text.replace(secret, HIDDEN)
    return text

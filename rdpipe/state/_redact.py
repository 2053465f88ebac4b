"""Strip short-lived secrets and bulk from a request body before it goes into the journal.

The journal keeps each submit's body for the record, but a URL's query string is often a signed
storage token (S3/TOS presigned URLs, callback tokens) and a ``data:`` URL is megabytes of base64
that the cache key already covers. Both are replaced by a marker; everything else is kept as sent.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

_DATA_URL_KEEP = 64  # a data: URL shorter than this is kept whole


def redact_request(request_json: str) -> str:
    """Return the body with URL query strings, fragments, user info and inline data replaced.

    The text is returned unchanged when nothing needs redacting. Raises ``ValueError`` when
    ``request_json`` is not a JSON object.
    """
    body = json.loads(request_json)
    if not isinstance(body, dict):
        raise ValueError("a request body must be a JSON object")
    redacted = _redact_value(body)
    if redacted == body:
        return request_json
    return json.dumps(redacted, ensure_ascii=False, separators=(",", ":"))


def redact_url(url: str) -> str:
    """Return ``url`` without its query string, fragment and user info; other text unchanged."""
    if url.startswith("data:"):
        return _redact_data_url(url)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    query = "<redacted>" if parts.query else ""
    fragment = "<redacted>" if parts.fragment else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


def _redact_data_url(url: str) -> str:
    if len(url) <= _DATA_URL_KEEP:
        return url
    header, _, payload = url.partition(",")
    digest = hashlib.sha256(payload.encode()).hexdigest()[:16]
    return f"{header},<{len(payload)} characters omitted, sha256 {digest}>"


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_url(value)
    if isinstance(value, list):
        return [_redact_value(item) for item in value]
    if isinstance(value, dict):
        return {name: _redact_value(item) for name, item in value.items()}
    return value

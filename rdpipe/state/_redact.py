"""Strip short-lived secrets and bulk from a request before it goes into the journal.

The journal keeps each submit's body for the record, but a URL's query string is often a signed
storage token (S3/TOS presigned URLs, callback tokens) and a ``data:`` URL is megabytes of base64
that the cache key already covers. Both are replaced by a marker; everything else is kept as sent.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from rdpipe.request import GenerationRequest

_DATA_URL_KEEP = 64  # a data: URL shorter than this is kept whole


def redact_request(request: GenerationRequest) -> GenerationRequest:
    """The request with URL query strings, fragments, user info and inline data replaced.

    Every text value is passed through :func:`redact_url`; field names are kept. ``request``
    itself comes back when nothing needs redacting, so its body is not serialised again.
    """
    redacted = request.map_text(redact_url)
    return request if redacted == request else redacted


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

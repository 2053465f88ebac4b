"""What the simulator saw: a count of requests per endpoint and a bounded log of requests.

Tests read these from another thread than the server's, so every access takes a lock.
"""

from __future__ import annotations

import re
import threading
from collections import Counter, deque
from dataclasses import dataclass

MAX_BODY = 64 * 1024
MAX_RECORDS = 10_000

_API_ROUTES = (
    ("POST", re.compile(r"^/v1/video/generations/?$"), "submit", "POST /v1/video/generations"),
    ("GET", re.compile(r"^/v1/videos/[^/]+/content/?$"), "content", "GET /v1/videos/{id}/content"),
    ("GET", re.compile(r"^/v1/videos/[^/]+/?$"), "video", "GET /v1/videos/{id}"),
    ("GET", re.compile(r"^/v1/video/generations/[^/]+/?$"), "generation",
     "GET /v1/video/generations/{id}"),
    ("GET", re.compile(r"^/v1/models/?$"), "models", "GET /v1/models"),
    ("GET", re.compile(r"^/api/upload-url/?$"), "upload_url", "GET /api/upload-url"),
    ("POST", re.compile(r"^/api/assets/virtual/create/?$"), "assets",
     "POST /api/assets/virtual/create"),
    ("GET", re.compile(r"^/api/assets/[^/]+/status/?$"), "assets", "GET /api/assets/{id}/status"),
    ("GET", re.compile(r"^/api/pricing/?$"), "pricing", "GET /api/pricing"),
    ("GET", re.compile(r"^/api/status/?$"), "status", "GET /api/status"),
    ("GET", re.compile(r"^/v1/dashboard/billing/subscription/?$"), "balance",
     "GET /v1/dashboard/billing/subscription"),
    ("GET", re.compile(r"^/v1/dashboard/billing/usage/?$"), "balance",
     "GET /v1/dashboard/billing/usage"),
    ("GET", re.compile(r"^/v1/credits/?$"), "balance", "GET /v1/credits"),
)  # fmt: skip


def classify(origin: str, method: str, path: str) -> tuple[str | None, str]:
    """The endpoint's short name (for fault targeting) and its counter key.

    Counter keys are ``"POST /v1/video/generations"``, ``"GET /v1/videos/{id}"``,
    ``"GET /v1/video/generations/{id}"``, ``"GET /v1/videos/{id}/content"``,
    ``"GET /v1/models"``, the media host's ``"GET /api/upload-url"``,
    ``"POST /api/assets/virtual/create"`` and ``"GET /api/assets/{id}/status"``, the account's
    ``"GET /api/pricing"``, ``"GET /api/status"``, ``"GET /v1/dashboard/billing/subscription"``,
    ``"GET /v1/dashboard/billing/usage"`` and ``"GET /v1/credits"``,
    ``"GET storage"`` (``"HEAD storage"``, ``"PUT storage"``: every request to the storage
    origin, clips and hosted files alike), and ``"<METHOD> other"``.
    """
    if origin == "storage":
        return "storage", f"{method} storage"
    head_as_get = "GET" if method == "HEAD" else method
    for route_method, pattern, name, key in _API_ROUTES:
        if head_as_get == route_method and pattern.match(path):
            return name, key
    return None, f"{method} other"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received: ``headers`` keys are lower case, ``body`` is cut at 64 KiB."""

    method: str
    path: str
    query: str
    origin: str
    endpoint: str
    headers: dict[str, str]
    body: bytes


@dataclass
class _Entry:
    request: RecordedRequest
    body: bytearray


class RequestRecorder:
    """Counts and logs requests; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._entries: deque[_Entry] = deque(maxlen=MAX_RECORDS)

    def record(self, request: RecordedRequest) -> bytearray:
        """Count and log a request; return the buffer its body is to be appended to."""
        entry = _Entry(request, bytearray())
        with self._lock:
            self._counts[request.endpoint] += 1
            self._entries.append(entry)
        return entry.body

    def append_body(self, buffer: bytearray, chunk: bytes) -> None:
        """Add received body bytes to a logged request, up to 64 KiB."""
        with self._lock:
            buffer.extend(chunk[: max(0, MAX_BODY - len(buffer))])

    def counters(self) -> dict[str, int]:
        """A snapshot of request counts by endpoint key."""
        with self._lock:
            return dict(self._counts)

    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the logged requests, oldest first, with the body received so far."""
        with self._lock:
            entries = list(self._entries)
            return [_with_body(entry) for entry in entries]

    def clear(self) -> None:
        """Forget every count and logged request."""
        with self._lock:
            self._counts.clear()
            self._entries.clear()


def _with_body(entry: _Entry) -> RecordedRequest:
    request = entry.request
    return RecordedRequest(
        request.method, request.path, request.query, request.origin, request.endpoint,
        dict(request.headers), bytes(entry.body),
    )  # fmt: skip

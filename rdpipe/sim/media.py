"""The media host's rules: which files it hosts, under what names, and how it audits portraits.

A hosted file is named ``<md5>.<ext>`` (32 lower-case hex digits, a lower-case extension). It is
written through ``PUT /uploads/<name>`` (a presigned URL) and read at ``/media/<name>``, both
on the storage origin (``../shared/relaydance-api.md`` §9; issue 14's design, wire contract).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UPLOAD_PREFIX = "/uploads/"
MEDIA_PREFIX = "/media/"

CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "tiff": "image/tiff",
    "gif": "image/gif",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
}
"""The ``Content-Type`` the media host issues (and then wants on the ``PUT``) per extension."""

DEFAULT_FAILURE_REASON = (
    "the portrait shows a real person; the virtual library accepts synthetic portraits only "
    "(InputImageSensitiveContentDetected.PrivacyInformation)"
)

_MD5 = re.compile(r"^[0-9a-f]{32}$")
_NAME = re.compile(r"^([0-9a-f]{32})\.([a-z0-9]+)$")


@dataclass(frozen=True)
class MediaRules:
    """How the simulated media host behaves; the default hosts every known extension.

    - ``refused_extensions``: extensions (lower case, no dot) ``GET /api/upload-url`` refuses
      with 400 ``unsupported file type``, as a relay that hosts only images does.
    - ``asset_delay``: simulator-clock seconds from ``POST /api/assets/virtual/create`` until
      the asset reads ``Active`` (or ``Failed``).
    - ``failing_portraits``: md5s (hex) of hosted files whose audit ends ``Failed``.
    - ``failure_reason``: the ``reason`` a failed audit reports.
    """

    refused_extensions: frozenset[str] = frozenset()
    asset_delay: float = 0.3
    failing_portraits: frozenset[str] = frozenset()
    failure_reason: str = DEFAULT_FAILURE_REASON

    def __post_init__(self) -> None:
        object.__setattr__(self, "refused_extensions", frozenset(self.refused_extensions))
        object.__setattr__(self, "failing_portraits", frozenset(self.failing_portraits))
        if self.asset_delay < 0:
            raise ValueError("MediaRules.asset_delay must not be negative")
        bad = sorted(ext for ext in self.refused_extensions if ext != ext.lower() or "." in ext)
        if bad:
            raise ValueError(f"MediaRules.refused_extensions must be lower case, no dot: {bad}")
        bad = sorted(md5 for md5 in self.failing_portraits if not _MD5.match(md5))
        if bad:
            raise ValueError(f"MediaRules.failing_portraits must be md5 hex digests: {bad}")

    def content_type(self, ext: str) -> str | None:
        """The ``Content-Type`` for files with ``ext``, or ``None`` when this host refuses it."""
        if ext in self.refused_extensions:
            return None
        return CONTENT_TYPES.get(ext)


def is_md5(text: str) -> bool:
    """Whether ``text`` is 32 lower-case hex digits."""
    return _MD5.match(text) is not None


def split_hosted_name(name: str) -> tuple[str, str] | None:
    """``(md5, ext)`` of a hosted file's name ``<md5>.<ext>``, or ``None`` if it is not one."""
    match = _NAME.match(name)
    if match is None or match.group(2) not in CONTENT_TYPES:
        return None
    return match.group(1), match.group(2)

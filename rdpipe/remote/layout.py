"""Where each thing lives under the store's root: one place that forms the store's paths.

::

    clips/<sha256[:2]>/<sha256>.mp4          a clip, stored once, named by its content
    index/<key>/<take>.json                  request key and take -> the clip (an IndexEntry)
    claims/<key>/<take>/<generation>.json    who is generating that take (issue 13, section 4)
    tmp/<random>                             uploads in flight, moved to their final name
    damaged/<sha256>-<epoch>.mp4             a clip whose bytes proved not to hash to its name,
                                             moved aside (never deleted) when a pull found it
    media/<md5>.<ext>                        a local reference (image, video, audio) published
                                             for the relay to download (issue 14)

Paths are relative to the root and use ``/``; the store joins them to its root.
"""

from __future__ import annotations

import re
import uuid

_SHA256 = re.compile(r"[0-9a-f]{64}")
_MD5 = re.compile(r"[0-9a-f]{32}")
_EXTENSION = re.compile(r"[a-z0-9]{1,16}")
_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")
_GENERATION = re.compile(r"([1-9][0-9]*)\.json")


def clip_path(sha256: str) -> str:
    """The clip whose bytes hash to ``sha256`` (64 lowercase hex digits; else ``ValueError``)."""
    return f"clips/{sha256[:2]}/{_sha256(sha256)}.mp4"


def damaged_path(sha256: str, epoch: float) -> str:
    """Where the object stored as the clip ``sha256`` goes when its bytes prove damaged:
    ``epoch`` (seconds) is when it was moved there, in whole seconds."""
    return f"damaged/{_sha256(sha256)}-{int(epoch)}.mp4"


def index_path(key: str, take: int) -> str:
    """The index entry of take ``take`` (1-based) of the request with cache key ``key``."""
    return f"index/{_checked(key, take)}.json"


def claim_folder(key: str, take: int) -> str:
    """The folder holding every generation of the claims on ``key``'s take ``take``."""
    return f"claims/{_checked(key, take)}"


def claim_path(key: str, take: int, generation: int) -> str:
    """Generation ``generation`` (1, 2, ...) of the claim on ``key``'s take ``take``."""
    if generation < 1:
        raise ValueError(f"a claim generation counts from 1, not {generation}")
    return f"{claim_folder(key, take)}/{generation}.json"


def generation_of(name: str) -> int | None:
    """The generation a claim file's name (``"3.json"``, or a path ending so) stands for."""
    match = _GENERATION.fullmatch(name.rsplit("/", 1)[-1])
    return int(match.group(1)) if match else None


def media_path(md5: str, ext: str) -> str:
    """The published media file whose bytes hash to ``md5`` (32 lowercase hex digits), of the
    kind ``ext`` names (``"png"``, ``"mp4"``: lowercase letters and digits, no dot); else
    ``ValueError``."""
    if not _MD5.fullmatch(md5):
        raise ValueError(f"not an md5 in lowercase hex: {md5!r}")
    if not _EXTENSION.fullmatch(ext):
        raise ValueError(f"not a file extension (lowercase, no dot): {ext!r}")
    return f"media/{md5}.{ext}"


def temporary_path(suffix: str = "") -> str:
    """A new, unique place for an upload in flight (``tmp/<32 hex digits><suffix>``)."""
    return f"tmp/{uuid.uuid4().hex}{suffix}"


def _sha256(sha256: str) -> str:
    if not _SHA256.fullmatch(sha256):
        raise ValueError(f"not a sha256 in lowercase hex: {sha256!r}")
    return sha256


def _checked(key: str, take: int) -> str:
    if not _KEY.fullmatch(key):
        raise ValueError(f"not a request key: {key!r}")
    if take < 1:
        raise ValueError(f"takes count from 1, not {take}")
    return f"{key}/{take}"

"""Reference images in a submit: decoded and checked the way the upstream checks them.

The simulator fetches nothing from the network: it looks at ``data:`` URLs and at files its
own media host serves (:class:`MediaLookup`); any other ``http(s)`` URL, and an ``asset://``
URI, is accepted and shown as a placeholder in the preview.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from PIL import Image, UnidentifiedImageError

MAX_IMAGE_BYTES = 30 * 1024 * 1024
_FORMATS = {"JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF"}
_MIN_SIDE, _MAX_SIDE = 300, 6000
_MIN_ASPECT, _MAX_ASPECT = 0.4, 2.5
ASSET_SCHEME = "asset://"


class MediaLookup(Protocol):
    """What submit validation asks the media host about the URLs a submit cites."""

    def asset_status(self, asset_id: str) -> str | None:
        """``Processing``, ``Active`` or ``Failed``; ``None`` for an unknown id."""
        ...

    def is_hosted_url(self, url: str) -> bool:
        """Whether ``url`` points at the simulator's own hosted files."""
        ...

    def hosted_path(self, url: str) -> Path | None:
        """The hosted file ``url`` serves, or ``None`` when it is not (or no longer) hosted."""
        ...


class _NoMedia:
    """A media host with nothing hosted and no assets (a submit checked on its own)."""

    def asset_status(self, asset_id: str) -> str | None:
        return None

    def is_hosted_url(self, url: str) -> bool:
        return False

    def hosted_path(self, url: str) -> Path | None:
        return None


NO_MEDIA: MediaLookup = _NoMedia()
"""The :class:`MediaLookup` of a submit checked outside a running simulator."""


@dataclass(frozen=True)
class ReferenceImage:
    """One ``image_url`` entry: its URL, and for a data URL its bytes and pixel size.

    ``problem`` is why the upstream would refuse it, or ``None``.
    """

    url: str
    data: bytes | None = None
    size: tuple[int, int] | None = None
    problem: str | None = None

    @property
    def label(self) -> str:
        """A short description for the preview: the URL, shortened.

        A data URL shows its header; a hosted file the simulator read shows its path only
        (its port changes from run to run, its bytes do not).
        """
        if self.url.startswith("data:"):
            return self.url.split(",", 1)[0][:40]
        shown = urlsplit(self.url).path if self.data is not None else self.url
        return shown if len(shown) <= 60 else shown[:57] + "..."


def decode_image(url: str) -> ReferenceImage:
    """Decode and check one image URL; never raises, reports problems in the result."""
    if url.startswith(("http://", "https://", ASSET_SCHEME)):
        return ReferenceImage(url)
    if not url.startswith("data:"):
        problem = "image_url must be an http(s) URL or a data URL (or an asset:// URI)"
        return ReferenceImage(url, problem=problem)
    header, _, payload = url.partition(",")
    if not header.endswith(";base64"):
        return ReferenceImage(url, problem="image data URLs must be base64 encoded")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return ReferenceImage(url, problem="image data URL is not valid base64")
    return _check_pixels(url, data)


def read_hosted_image(url: str, path: Path) -> ReferenceImage:
    """Read and check an image the simulator hosts itself; never raises (blocking file I/O)."""
    try:
        if path.stat().st_size > MAX_IMAGE_BYTES:
            return ReferenceImage(url, problem="image is larger than 30 MB")
        data = path.read_bytes()
    except OSError:
        return ReferenceImage(url, problem=f"reference {url} could not be downloaded (404)")
    return _check_pixels(url, data)


def _check_pixels(url: str, data: bytes) -> ReferenceImage:
    if len(data) > MAX_IMAGE_BYTES:
        return ReferenceImage(url, problem="image is larger than 30 MB")
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, size = image.format, image.size
    except (UnidentifiedImageError, OSError):
        return ReferenceImage(url, problem="image data could not be decoded")
    width, height = size
    problem = None
    if kind not in _FORMATS:
        problem = f"image format {kind} is not supported"
    elif not (_MIN_SIDE <= width <= _MAX_SIDE and _MIN_SIDE <= height <= _MAX_SIDE):
        problem = f"image is {width}x{height}; each side must be {_MIN_SIDE}-{_MAX_SIDE} px"
    elif not _MIN_ASPECT <= width / height <= _MAX_ASPECT:
        problem = f"image aspect ratio {width / height:.2f} is outside 0.4-2.5"
    return ReferenceImage(url, data, size, problem)

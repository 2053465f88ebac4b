"""Reference images in a submit: decoded and checked the way the upstream checks them.

Only ``data:`` URLs can be looked at here (the simulator fetches nothing from the network);
an ``http(s)`` URL is accepted and shown as a placeholder in the preview.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

MAX_IMAGE_BYTES = 30 * 1024 * 1024
_FORMATS = {"JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF"}
_MIN_SIDE, _MAX_SIDE = 300, 6000
_MIN_ASPECT, _MAX_ASPECT = 0.4, 2.5


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
        """A short description for the preview: the URL, shortened."""
        if self.data is not None:
            return self.url.split(",", 1)[0][:40]
        return self.url if len(self.url) <= 60 else self.url[:57] + "..."


def decode_image(url: str) -> ReferenceImage:
    """Decode and check one image URL; never raises, reports problems in the result."""
    if url.startswith(("http://", "https://")):
        return ReferenceImage(url)
    if not url.startswith("data:"):
        return ReferenceImage(url, problem="image_url must be an http(s) URL or a data URL")
    header, _, payload = url.partition(",")
    if not header.endswith(";base64"):
        return ReferenceImage(url, problem="image data URLs must be base64 encoded")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return ReferenceImage(url, problem="image data URL is not valid base64")
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

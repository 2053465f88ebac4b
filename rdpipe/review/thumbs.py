"""Thumbnails of local reference images for the review page, made once with Pillow.

A thumbnail's name hashes the source's path, size and modification time, so an edited image
gets a new thumbnail and an unchanged one is never redrawn.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from rdpipe.files import write_atomically

THUMB_SIZE = (320, 320)  # pixels, the longest side fits; the page shows them smaller


def make_thumbnail(source: Path, thumbs_dir: Path) -> Path | None:
    """The thumbnail of ``source`` in ``thumbs_dir`` (made if needed); ``None`` if unreadable."""
    from PIL import Image, UnidentifiedImageError

    try:
        stat = source.stat()
    except OSError:
        return None
    tag = f"{source.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()
    target = thumbs_dir / f"{source.stem[:40]}-{hashlib.sha256(tag).hexdigest()[:16]}.png"
    if target.exists():
        return target
    try:
        with Image.open(source) as image:
            image.thumbnail(THUMB_SIZE)
            picture = image.convert("RGBA")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError):
        return None
    png = io.BytesIO()
    picture.save(png, format="PNG")
    write_atomically(target, png.getvalue(), durable=False)
    return target

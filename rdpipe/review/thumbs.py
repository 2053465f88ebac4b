"""Thumbnails of local reference images for the review page, made once with Pillow.

A thumbnail's name hashes the source's path, size and modification time, so an edited image
gets a new thumbnail and an unchanged one is never redrawn. It shows the picture the API is sent
(:meth:`rdpipe.prepare.images.Picture.for_api`): a phone photo tagged with an EXIF rotation
upright, a HEIC decoded, as a viewer sees the file (issue 11 §1).
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from rdpipe.files import make_ignored_folder, write_atomically
from rdpipe.prepare.images import UnreadableImage, read_picture

THUMB_SIZE = (320, 320)  # pixels, the longest side fits; the page shows them smaller
_VERSION = 2  # in every thumbnail's name: bump when the drawing changes


def make_thumbnail(source: Path, thumbs_dir: Path) -> Path | None:
    """The thumbnail of ``source`` in ``thumbs_dir`` (made if needed); ``None`` if unreadable.

    The folder above ``thumbs_dir`` (the page's ``review/``), when this makes it, gets a
    ``.gitignore`` of ``*`` (:func:`~rdpipe.files.make_ignored_folder`).
    """
    from PIL import Image, UnidentifiedImageError

    try:
        stat = source.stat()
    except OSError:
        return None
    tag = f"{_VERSION}\0{source.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()
    target = thumbs_dir / f"{source.stem[:40]}-{hashlib.sha256(tag).hexdigest()[:16]}.png"
    if target.exists():
        return target
    try:
        sent, _kind = read_picture(source.read_bytes()).for_api()
        with Image.open(io.BytesIO(sent)) as image:
            image.thumbnail(THUMB_SIZE)
            picture = image.convert("RGBA")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError,
            UnreadableImage):  # fmt: skip
        return None
    png = io.BytesIO()
    picture.save(png, format="PNG")
    make_ignored_folder(thumbs_dir.parent)
    write_atomically(target, png.getvalue(), durable=False)
    return target

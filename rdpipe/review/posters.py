"""Poster frames and display sizes of takes' clips for the review page, made once with PyAV.

A tile is sized to the picture a viewer sees (the coded size turned by the clip's display
matrix, square pixels), and shows a poster frame (a JPEG of the picture about a second in) until
it is played, so no tile is black. Each poster's name hashes the clip's path, size and
modification time; a small JSON beside it keeps the measured size and duration, so an unchanged
clip is neither decoded nor probed again.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, cast

import av
from PIL import Image

from rdpipe.assemble.errors import ClipCorrupt, ClipMissing
from rdpipe.assemble.orientation import frame_orientation
from rdpipe.assemble.probe import probe_clip_blocking
from rdpipe.files import make_ignored_folder, write_atomically

POSTER_AT = 1.0  # seconds into the clip (or a third of a shorter clip)
POSTER_WIDTH = 640  # pixels, the longest side at most; tiles show them smaller
_VERSION = 1  # in every poster's name: bump when the drawing changes


@dataclass(frozen=True)
class ClipLook:
    """What the page needs of a clip: its poster, its upright size in pixels, its seconds."""

    poster: Path
    width: int
    height: int
    duration: float


#: :func:`look_at`'s answer for a clip that is not on disk.
CLIP_MISSING = "clip missing"


def clip_look(clip: Path, posters_dir: Path) -> ClipLook | None:
    """The poster and measurements of ``clip``, cached in ``posters_dir``; ``None`` if unreadable.

    The folder above ``posters_dir`` (the page's ``review/``), when this makes it, gets a
    ``.gitignore`` of ``*``.
    """
    look = look_at(clip, posters_dir)
    return look if isinstance(look, ClipLook) else None


def look_at(clip: Path, posters_dir: Path) -> ClipLook | str:
    """As :func:`clip_look`, but for a clip that cannot be shown, why, in a few words:
    :data:`CLIP_MISSING`, ``"the file is empty"``, ``"no video stream"``, a decoder's reason."""
    try:
        stat = clip.stat()
    except FileNotFoundError:
        return CLIP_MISSING
    except OSError as error:
        return error.strerror or str(error)
    if stat.st_size == 0:
        return "the file is empty (0 bytes)"
    tag = f"{_VERSION}\0{clip.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()
    stem = f"{clip.stem[:40]}-{hashlib.sha256(tag).hexdigest()[:16]}"
    poster, facts = posters_dir / f"{stem}.jpg", posters_dir / f"{stem}.json"
    cached = _cached(poster, facts)
    if cached is not None:
        return cached
    try:
        info = probe_clip_blocking(clip, shot_id=clip.stem)
        jpeg = _poster_jpeg(clip, min(POSTER_AT, info.video_duration / 3))
    except ClipMissing:
        return CLIP_MISSING
    except ClipCorrupt as error:
        return _damage(error.__cause__) or error.reason
    except (av.FFmpegError, OSError, ValueError) as error:
        return _damage(error) or str(error) or type(error).__name__
    width, height = info.display_size
    look = ClipLook(poster, width, height, info.video_duration)
    make_ignored_folder(posters_dir.parent)
    write_atomically(poster, jpeg, durable=False)
    record = {"width": width, "height": height, "duration": info.video_duration}
    write_atomically(facts, json.dumps(record).encode(), durable=False)
    return look


def _damage(error: BaseException | None) -> str | None:
    """A decoder's refusal in words, without its error number and path."""
    if isinstance(error, av.FFmpegError):
        return f"the file is cut off or damaged ({error.strerror or 'unreadable'})"
    return None


def _cached(poster: Path, facts: Path) -> ClipLook | None:
    if not poster.is_file():
        return None
    try:
        record = json.loads(facts.read_text(encoding="utf-8"))
        return ClipLook(poster, int(record["width"]), int(record["height"]),
                        float(record["duration"]))  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _poster_jpeg(clip: Path, at: float) -> bytes:
    """The first frame shown at or after ``at`` seconds (else the last), upright, as JPEG."""
    with av.open(str(clip)) as container:
        frame = None
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time >= at:
                break
        if frame is None:
            raise ValueError("no video frame")
        image = frame_orientation(frame).upright(cast(_Picture, frame).to_image())
    image.thumbnail((POSTER_WIDTH, POSTER_WIDTH))
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=82)
    return out.getvalue()


class _Picture(Protocol):
    """A decoded video frame as PyAV converts it (its stub leaves ``to_image`` untyped)."""

    def to_image(self) -> Image.Image: ...

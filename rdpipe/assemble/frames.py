"""Single frames out of clips: the last frame for continuity, a middle frame for the sheet."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, cast

import anyio.to_thread
import av
from PIL import Image

from rdpipe.assemble.argv import build_last_frame_argv
from rdpipe.assemble.errors import ClipCorrupt, ClipMissing
from rdpipe.assemble.orientation import frame_orientation
from rdpipe.assemble.runner import run_ffmpeg


async def extract_last_frame(clip: Path, dest: Path, *, ffmpeg: str) -> Path:
    """Write the clip's last frame to ``dest`` as PNG (for a next shot's first frame).

    The way up a viewer sees it: ffmpeg turns a clip tagged with a display matrix as it decodes.
    Raises :class:`ClipMissing` without the clip, :class:`ClipCorrupt` when no frame decodes.
    """
    unfinished = dest.with_name(f".{dest.stem}.partial.png")
    if not await anyio.to_thread.run_sync(_prepare, clip, dest):
        raise ClipMissing(clip.stem, clip)
    await run_ffmpeg(build_last_frame_argv(ffmpeg, clip, unfinished), step=f"reading {clip.name}")
    if not await anyio.to_thread.run_sync(_move_into_place, unfinished, dest):
        raise ClipCorrupt(clip.stem, clip, "no frame could be decoded")
    return dest


def _prepare(clip: Path, dest: Path) -> bool:
    """Make ``dest``'s folder when ``clip`` is there; whether it is. Blocking."""
    if not clip.is_file():
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    return True


def _move_into_place(unfinished: Path, dest: Path) -> bool:
    """Rename ``unfinished`` to ``dest``; ``False`` when ffmpeg wrote nothing. Blocking."""
    if not unfinished.is_file():
        return False
    unfinished.replace(dest)
    return True


async def grab_frame(clip: Path, at: float, *, shot_id: str) -> Image.Image:
    """The first frame at or after ``at`` seconds, decoded in-process and turned upright."""
    try:
        return await anyio.to_thread.run_sync(_grab_blocking, clip, at)
    except (av.FFmpegError, StopIteration) as error:
        raise ClipCorrupt(shot_id, clip, "no frame could be decoded") from error


def _grab_blocking(clip: Path, at: float) -> Image.Image:
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        if at > 0 and stream.time_base is not None:
            container.seek(int(at / stream.time_base), stream=stream, backward=True)
        last = None
        for frame in container.decode(stream):
            last = frame
            if frame.time is not None and frame.time >= at:
                break
        if last is None:
            raise StopIteration
        image = cast(_Picture, last).to_image()
        return frame_orientation(last).upright(image)


class _Picture(Protocol):
    """A decoded video frame as PyAV converts it (its stub leaves ``to_image`` untyped)."""

    def to_image(self) -> Image.Image: ...

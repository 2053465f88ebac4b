"""Phone-like test clips (a red corner, display rotation, a hole in the timestamps) and what a
viewer of a produced file sees: which way up each frame is, its size, and which source frame.

Each picture is grey with a red top-left corner and its own frame number written as a row of
eight white-or-grey cells across its middle. The measuring side turns frames with PyAV's own
``frame.rotation``, not with rdpipe's code.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import av
from PIL import Image, ImageStat

_QUIET = ("-hide_banner", "-nostdin", "-loglevel", "error", "-y")


_BITS = 8
# The stored picture is the upright one turned back, so that the tag shows it upright.
_STORED = {0: [], 90: ["transpose=clock"], 180: ["hflip", "vflip"], 270: ["transpose=cclock"]}


@dataclass(frozen=True)
class PhoneClip:
    """A clip as a phone records it: ``width`` x ``height`` is the picture as shown.

    ``rotation`` stores the picture turned and tags it with a display matrix that turns it
    back (counterclockwise degrees, as ``ffmpeg -display_rotation``). ``hole`` frames are left
    out of the timeline after ``frames // 2`` (a variable frame rate: ``setpts`` then
    ``-fps_mode passthrough``); the tone lasts as long as the picture.
    """

    name: str
    width: int = 320
    height: int = 240
    rate: int = 24
    frames: int = 48
    hole: int = 0
    rotation: int = 0

    @property
    def seconds(self) -> float:
        return (self.frames + self.hole) / self.rate


def make_phone_clip(ffmpeg: str, clip: PhoneClip, directory: Path) -> Path:
    """Encode the clip as H.264 + AAC (48 kHz stereo) in MP4, tagged with its rotation."""
    dest = directory / f"{clip.name}.mp4"
    w, h, half = clip.width, clip.height, clip.frames // 2
    cell = w // (2 * _BITS)
    bits = [f"drawbox=x={w // 4 + k * cell}:y={h * 3 // 8}:w={cell}:h={h // 4}:color=white"
            f":t=fill:enable='mod(floor(n/{2**k}),2)'" for k in range(_BITS)]  # fmt: skip
    steps = [f"drawbox=x=0:y=0:w={w // 4}:h={h // 4}:color=red:t=fill", *bits,
             f"trim=end_frame={clip.frames}",
             f"setpts='if(lt(N,{half}),N,N+{clip.hole})/{clip.rate}/TB'",
             *_STORED[clip.rotation]]  # fmt: skip
    graph = f"color=c=gray:s={w}x{h}:r={clip.rate}," + ",".join(steps) + "[v]"
    stored = dest.with_name(f"{clip.name}-stored.mp4") if clip.rotation else dest
    argv = [ffmpeg, *_QUIET, "-filter_complex", graph,
            "-f", "lavfi", "-i", f"sine=f=440:r=48000:d={clip.seconds}",
            "-map", "[v]", "-map", "0:a", "-fps_mode", "passthrough",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-ac", "2", "-t", str(clip.seconds), str(stored)]  # fmt: skip
    subprocess.run(argv, check=True)
    return tag_display(ffmpeg, stored, dest, rotation=clip.rotation) if clip.rotation else dest


def tag_display(
    ffmpeg: str, clip: Path, dest: Path, *, rotation: int, mirrored: bool = False
) -> Path:
    """A stream copy of ``clip`` whose display matrix turns it ``rotation`` degrees
    counterclockwise (and mirrors it), as a phone held sideways tags its recording."""
    flip = ["-display_hflip:v:0"] if mirrored else []
    argv = [ffmpeg, *_QUIET, "-display_rotation:v:0", str(rotation), *flip, "-i", str(clip),
            "-c", "copy", str(dest)]  # fmt: skip
    subprocess.run(argv, check=True)
    return dest


@dataclass(frozen=True)
class Viewed:
    """One decoded frame as a player shows it."""

    time: float
    size: tuple[int, int]  # the whole frame
    picture: tuple[int, int]  # the part that is not black bars
    corners: tuple[str, ...]  # corners of the picture that are red
    number: int  # the source frame's number, read from the picture


def view(path: Path) -> list[Viewed]:
    """Every frame of ``path`` turned by its display matrix, as a player does."""
    with av.open(str(path)) as container:
        return [_viewed(frame) for frame in container.decode(video=0)]


def view_image(image: Image.Image) -> Viewed:
    """A still picture (a contact sheet cell, an extracted frame) measured like a frame."""
    return _measure(image.convert("RGB"), 0.0)


def _viewed(frame: av.VideoFrame) -> Viewed:
    image = frame.to_image()  # type: ignore[no-untyped-call]
    return _measure(image.rotate(frame.rotation, expand=True), float(frame.time or 0))


def _measure(image: Image.Image, time: float) -> Viewed:
    bars = image.convert("L").point(lambda value: 255 if value > 40 else 0)
    left, top, right, bottom = bars.getbbox() or (0, 0, *image.size)
    width, height = right - left, bottom - top
    cell_w, cell_h = max(1, width // 10), max(1, height // 10)
    corners = {
        "top-left": (left + 2, top + 2),
        "top-right": (right - 2 - cell_w, top + 2),
        "bottom-left": (left + 2, bottom - 2 - cell_h),
        "bottom-right": (right - 2 - cell_w, bottom - 2 - cell_h),
    }
    red = tuple(name for name, (x, y) in corners.items()
                if _is_red(image.crop((x, y, x + cell_w, y + cell_h))))  # fmt: skip
    gray = image.convert("L")
    number = 0
    for bit in range(_BITS):
        x = left + width * (0.25 + (bit + 0.5) / (2 * _BITS))
        y = top + height / 2
        cell = gray.crop((round(x) - 1, round(y) - 2, round(x) + 2, round(y) + 3))
        number |= (ImageStat.Stat(cell).mean[0] > 192) << bit
    return Viewed(time, image.size, (width, height), red, number)


def _is_red(cell: Image.Image) -> bool:
    r, g, b = ImageStat.Stat(cell).mean[:3]
    return r > 150 and g < 100 and b < 100

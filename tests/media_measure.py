"""Measurements of a written video, as a viewer would take them: its picture decoded with
PyAV, its loudness as ffmpeg's EBU R 128 meter (the ``ebur128`` filter) reads it."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import av

from rdpipe.ffmpeg_path import find_ffmpeg


@dataclass(frozen=True)
class Picture:
    """A video stream decoded whole: frame size in pixels, frames, and seconds of picture
    (frames over the stream's average rate)."""

    width: int
    height: int
    frames: int
    seconds: float


def picture(path: Path) -> Picture:
    """Decode every frame of the first video stream of ``path``."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _frame in container.decode(stream))
        rate = float(stream.average_rate or 24)
        return Picture(stream.codec_context.width, stream.codec_context.height, frames,
                       frames / rate)  # fmt: skip


def integrated_loudness(path: Path, ffmpeg: str | None = None) -> float:
    """Integrated loudness of ``path``'s sound in LUFS (EBU R 128), from ffmpeg's summary."""
    result = subprocess.run(
        [ffmpeg or find_ffmpeg(os.environ), "-hide_banner", "-nostdin", "-i", str(path),
         "-af", "ebur128", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    tail = result.stderr[result.stderr.rindex("Summary:") :]
    return float(tail.split("I:")[1].split("LUFS")[0])

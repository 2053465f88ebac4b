"""What a viewer would notice about a produced file: streams, lengths, chapters, decode errors."""

from __future__ import annotations

import subprocess
from array import array
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av


@dataclass(frozen=True)
class Produced:
    """Facts about an output file, measured by decoding it."""

    width: int
    height: int
    frame_rate: Fraction
    video_seconds: float
    audio_seconds: float  # decoded samples / sample rate; 0 when there is no audio track
    audio_start: float
    audio_end: float
    video_end: float
    chapters: list[tuple[str, float]]


def measure(path: Path) -> Produced:
    """Decode the whole file and measure it."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        rate = Fraction(video.average_rate or 0)
        chapters = [
            (c["metadata"].get("title", ""), float(c["start"] * Fraction(c["time_base"] or 0)))
            for c in container.chapters()
        ]
        width, height = video.codec_context.width, video.codec_context.height
        frames, video_end = 0, 0.0
        for frame in container.decode(video=0):
            frames += 1
            video_end = max(video_end, float(frame.time or 0) + float(1 / rate))
    samples, audio_start, audio_end, sample_rate = 0, 0.0, 0.0, 1
    with av.open(str(path)) as container:
        if container.streams.audio:
            sample_rate = container.streams.audio[0].rate
            for index, sound in enumerate(container.decode(container.streams.audio[0])):
                if index == 0:
                    audio_start = float(sound.time or 0)
                samples += sound.samples
                audio_end = float(sound.time or 0) + sound.samples / sample_rate
    return Produced(width, height, rate, float(frames / rate), samples / sample_rate,
                    audio_start, audio_end, video_end, chapters)  # fmt: skip


def decode_errors(ffmpeg: str, path: Path) -> str:
    """Whatever ffmpeg prints at level ``error`` while decoding the whole file."""
    result = subprocess.run(
        [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return result.stderr + ("" if result.returncode == 0 else f"exit {result.returncode}")


def flash_times(path: Path) -> list[float]:
    """When the picture turns white (mean luma above half), in seconds of the file's clock."""
    times: list[float] = []
    lit = False
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            small = frame.reformat(width=16, height=12, format="gray")
            plane = small.planes[0]
            rows = [bytes(plane)[r * plane.line_size : r * plane.line_size + 16] for r in range(12)]
            bright = sum(map(sum, rows)) > 128 * 16 * 12
            if bright and not lit:
                times.append(float(frame.time or 0))
            lit = bright
    return times


def beep_times(
    path: Path, *, threshold: float = 0.3, gap: float = 0.2, played: bool = False
) -> list[float]:
    """When the sound first rises above ``threshold`` after ``gap`` seconds below it.

    ``played`` times each sample as a player does, one after the other from the first decoded
    frame's time, rather than by each frame's timestamp: a track whose packets overlap (copied
    AAC with its padding) sounds later than its timestamps say.
    """
    times: list[float] = []
    last = -gap
    heard: float | None = None
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            code, full_scale = _SAMPLE_CODES[frame.format.name]
            step = 1 if frame.format.is_planar else len(frame.layout.channels)
            values = array(code, bytes(frame.planes[0]))[: frame.samples * step : step]
            start = float(frame.time or 0)
            if played:
                start = start if heard is None else heard
                heard = start + frame.samples / frame.sample_rate
            for index, value in enumerate(values):
                if abs(value) > threshold * full_scale:
                    at = start + index / frame.sample_rate
                    if at - last >= gap:
                        times.append(at)
                    last = at
    return times


_SAMPLE_CODES = {"fltp": ("f", 1.0), "flt": ("f", 1.0), "s16": ("h", 32768), "s16p": ("h", 32768)}

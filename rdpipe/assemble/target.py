"""The picture and sound format every clip is normalised into when they cannot be copied."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from rdpipe.model.timeline import frame_rate

_RATIOS = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1), "4:3": (4, 3), "3:4": (3, 4),
           "21:9": (21, 9)}  # fmt: skip
SAMPLE_RATE = 48_000
CHANNELS = 2


@dataclass(frozen=True)
class TargetFormat:
    """Frame size in pixels and frame rate in frames per second; audio is always 48 kHz stereo."""

    width: int
    height: int
    fps: Fraction

    @classmethod
    def from_ratio(cls, ratio: str, resolution: str, fps: Fraction | float = 24) -> TargetFormat:
        """Size from a pipeline's ``ratio`` ("16:9") and ``resolution`` ("720p", the short side).

        Raises ``ValueError`` for a ratio such as ``adaptive`` that names no size.
        """
        if ratio not in _RATIOS or not resolution.rstrip("p").isdigit():
            raise ValueError(f"no frame size for ratio {ratio!r} at {resolution!r}")
        across, down = _RATIOS[ratio]
        short = int(resolution.rstrip("p"))
        scale = Fraction(short, min(across, down))
        return cls(_even(across * scale), _even(down * scale), frame_rate(fps))

    def seconds_of(self, frames: int) -> float:
        """Seconds that ``frames`` frames last at this rate."""
        return float(frames / self.fps)

    def samples_of(self, frames: int) -> int:
        """Audio samples that last exactly as long as ``frames`` frames (to the nearest one)."""
        return round(frames * SAMPLE_RATE / self.fps)

    def timescale(self) -> int:
        """An mp4/mov track timescale in which every frame lasts a whole number of ticks."""
        ticks = self.fps.numerator
        while ticks < 10_000:
            ticks *= 2
        return ticks


def _even(value: Fraction) -> int:
    return max(2, round(value / 2) * 2)

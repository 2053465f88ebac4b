"""The picture and sound format every clip is normalised into when they cannot be copied.

The frame size and rate come from the clips (see :func:`rdpipe.assemble.join_plan.plan_join`), never
from arithmetic on a storyboard's ratio: Seedance's 16:9 at 480p is 864x480, not 854x480
(relaydance-api.md §14, issue 11 §4).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from rdpipe.assemble.colour import UNSTATED, Colour
from rdpipe.model.timeline import round_half_up

SAMPLE_RATE = 48_000
CHANNELS = 2


@dataclass(frozen=True)
class TargetFormat:
    """Frame size in pixels, frame rate in frames per second and the colour description every
    piece is converted to; audio is always 48 kHz stereo."""

    width: int
    height: int
    fps: Fraction
    colour: Colour = UNSTATED  # always limited range: see rdpipe.assemble.colour

    def seconds_of(self, frames: int) -> float:
        """Seconds that ``frames`` frames last at this rate."""
        return float(frames / self.fps)

    def samples_of(self, frames: int) -> int:
        """Audio samples that last exactly as long as ``frames`` frames (to the nearest one)."""
        return round_half_up(frames * SAMPLE_RATE / self.fps)

    def timescale(self) -> int:
        """An mp4/mov track timescale in which every frame lasts a whole number of ticks."""
        ticks = self.fps.numerator
        while ticks < 10_000:
            ticks *= 2
        return ticks

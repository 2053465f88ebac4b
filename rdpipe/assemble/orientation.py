"""Which way up a clip is shown: its display matrix, reduced to a right-angle turn and a mirror.

Phones record the sensor's picture as it is and tag the track with a display matrix (the MP4
``tkhd`` matrix, ISO/IEC 14496-12 §8.3.2; FFmpeg's ``AV_FRAME_DATA_DISPLAYMATRIX``) that tells
the player how to turn it. ffmpeg turns the picture when it decodes and re-encodes (its
``autorotate``, on by default) but not when it copies streams, and PyAV never does: so the
orientation is part of what a clip is, wherever rdpipe joins, sizes or draws it (issue 11 §1).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import av
from av.sidedata.sidedata import SideDataContainer
from av.sidedata.sidedata import Type as SideDataType
from PIL import Image

# The upper-left 2x2 of the display matrix (a, b, c, d) for each of the eight right-angle
# turns and mirrors, with the Pillow operation that shows the coded picture as a player does.
# Checked against ffmpeg's autorotation of clips tagged with -display_rotation/-display_hflip.
_TURNS: dict[tuple[int, int, int, int], tuple[int, bool, Image.Transpose | None]] = {
    (1, 0, 0, 1): (0, False, None),
    (0, -1, 1, 0): (90, False, Image.Transpose.ROTATE_90),
    (-1, 0, 0, -1): (180, False, Image.Transpose.ROTATE_180),
    (0, 1, -1, 0): (270, False, Image.Transpose.ROTATE_270),
    (-1, 0, 0, 1): (0, True, Image.Transpose.FLIP_LEFT_RIGHT),
    (0, -1, -1, 0): (90, True, Image.Transpose.TRANSVERSE),
    (1, 0, 0, -1): (180, True, Image.Transpose.FLIP_TOP_BOTTOM),
    (0, 1, 1, 0): (270, True, Image.Transpose.TRANSPOSE),
}
_BY_TURN = {(turn, mirrored): key for key, (turn, mirrored, _op) in _TURNS.items()}


@dataclass(frozen=True)
class Orientation:
    """How a player turns a clip's coded picture: the display matrix's a, b, c, d signs."""

    matrix: tuple[int, int, int, int] = (1, 0, 0, 1)

    @classmethod
    def from_matrix(cls, values: Sequence[float]) -> Orientation:
        """The orientation of a display matrix given as its first values ``a, b, (u,) c, d``.

        A turn that is not a multiple of 90 degrees (seen in no camera) counts as the nearest
        one, mirror dropped: rdpipe fits every picture into its frame anyway.
        """
        a, b, c, d = (values[0], values[1], values[3], values[4]) if len(values) > 4 else values
        across, down = math.hypot(a, c), math.hypot(b, d)
        if not across or not down:
            return UPRIGHT
        signs = (round(a / across), round(b / down), round(c / across), round(d / down))
        if signs in _TURNS:
            return cls(signs)
        turn = round(-math.degrees(math.atan2(b, a)) / 90) % 4 * 90
        return cls(_BY_TURN[turn, False])

    @classmethod
    def from_side_data(cls, data: bytes) -> Orientation:
        """The orientation in a frame's 36-byte ``DISPLAYMATRIX`` side data (native int32)."""
        return cls.from_matrix(struct.unpack("=9i", data))

    @property
    def turn(self) -> int:
        """Degrees counterclockwise the picture is turned to be shown (0, 90, 180 or 270)."""
        return _TURNS[self.matrix][0]

    @property
    def mirrored(self) -> bool:
        """Whether the picture is also flipped (a front camera's selfie view)."""
        return _TURNS[self.matrix][1]

    @property
    def swaps_axes(self) -> bool:
        """Whether the shown picture is as wide as the coded one is tall."""
        return self.turn in (90, 270)

    def describe(self) -> str:
        """Words for a message: ``upright``, ``turned 90°``, ``turned 180°, mirrored``."""
        if self.matrix == UPRIGHT.matrix:
            return "upright"
        words = [f"turned {self.turn}°"] if self.turn else []
        return ", ".join([*words, "mirrored"] if self.mirrored else words)

    def upright(self, image: Image.Image) -> Image.Image:
        """``image`` (a decoded, unturned frame) the way up a viewer sees it."""
        operation = _TURNS[self.matrix][2]
        return image if operation is None else image.transpose(operation)


UPRIGHT = Orientation()


def frame_orientation(frame: av.VideoFrame) -> Orientation:
    """The orientation a decoded frame carries (decoders copy the stream's display matrix)."""
    side_data = cast(SideDataContainer, frame.side_data)
    for item in side_data:
        if item.type is SideDataType.DISPLAYMATRIX:
            return Orientation.from_side_data(bytes(item))
    return UPRIGHT

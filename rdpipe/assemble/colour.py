"""What a clip's pixel values mean: their range, matrix, primaries and transfer (issue 11).

A joined video has one colour description, in its first file's header, that every shot is
shown by. A full-range clip (0-255, a JPEG-style ``yuvj420p`` or an MJPEG camera file) first in
a join of limited-range clips (16-235) tagged the whole video full range: the other shots'
white showed as grey 235 and red lost saturation. So clips are copied only when they agree,
and normalising converts every clip to limited range and tags it with one description.

A matrix, primaries or transfer a clip does not state (``unknown``) is left as it is: a
player shows it by the video's description, whether copied or normalised, so only two stated
values that differ keep clips apart. Only the matrix is converted (``scale``); primaries and
transfer are tagged, not converted (that would need tone mapping).
"""

from __future__ import annotations

from dataclasses import dataclass

UNKNOWN = "unknown"
# libavutil's names (av_color_*_name) of the codes PyAV reports.
_MATRICES = {0: "gbr", 1: "bt709", 4: "fcc", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m",
             8: "ycgco", 9: "bt2020nc", 10: "bt2020c"}  # fmt: skip
_PRIMARIES = {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m",
              8: "film", 9: "bt2020", 10: "smpte428", 11: "smpte431", 12: "smpte432",
              22: "ebu3213"}  # fmt: skip
_TRANSFERS = {1: "bt709", 4: "gamma22", 5: "gamma28", 6: "smpte170m", 7: "smpte240m",
              8: "linear", 13: "iec61966-2-1", 14: "bt2020-10", 15: "bt2020-12",
              16: "smpte2084", 17: "smpte428", 18: "arib-std-b67"}  # fmt: skip
# The matrices the scale filter converts between.
_CONVERTIBLE = {"bt709", "fcc", "bt470bg", "smpte170m", "smpte240m", "bt2020nc"}
_FULL_RANGE = 2  # AVCOL_RANGE_JPEG


@dataclass(frozen=True)
class Colour:
    """A clip's colour description, in ffmpeg's names; ``range`` is ``tv`` (16-235) or ``pc``."""

    range: str = "tv"
    matrix: str = UNKNOWN
    primaries: str = UNKNOWN
    transfer: str = UNKNOWN

    @classmethod
    def from_codes(
        cls, *, range_code: int, matrix: int, primaries: int, transfer: int, pixel_format: str
    ) -> Colour:
        """From the codes libavcodec reports; ``yuvj`` formats are full range whatever the tag."""
        full = range_code == _FULL_RANGE or pixel_format.startswith("yuvj")
        return cls("pc" if full else "tv", _name(_MATRICES, matrix), _name(_PRIMARIES, primaries),
                   _name(_TRANSFERS, transfer))  # fmt: skip

    def limited(self) -> Colour:
        """The same description in limited range: what every normalised piece is made in."""
        return Colour("tv", self.matrix, self.primaries, self.transfer)

    def difference(self, other: Colour) -> str | None:
        """What keeps the two apart (``"colour range (full, limited)"``), or ``None``."""
        if self.range != other.range:
            return f"colour range ({_range(self.range)}, {_range(other.range)})"
        for name, mine, theirs in (("colour matrix", self.matrix, other.matrix),
                                   ("colour primaries", self.primaries, other.primaries),
                                   ("transfer", self.transfer, other.transfer)):  # fmt: skip
            if UNKNOWN not in (mine, theirs) and mine != theirs:
                return f"{name} ({mine}, {theirs})"
        return None


#: Limited range, nothing else stated: what a clip that says nothing is taken to be.
UNSTATED = Colour()


def scale_options(source: Colour, target: Colour) -> str:
    """``scale`` options turning a clip's pixels into the target's: range, and matrix when
    both are stated, convertible and differ."""
    options = f"out_range={target.range}"
    if (source.matrix != target.matrix
            and {source.matrix, target.matrix} <= _CONVERTIBLE):  # fmt: skip
        options += f":in_color_matrix={source.matrix}:out_color_matrix={target.matrix}"
    return options


def card_scale_options(target: Colour) -> str:
    """``scale`` options for a picture drawn in RGB (a card): the target's range and matrix."""
    if target.matrix in _CONVERTIBLE:
        return f"out_range={target.range}:out_color_matrix={target.matrix}"
    return f"out_range={target.range}"


def tag_filter(target: Colour) -> str:
    """A ``setparams`` filter tagging frames with the target's description, which the encoder
    writes into the stream, so every piece states the same one."""
    tags = [f"range={target.range}"]
    for name, value in (("colorspace", target.matrix), ("color_primaries", target.primaries),
                        ("color_trc", target.transfer)):  # fmt: skip
        if value != UNKNOWN and not value.startswith("#"):
            tags.append(f"{name}={value}")
    return "setparams=" + ":".join(tags)


def _name(names: dict[int, str], code: int) -> str:
    """The name of a code; 2 is unspecified, 3 and (but for matrices) 0 reserved."""
    if code in (2, 3):
        return UNKNOWN
    return names.get(code, UNKNOWN if code == 0 else f"#{code}")


def _range(value: str) -> str:
    return "full" if value == "pc" else "limited"

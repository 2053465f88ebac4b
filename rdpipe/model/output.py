"""The ``output:`` block of a pipeline: where the storyboard video goes and how it is assembled.

Owned by the assembly stage; the pipeline model embeds :class:`OutputSpec`, and the shot model
embeds :class:`ClipTrim` as a shot's ``trim:``. No I/O here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rdpipe.model.sequences import Items

#: YAML already typed every value: no text read as a number, no true read as 1, no infinity.
_FROZEN = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

#: The widest and tallest frame the assembly encodes, in pixels (x264's limit).
MAX_SIDE = 16384
#: What ``size:`` must look like, for every message about it.
SIZE_RULE = f"size must be WIDTHxHEIGHT in pixels, each 2 to {MAX_SIDE} and even, e.g. 1080x1920"


class ClipTrim(BaseModel):
    """The part of a shot's clip that goes into the storyboard, in seconds from its start."""

    model_config = _FROZEN

    start: float = Field(default=0.0, ge=0.0, description="Seconds cut from the clip's start.")
    end: float | None = Field(
        default=None,
        gt=0.0,
        description="Second of the clip where the shot ends; omit to keep the clip to its end.",
    )

    @model_validator(mode="after")
    def _end_after_start(self) -> Self:
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"trim end ({self.end}) must be after trim start ({self.start})")
        return self


class TransitionSpec(BaseModel):
    """How one shot gives way to the next."""

    model_config = _FROZEN

    kind: Literal["cut", "crossfade", "fade"] = Field(
        default="cut",
        description="`cut` joins shots directly; `crossfade` blends the end of a shot into the "
        "start of the next (the video gets shorter by the overlap); `fade` dips to black.",
    )
    seconds: float = Field(
        default=0.5,
        gt=0.0,
        le=5.0,
        description="Length of a crossfade or of the whole dip to black, in seconds.",
    )


class CardSpec(BaseModel):
    """A title or end card: text on a colour, or over an image."""

    model_config = _FROZEN

    text: str = Field(description="Text of the card; line breaks are kept, long lines wrap.")
    seconds: float = Field(default=3.0, gt=0.0, le=30.0, description="How long the card shows.")
    background: str = Field(
        default="#000000", description="Background colour, a CSS name or `#rrggbb`."
    )
    color: str = Field(default="#ffffff", description="Text colour, a CSS name or `#rrggbb`.")
    image: str | None = Field(
        default=None,
        description="Image shown behind the text, fitted inside the frame (never stretched), "
        "relative to the pipeline file.",
    )


class MusicSpec(BaseModel):
    """A music bed under the whole video, ducked while the shots have their own sound."""

    model_config = _FROZEN

    source: str = Field(description="Audio file (relative to the pipeline file) or http(s) URL.")
    volume: float = Field(
        default=0.3, ge=0.0, le=2.0, description="Gain applied to the music, 1.0 is unchanged."
    )
    fade_out: float = Field(
        default=2.0, ge=0.0, le=30.0, description="Seconds over which the music fades out."
    )
    duck: bool = Field(
        default=True, description="Lower the music while the clips' own audio is loud."
    )


class CaptionsSpec(BaseModel):
    """Captions from each shot's ``caption:``."""

    model_config = _FROZEN

    sidecars: Items[Literal["srt", "vtt"]] = Field(
        default=("srt", "vtt"),
        description="Caption files written beside the video (SubRip and WebVTT).",
    )
    burn_in: bool = Field(
        default=False, description="Also draw the captions into the picture (re-encodes)."
    )


class OutputSpec(BaseModel):
    """How the clips become one storyboard video."""

    model_config = _FROZEN

    path: str = Field(
        default="out/storyboard.mp4",
        description="The storyboard video, relative to the pipeline file. Clips, the manifest "
        "and other outputs go in the same directory.",
    )
    transition: TransitionSpec = Field(
        default_factory=TransitionSpec, description="How each shot gives way to the next."
    )
    title_card: CardSpec | None = Field(default=None, description="A card before the first shot.")
    end_card: CardSpec | None = Field(default=None, description="A card after the last shot.")
    font: str | None = Field(
        default=None,
        min_length=1,
        description="Font of the text rdpipe draws (cards, burned-in captions, the contact "
        "sheet): a .ttf, .otf or .ttc file relative to the pipeline file, or the name of an "
        "installed font family (found with fontconfig). Characters it lacks are drawn with the "
        "bundled Noto fonts, then any installed font that has them. Omit to use the bundled "
        "fonts.",
    )
    music: MusicSpec | None = Field(default=None, description="A music bed under the video.")
    loudness: float | None = Field(
        default=None,
        ge=-70.0,
        le=-5.0,
        description="Integrated loudness target in LUFS (e.g. -16 for web, -23 for broadcast); "
        "omit to keep the clips' levels.",
    )
    captions: CaptionsSpec = Field(
        default_factory=CaptionsSpec, description="Caption sidecars and burn-in."
    )
    chapters: bool = Field(default=True, description="Write one chapter per shot into the video.")
    contact_sheet: bool = Field(
        default=True, description="Write a PNG grid with a frame, the id and prompt of each shot."
    )
    fps: float | None = Field(
        default=None,
        gt=0.0,
        le=120.0,
        description="Frame rate of the video when clips must be normalised; omit to use the "
        "first clip's rate.",
    )
    size: str | None = Field(
        default=None,
        pattern=r"^[1-9][0-9]{0,4}x[1-9][0-9]{0,4}$",
        description="Frame size of the video as WIDTHxHEIGHT in pixels, both even (e.g. "
        "`1280x720`); clips of another shape get black bars. Omit to use the first clip's size "
        "as it is shown (turned upright).",
    )
    preset: Literal[
        "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower"
    ] = Field(default="veryfast", description="x264 speed preset used when clips are re-encoded.")
    crf: int = Field(
        default=20, ge=0, le=51, description="x264 quality when re-encoding; lower is better."
    )

    @field_validator("size")
    @classmethod
    def _even_size(cls, size: str | None) -> str | None:
        if size is not None and any(
            int(side) % 2 or int(side) > MAX_SIDE for side in size.split("x")
        ):  # odd sides: H.264 4:2:0 halves both
            raise ValueError(f"{size!r} is not a frame size: {SIZE_RULE}")
        return size

    @property
    def frame_size(self) -> tuple[int, int] | None:
        """``size`` as width and height in pixels, or ``None`` when not set."""
        if self.size is None:
            return None
        width, height = self.size.split("x")
        return int(width), int(height)


def contact_sheet_path(video: Path) -> Path:
    """Where the contact sheet of the video at ``video`` goes: beside it, ``<name>.contact.png``."""
    return video.with_suffix(".contact.png")


def caption_path(video: Path, kind: Literal["srt", "vtt"]) -> Path:
    """Where the ``kind`` caption file of the video at ``video`` goes: beside it, ``<name>.srt``
    or ``<name>.vtt``."""
    return video.with_suffix(f".{kind}")

"""Deliverables: the videos one storyboard becomes (``outputs:``), each with its own frame,
loudness and captions, and how each gets its aspect (issue 17). No I/O here.

The ``output:`` block stays valid: it is the one deliverable :data:`MAIN`.
"""

from __future__ import annotations

import typing
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rdpipe.model.output import OutputSpec
from rdpipe.model.platform_presets import PRESETS

_FROZEN = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

#: The name of the deliverable an ``output:`` block (or no block) declares.
MAIN = "main"

#: The ratios a regenerated shot can be asked for (relaydance-api.md section 1, ``ratio``).
DeliverableRatio = Literal["16:9", "9:16", "1:1", "4:3", "3:4", "21:9"]
#: The same ratios, in that order.
DELIVERABLE_RATIOS: tuple[DeliverableRatio, ...] = typing.get_args(DeliverableRatio)

#: How a deliverable gets an aspect the clips do not have: ``reframe`` crops each clip around
#: its shot's ``focus`` (free), ``pad`` fits it whole with bars (free), ``regenerate``
#: generates the shot again at the deliverable's ratio (billed; ``plan`` prices it).
AspectMethod = Literal["reframe", "pad", "regenerate"]

#: How one clip fills a deliverable's frame: ``reframe`` covers it and crops around the shot's
#: focus, ``pad`` fits the whole picture with bars, ``as_is`` is a clip made at the frame's
#: shape (fitted like ``pad``, which then adds no bars).
Fit = Literal["reframe", "pad", "as_is"]

#: The centre of the picture, as (x, y) shares: where a shot without ``focus:`` is cropped.
CENTRE = (0.5, 0.5)

#: A frame's ratio counts as ``ratio`` within this share (864x480 is 16:9 within 1.3%).
RATIO_TOLERANCE = 0.02


def ratio_value(ratio: str) -> float:
    """``"9:16"`` as width over height, 0.5625."""
    width, height = ratio.split(":")
    return int(width) / int(height)


class Focus(BaseModel):
    """The point of a shot's frame that a reframe keeps in view, as shares of the width
    (``x``, 0 left to 1 right) and height (``y``, 0 top to 1 bottom)."""

    model_config = _FROZEN

    x: float = Field(default=0.5, ge=0.0, le=1.0, description="0 is the left edge, 1 the right.")
    y: float = Field(default=0.5, ge=0.0, le=1.0, description="0 is the top edge, 1 the bottom.")


class SafeArea(BaseModel):
    """Margins a platform's own interface covers, as shares of the frame; burned-in captions
    are kept inside them."""

    model_config = _FROZEN

    top: float = Field(default=0.0, ge=0.0, lt=0.5)
    bottom: float = Field(default=0.0, ge=0.0, lt=0.5)
    left: float = Field(default=0.0, ge=0.0, lt=0.5)
    right: float = Field(default=0.0, ge=0.0, lt=0.5)


class DeliverableSpec(OutputSpec):
    """One video the storyboard becomes: an ``output:`` block with a name, a shape and, from a
    ``platform`` preset, its size, loudness, longest length, safe area and caption style."""

    name: str = Field(
        default=MAIN,
        pattern=r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$",
        description="Name of the deliverable, used by a shot's `aspect:` and in file names.",
    )
    platform: str | None = Field(
        default=None,
        description="Platform preset filling the fields this entry leaves out: "
        + ", ".join(sorted(PRESETS))
        + " (rdpipe.model.platform_presets gives their figures and sources).",
    )
    ratio: DeliverableRatio | None = Field(
        default=None,
        description="Aspect of the deliverable; omit to keep the clips' own (or the size's).",
    )
    aspect: AspectMethod = Field(
        default="reframe",
        description="How shots get this deliverable's ratio when their clips have another: "
        "reframe (crop around each shot's focus, free), pad (bars, free) or regenerate "
        "(generate the shot again at this ratio, billed). A shot's `aspect:` may differ.",
    )
    max_seconds: float | None = Field(
        default=None, gt=0.0, description="Longest the platform takes; a longer cut is an error."
    )
    safe_area: SafeArea | None = Field(
        default=None, description="Margins the platform's interface covers (shares of the frame)."
    )

    @model_validator(mode="before")
    @classmethod
    def _preset_and_path(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        filled = dict(data)
        platform = filled.get("platform")
        preset = PRESETS.get(platform) if isinstance(platform, str) else None
        if preset is not None:
            for name, value in preset.fields.items():
                filled.setdefault(name, value)
        name = filled.get("name", MAIN)
        if "path" not in filled and isinstance(name, str) and name != MAIN:
            filled["path"] = f"out/{name}.mp4"
        return filled

    @field_validator("platform")
    @classmethod
    def _known_platform(cls, platform: str | None) -> str | None:
        if platform is not None and platform not in PRESETS:
            known = ", ".join(sorted(PRESETS))
            raise ValueError(f"unknown platform {platform!r}; known: {known}")
        return platform

    @model_validator(mode="after")
    def _size_matches_ratio(self) -> Self:
        size = self.frame_size
        if size is not None and self.ratio is not None:
            shape = size[0] / size[1]
            wanted = ratio_value(self.ratio)
            if abs(shape / wanted - 1) > RATIO_TOLERANCE:
                raise ValueError(
                    f"size {self.size} is not {self.ratio}; give a size of that shape or leave "
                    "one of them out"
                )
        return self

    @property
    def target_ratio(self) -> DeliverableRatio | None:
        """The ratio shots are reframed, padded or regenerated to: ``ratio``, else the one
        ``size`` has (within :data:`RATIO_TOLERANCE`), else ``None`` (the clips' own)."""
        if self.ratio is not None:
            return self.ratio
        size = self.frame_size
        if size is None:
            return None
        shape = size[0] / size[1]
        for ratio in DELIVERABLE_RATIOS:
            if abs(shape / ratio_value(ratio) - 1) <= RATIO_TOLERANCE:
                return ratio
        return None

"""How a clip fills a deliverable's frame (issue 17 §2): its frame size, and the picture steps
that reframe (cover the frame, crop around the shot's focus) or pad (fit whole, bars) a clip.

Pure: sizes in pixels, focus points as shares of the picture, ffmpeg filter text out.
"""

from __future__ import annotations

from rdpipe.model.deliverables import (
    CENTRE,
    RATIO_TOLERANCE,
    DeliverableSpec,
    Fit,
    ratio_value,
)
from rdpipe.model.output import OutputSpec

__all__ = ["CENTRE", "Fit", "fit_steps", "frame_size", "largest_inside"]


def frame_size(spec: OutputSpec, first: tuple[int, int]) -> tuple[int, int] | None:
    """The deliverable's frame, given the first clip's shown size ``first``: its ``size``; else,
    for a ``ratio`` the clip does not have (beyond
    :data:`~rdpipe.model.deliverables.RATIO_TOLERANCE`), the largest frame of that ratio that
    fits inside the clip, even sides; else ``None`` (the clips' own size).
    """
    if spec.frame_size is not None:
        return spec.frame_size
    ratio = spec.target_ratio if isinstance(spec, DeliverableSpec) else None
    if ratio is None or _has_ratio(first, ratio_value(ratio)):
        return None
    return largest_inside(ratio_value(ratio), first)


def largest_inside(ratio: float, size: tuple[int, int]) -> tuple[int, int]:
    """The largest frame of ``ratio`` (width over height) inside ``size``, both sides even and
    at least 2: 1280x720 at 9:16 is 404x720."""
    width, height = size
    if width / height > ratio:
        width = round(height * ratio)
    else:
        height = round(width / ratio)
    return max(2, width - width % 2), max(2, height - height % 2)


def fit_steps(
    fit: Fit, focus: tuple[float, float], size: tuple[int, int], scale_options: str
) -> list[str]:
    """ffmpeg steps turning a square-pixel picture into exactly ``size``.

    ``reframe`` scales it to cover the frame and crops the frame out of it, centred on
    ``focus`` (shares of the picture's width and height) as far as the picture's edges allow;
    ``pad`` and ``as_is`` scale it to fit inside and pad with black bars, centred.
    ``scale_options`` are the colour options of the scale filter.
    """
    width, height = size
    if fit == "reframe":
        x, y = focus
        return [
            f"scale={width}:{height}:force_original_aspect_ratio=increase:{scale_options}",
            f"crop={width}:{height}:'max(0,min(iw-ow,iw*{x:g}-ow/2))'"
            f":'max(0,min(ih-oh,ih*{y:g}-oh/2))'",
        ]
    return [
        f"scale={width}:{height}:force_original_aspect_ratio=decrease:force_divisible_by=2:"
        f"{scale_options}",
        f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black",
    ]


def _has_ratio(size: tuple[int, int], ratio: float) -> bool:
    return abs(size[0] / size[1] / ratio - 1) <= RATIO_TOLERANCE

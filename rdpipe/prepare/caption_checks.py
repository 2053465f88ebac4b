"""The caption-length rule of ``validate``: a burned caption that cannot be drawn whole.

A deliverable that burns captions in draws each inside its safe area, at most a third of the
frame high, smaller when need be (:func:`rdpipe.text.captions.fit_caption`). A caption too
long even at the smallest legible size loses its last lines, so ``validate`` warns, at the
shot's ``caption:``, naming the deliverable.

The frame is the deliverable's ``size``; without one, a frame of its ratio (else the first
shot's) 1080 pixels high, since the fit hardly depends on the scale. No ratio known: no check.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rdpipe.load.loader import LoadedPipeline
from rdpipe.load.yaml_source import DataPath
from rdpipe.model.deliverables import DeliverableSpec, ratio_value
from rdpipe.render import RenderedShot
from rdpipe.templates import Problem

if TYPE_CHECKING:
    from rdpipe.text import SystemFonts

#: Height of the frame a deliverable without ``size:`` is checked at, in pixels.
_NOMINAL_HEIGHT = 1080


def check_caption_fit(
    loaded: LoadedPipeline, shots: Sequence[RenderedShot], *, system: SystemFonts | None = None
) -> list[Problem]:
    """A warning for each shot's burned caption that some deliverable cannot draw whole.

    ``system`` is the installed fonts to count on; by default what fontconfig finds, asked
    only when some caption needs more than plain ASCII. A font that cannot be loaded is the
    text rule's error, not checked here.
    """
    captions = _captions(shots)
    if not captions:
        return []
    from rdpipe.text import FontUnavailable, NoSystemFonts, load_font_chain, system_fonts
    from rdpipe.text.captions import fit_caption

    if system is None:
        ascii_only = all(caption.isascii() for _, caption in captions)
        system = NoSystemFonts() if ascii_only else system_fonts()
    warnings: list[Problem] = []
    for number, deliverable in enumerate(loaded.pipeline.deliverables):
        size = _frame(deliverable, shots)
        if not deliverable.captions.burn_in or size is None:
            continue
        font_at: DataPath = (
            ("outputs", number, "font") if loaded.pipeline.outputs else ("output", "font")
        )
        try:
            fonts = load_font_chain(deliverable.font, loaded.base_dir(font_at), system=system)
        except FontUnavailable:
            continue
        for index, caption in captions:
            fitted = fit_caption(caption, fonts, size, deliverable.safe_area)
            if not fitted.fits:
                path: DataPath = ("shots", index, "caption")
                warnings.append(Problem(path, _message(deliverable, size, len(fitted.block.lines))))
    return warnings


def _message(deliverable: DeliverableSpec, size: tuple[int, int], lines: int) -> str:
    inside = ", inside its safe area" if deliverable.safe_area is not None else ""
    return (
        f"too long to burn into deliverable {deliverable.name!r} ({size[0]}x{size[1]}): even "
        f"at the smallest legible size only {lines} lines fit in a caption's place (at most a "
        f"third of the frame's height{inside}), and the rest would be cut off; shorten the "
        "caption or split it between shots"
    )


def _captions(shots: Sequence[RenderedShot]) -> list[tuple[int, str]]:
    """Each shot's caption once (takes and renditions share it), by the shot's index."""
    first: dict[int, str] = {}
    for shot in shots:
        if shot.caption and shot.caption.strip():
            first.setdefault(shot.index, shot.caption.strip())
    return sorted(first.items())


def _frame(deliverable: DeliverableSpec, shots: Sequence[RenderedShot]) -> tuple[int, int] | None:
    if deliverable.frame_size is not None:
        return deliverable.frame_size
    ratio: str | None = deliverable.target_ratio
    if ratio is None:
        ratio = next((s.request.metadata.ratio for s in shots if s.request.metadata.ratio), None)
    try:
        shape = ratio_value(ratio) if ratio is not None else None
    except ValueError:  # "adaptive": the service picks the shape
        return None
    if shape is None:
        return None
    return round(_NOMINAL_HEIGHT * shape), _NOMINAL_HEIGHT

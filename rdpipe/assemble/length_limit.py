"""A deliverable's longest length (``max_seconds``), checked on the video as written."""

from __future__ import annotations

from pathlib import Path

import anyio.to_thread

from rdpipe.assemble.errors import AssemblyInvalid
from rdpipe.assemble.probe import probe_clip
from rdpipe.model.deliverables import DeliverableSpec
from rdpipe.model.output import OutputSpec


class TooLong(AssemblyInvalid):
    """The video made for a deliverable lasts longer than its ``max_seconds``; the file is
    removed, so that no platform gets a cut it would refuse or cut short."""

    def __init__(self, spec: DeliverableSpec, video: Path, seconds: float) -> None:
        self.video = video
        self.seconds = seconds
        limit = spec.max_seconds or 0.0
        source = f" ({spec.platform})" if spec.platform else ""
        super().__init__(
            f"deliverable {spec.name!r}: the video lasts {seconds:.2f} s, longer than its "
            f"max_seconds of {limit:g} s{source}; {video.name} was not kept. Leave shots out, "
            "trim them, or raise max_seconds"
        )


async def check_length(spec: OutputSpec, video: Path) -> None:
    """Raise :class:`TooLong` (removing ``video``) when ``spec`` is a deliverable with a
    ``max_seconds`` that the picture of ``video``, measured by decoding its header, exceeds."""
    if not isinstance(spec, DeliverableSpec) or spec.max_seconds is None:
        return
    info = await probe_clip(video, shot_id=spec.name)
    if info.video_duration > spec.max_seconds:
        await anyio.to_thread.run_sync(lambda: video.unlink(missing_ok=True))
        raise TooLong(spec, video, info.video_duration)

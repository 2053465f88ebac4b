"""The ``output:`` block of a pipeline: where the storyboard video goes and how it is assembled.

Owned by the assembly stage; the pipeline model embeds :class:`OutputSpec`. No I/O here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class OutputSpec(BaseModel):
    """How the clips become one storyboard video."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(
        default="out/storyboard.mp4",
        description="The storyboard video, relative to the pipeline file. Clips, the manifest "
        "and other outputs go in the same directory.",
    )

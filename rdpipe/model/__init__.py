"""The pipeline model: pydantic classes for everything a pipeline file may say. No I/O."""

from __future__ import annotations

from rdpipe.model.output import OutputSpec
from rdpipe.model.pipeline import (
    REQUEST_FIELDS,
    Concurrency,
    Frame,
    Pipeline,
    Reference,
    Settings,
    Shot,
    ShotFrame,
)

__all__ = [
    "REQUEST_FIELDS",
    "Concurrency",
    "Frame",
    "OutputSpec",
    "Pipeline",
    "Reference",
    "Settings",
    "Shot",
    "ShotFrame",
]

"""The local catalog of known RelayDance models: durations, resolutions, ratios and audio, and
the frame sizes of each resolution and ratio.

It ships with the package as data (``rdpipe/data/models.json``). It is advice, not law: the
server's ``GET /v1/models`` is the truth and new model ids appear over time, so an unknown id is
a warning, never an error. The frame sizes are those seen from the service
(relaydance-api.md §14); cost estimates (:mod:`rdpipe.costs`) count pixels with them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources

#: ``adaptive``: the service picks the ratio (from the first image); not a size of its own.
ADAPTIVE = "adaptive"
_RESOLUTION_IN_ID = re.compile(r"-(\d{3,4}p)(?:-|$)")


@dataclass(frozen=True)
class ModelInfo:
    """What rdpipe knows of one model id.

    ``audio`` is ``None`` when the ``generate_audio`` parameter decides, ``True``/``False`` when
    the model id fixes it (Seedance 1.5 pro ``-with-audio`` / ``-no-audio``).
    ``reference_media`` says whether video and audio references are accepted.
    ``default_resolution``: the resolution rendered when a request names none (a Seedance 2.0
    id has one resolution, named in the id).
    """

    id: str
    family: str
    min_seconds: int
    max_seconds: int
    resolutions: tuple[str, ...]
    ratios: tuple[str, ...]
    audio: bool | None
    reference_media: bool
    default_resolution: str | None = None


@dataclass(frozen=True)
class Catalog:
    """Known models by id, and the frame sizes (width, height in pixels) by resolution and
    ratio."""

    models: dict[str, ModelInfo]
    frame_sizes: Mapping[str, Mapping[str, tuple[int, int]]] = field(default_factory=dict)

    def get(self, model_id: str) -> ModelInfo | None:
        return self.models.get(model_id)

    def ids(self) -> list[str]:
        return sorted(self.models)

    def frame_size(self, resolution: str, ratio: str) -> tuple[int, int] | None:
        """Width and height in pixels of a clip at ``resolution`` and ``ratio``.

        ``adaptive`` (the service picks the ratio) gives the largest frame of that resolution,
        an upper bound. ``None`` for a resolution or ratio the table does not know.
        """
        sizes = self.frame_sizes.get(resolution)
        if not sizes:
            return None
        if ratio == ADAPTIVE:
            return max(sizes.values(), key=lambda size: size[0] * size[1])
        return sizes.get(ratio)

    def resolution_of(self, model_id: str) -> str | None:
        """The resolution a request to ``model_id`` that names none is rendered at: the
        model's default, else one its id names (``doubao-seedance-2-0-720p``); ``None`` when
        neither is known."""
        info = self.models.get(model_id)
        if info is not None and info.default_resolution is not None:
            return info.default_resolution
        if info is not None and len(info.resolutions) == 1:
            return info.resolutions[0]
        named = _RESOLUTION_IN_ID.search(model_id)
        return named.group(1) if named and named.group(1) in self.frame_sizes else None


def load_catalog() -> Catalog:
    """Read the catalog shipped with the package."""
    text = resources.files("rdpipe.data").joinpath("models.json").read_text(encoding="utf-8")
    raw = json.loads(text)
    models = {
        entry["id"]: ModelInfo(
            id=entry["id"],
            family=entry["family"],
            min_seconds=int(entry["min_seconds"]),
            max_seconds=int(entry["max_seconds"]),
            resolutions=tuple(entry["resolutions"]),
            ratios=tuple(entry["ratios"]),
            audio=entry["audio"],
            reference_media=bool(entry["reference_media"]),
            default_resolution=entry.get("default_resolution"),
        )
        for entry in raw["models"]
    }
    frame_sizes = {
        resolution: {ratio: (int(size[0]), int(size[1])) for ratio, size in by_ratio.items()}
        for resolution, by_ratio in raw["frame_sizes"]["sizes"].items()
    }
    return Catalog(models=models, frame_sizes=frame_sizes)

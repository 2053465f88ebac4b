"""The local catalog of known RelayDance models: durations, resolutions, ratios and audio.

It ships with the package as data (``rdpipe/data/models.json``). It is advice, not law: the
server's ``GET /v1/models`` is the truth and new model ids appear over time, so an unknown id is
a warning, never an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class ModelInfo:
    """What rdpipe knows of one model id.

    ``audio`` is ``None`` when the ``generate_audio`` parameter decides, ``True``/``False`` when
    the model id fixes it (Seedance 1.5 pro ``-with-audio`` / ``-no-audio``).
    ``reference_media`` says whether video and audio references are accepted.
    """

    id: str
    family: str
    min_seconds: int
    max_seconds: int
    resolutions: tuple[str, ...]
    ratios: tuple[str, ...]
    audio: bool | None
    reference_media: bool


@dataclass(frozen=True)
class Catalog:
    """Known models by id."""

    models: dict[str, ModelInfo]

    def get(self, model_id: str) -> ModelInfo | None:
        return self.models.get(model_id)

    def ids(self) -> list[str]:
        return sorted(self.models)


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
        )
        for entry in raw["models"]
    }
    return Catalog(models=models)

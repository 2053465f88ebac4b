"""The simulator's own table of models and frame sizes; it plays the server, so it keeps its own.

Frame sizes (width x height, all even, 24 fps):

======  ==========  ==========  ==========  ==========  ==========  ==========
res     16:9        9:16        1:1         4:3         3:4         21:9
======  ==========  ==========  ==========  ==========  ==========  ==========
480p    864x480     480x864     640x640     640x480     480x640     1120x480
720p    1280x720    720x1280    960x960     960x720     720x960     1680x720
1080p   1920x1080   1080x1920   1440x1440   1440x1080   1080x1440   2520x1080
======  ==========  ==========  ==========  ==========  ==========  ==========

``adaptive`` takes the ratio nearest the first reference image, else 16:9.
"""

from __future__ import annotations

from dataclasses import dataclass

FPS = 24
RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9")
RESOLUTIONS = ("480p", "720p", "1080p")

_LANDSCAPE_SIZES = {
    "480p": {"16:9": (864, 480), "1:1": (640, 640), "4:3": (640, 480), "21:9": (1120, 480)},
    "720p": {"16:9": (1280, 720), "1:1": (960, 960), "4:3": (960, 720), "21:9": (1680, 720)},
    "1080p": {"16:9": (1920, 1080), "1:1": (1440, 1440), "4:3": (1440, 1080), "21:9": (2520, 1080)},
}
_PORTRAIT_OF = {"9:16": "16:9", "3:4": "4:3"}


@dataclass(frozen=True)
class ModelSpec:
    """One model the simulator serves.

    ``audio`` is ``"never"``, ``"always"`` (audio is in the model id) or ``"optional"``
    (``metadata.generate_audio`` decides). ``resolutions[0]`` is the default.
    """

    id: str
    upstream: str
    family: str
    min_seconds: int
    max_seconds: int
    resolutions: tuple[str, ...]
    audio: str
    created: int = 1626777600


def _seedance_2(resolution: str) -> ModelSpec:
    return ModelSpec(
        id=f"doubao-seedance-2-0-{resolution}",
        upstream="doubao-seedance-2-0-260128",
        family="seedance-2.0",
        min_seconds=4,
        max_seconds=15,
        resolutions=(resolution,),
        audio="optional",
    )


def _seedance_1_5(audio: bool) -> ModelSpec:
    return ModelSpec(
        id=f"seedance-1-5-pro-{'with' if audio else 'no'}-audio",
        upstream="doubao-seedance-1-5-pro-251215",
        family="seedance-1.5-pro",
        min_seconds=4,
        max_seconds=12,
        resolutions=("720p", "480p", "1080p"),
        audio="always" if audio else "never",
    )


MODELS: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in (
        _seedance_2("480p"),
        _seedance_2("720p"),
        _seedance_2("1080p"),
        _seedance_1_5(True),
        _seedance_1_5(False),
        ModelSpec(
            id="doubao-seedance-1-0-pro",
            upstream="doubao-seedance-1-0-pro-250528",
            family="seedance-1.0",
            min_seconds=2,
            max_seconds=12,
            resolutions=("1080p", "480p", "720p"),
            audio="never",
        ),
        ModelSpec(
            id="doubao-seedance-1-0-lite-i2v",
            upstream="doubao-seedance-1-0-lite-i2v-250428",
            family="seedance-1.0",
            min_seconds=2,
            max_seconds=12,
            resolutions=("720p", "480p", "1080p"),
            audio="never",
        ),
    )
}


def frame_size(resolution: str, ratio: str) -> tuple[int, int]:
    """Width and height in pixels of a clip, from the table in this module's docstring."""
    sizes = _LANDSCAPE_SIZES[resolution]
    if ratio in _PORTRAIT_OF:
        width, height = sizes[_PORTRAIT_OF[ratio]]
        return height, width
    return sizes[ratio]


def largest_frame(resolution: str) -> tuple[int, int]:
    """The largest frame (by pixels) of ``resolution``: what a clip of ``adaptive`` ratio may
    be, before the ratio is known."""
    sizes = _LANDSCAPE_SIZES[resolution].values()
    return max(sizes, key=lambda size: size[0] * size[1])


def nearest_ratio(width: int, height: int) -> str:
    """The ratio from :data:`RATIOS` closest to an image's aspect, for ``adaptive``."""

    def distance(ratio: str) -> float:
        across, down = (int(part) for part in ratio.split(":"))
        return abs(across / down - width / height)

    return min(RATIOS, key=distance)

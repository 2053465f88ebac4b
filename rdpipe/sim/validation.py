"""Turn a submit body into a :class:`Submission`, refusing it the way the real service would.

The relay checks the model and the request's shape (``prompt``, ``seconds`` as a string) and
what the references it hosts stand for (``asset://`` URIs, its own hosted files); the upstream
checks durations, ratios, resolutions and reference media. Each refusal is a
:class:`~rdpipe.sim.responses.Rejection` in the format its layer uses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rdpipe.sim.catalog import MODELS, RATIOS, ModelSpec, frame_size, nearest_ratio
from rdpipe.sim.references import (
    ASSET_SCHEME,
    NO_MEDIA,
    MediaLookup,
    ReferenceImage,
    decode_image,
    read_hosted_image,
)
from rdpipe.sim.responses import Rejection, invalid_request, openai_error, upstream_rejection

DEFAULT_SECONDS = 5
_MEDIA_LIMITS = {"image_url": 9, "video_url": 3, "audio_url": 3}
_REFERENCE_ROLES = {
    "image_url": ("reference_image", "first_frame", "last_frame"),
    "video_url": ("reference_video",),
    "audio_url": ("reference_audio",),
}
_FRAME_ROLES = ("first_frame", "last_frame")
_ACTIVE = "Active"


@dataclass(frozen=True)
class Submission:
    """A valid submit, with every default filled in.

    ``ratio`` is the one rendered (``adaptive`` resolved); ``adaptive`` says the request asked
    for ``adaptive``. ``audio_off``: the request sent ``generate_audio: false`` itself.
    ``seconds_given``: the request named its ``seconds`` (else ``seconds`` is the default).
    ``media_counts``: how many ``content`` entries of each type (``video_url``...).
    """

    model: ModelSpec
    prompt: str
    seconds: int
    ratio: str
    resolution: str
    audio: bool
    width: int
    height: int
    image: ReferenceImage | None
    callback_url: str | None
    seed: int
    media_counts: tuple[tuple[str, int], ...]
    adaptive: bool = False
    audio_off: bool = False
    seconds_given: bool = True

    def count(self, kind: str) -> int:
        """How many ``content`` entries of type ``kind`` (``"video_url"``...) the request has."""
        return dict(self.media_counts).get(kind, 0)


def parse_submission(body: Any, media: MediaLookup = NO_MEDIA) -> Submission:
    """Validate a decoded JSON submit body; raise ``Rejection`` for the first problem found.

    ``media`` answers for ``asset://`` URIs and the simulator's own hosted files (the default
    knows none: every asset is unknown); a hosted image is read from disk (blocking: call this
    from a worker thread).
    """
    if not isinstance(body, dict):
        raise invalid_request("request body must be a JSON object")
    model = _model(body.get("model"))
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise invalid_request("prompt is required")
    seconds = _seconds(body.get("seconds"), model)
    metadata = body.get("metadata", {})
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise invalid_request("metadata must be a JSON object")
    submission = _with_metadata(model, prompt, seconds, metadata, media)
    return replace(submission, seconds_given=body.get("seconds") is not None)


def _model(value: Any) -> ModelSpec:
    if not isinstance(value, str) or not value:
        raise invalid_request("model is required")
    spec = MODELS.get(value)
    if spec is None:
        raise no_channel(value)
    return spec


def no_channel(model: str) -> Rejection:
    """new-api's answer to a model no channel serves: ``503 model_not_found``."""
    return openai_error(
        503,
        f"No available channel for model {model} under group default (distributor)",
        code="model_not_found",
    )


def _seconds(value: Any, model: ModelSpec) -> int:
    if value is None:
        return max(DEFAULT_SECONDS, model.min_seconds)
    if not isinstance(value, str):
        kind = "number" if isinstance(value, int | float) else type(value).__name__
        raise invalid_request(
            f"json: cannot unmarshal {kind} into Go struct field "
            "TaskSubmitReq.seconds of type string"
        )
    try:
        seconds = int(value.strip())
    except ValueError:
        raise invalid_request(f"seconds must be an integer string, got {value!r}") from None
    if not model.min_seconds <= seconds <= model.max_seconds:
        raise upstream_rejection(
            f"The parameter `duration` specified in the request is not valid for model "
            f"{model.upstream}: {seconds} (allowed {model.min_seconds}-{model.max_seconds}).",
            param="duration",
        )
    return seconds


def _with_metadata(
    model: ModelSpec, prompt: str, seconds: int, metadata: dict[str, Any], media: MediaLookup
) -> Submission:
    resolution = _resolution(metadata.get("resolution"), model)
    audio = _audio(metadata.get("generate_audio"), model)
    content = _content(metadata.get("content"))
    for entry in content:
        _check_hosting(entry[entry["type"]]["url"], media)
    image = _first_image(content, media)
    ratio = _ratio(metadata.get("ratio"), image)
    width, height = frame_size(resolution, ratio)
    callback_url = metadata.get("callback_url")
    if callback_url is not None and not isinstance(callback_url, str):
        raise upstream_rejection("callback_url must be a string", param="callback_url")
    seed = metadata.get("seed", -1)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise upstream_rejection("seed must be an integer", param="seed")
    counts = tuple(sorted(_count_types(content).items()))
    return Submission(
        model, prompt, seconds, ratio, resolution, audio, width, height, image,
        callback_url or None, seed, counts, adaptive=metadata.get("ratio") == "adaptive",
        audio_off=metadata.get("generate_audio") is False,
    )  # fmt: skip


def _resolution(value: Any, model: ModelSpec) -> str:
    if value is None:
        return model.resolutions[0]
    if value not in model.resolutions:
        allowed = ", ".join(model.resolutions)
        raise upstream_rejection(
            f"The parameter `resolution` specified in the request is not valid for model "
            f"{model.upstream}: {value!r} (allowed: {allowed}).",
            param="resolution",
        )
    return str(value)


def _audio(value: Any, model: ModelSpec) -> bool:
    if model.audio != "optional":
        return model.audio == "always"
    if value is None:
        return False
    if not isinstance(value, bool):
        raise upstream_rejection("generate_audio must be a boolean", param="generate_audio")
    return value


def _ratio(value: Any, image: ReferenceImage | None) -> str:
    if value is None:
        return "16:9"
    if value == "adaptive":
        if image is None or image.size is None:
            return "16:9"
        return nearest_ratio(*image.size)
    if value not in RATIOS:
        raise upstream_rejection(
            f"The parameter `ratio` specified in the request is not valid: {value!r}.",
            param="ratio",
        )
    return str(value)


def _content(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise upstream_rejection("content must be an array", param="content")
    for entry in value:
        _check_entry(entry)
    counts = _count_types(value)
    for kind, limit in _MEDIA_LIMITS.items():
        if counts.get(kind, 0) > limit:
            raise upstream_rejection(
                f"too many {kind} items in content: {counts[kind]} (at most {limit})",
                param="content",
            )
    if counts.get("audio_url") and not (counts.get("image_url") or counts.get("video_url")):
        raise upstream_rejection(
            "audio references need at least one image or video reference", param="content"
        )
    roles = {entry.get("role") for entry in value}
    if roles & set(_FRAME_ROLES) and roles - set(_FRAME_ROLES):
        raise upstream_rejection(
            "first_frame/last_frame cannot be combined with reference media", param="content"
        )
    return value


def _check_entry(entry: Any) -> None:
    if not isinstance(entry, dict):
        raise upstream_rejection("each content item must be an object", param="content")
    kind = entry.get("type")
    if kind not in _REFERENCE_ROLES:
        raise upstream_rejection(f"unsupported content type {kind!r}", param="content.type")
    payload = entry.get(kind)
    url = payload.get("url") if isinstance(payload, dict) else None
    if not isinstance(url, str) or not url:
        raise upstream_rejection(f"{kind}.url is required", param=f"content.{kind}.url")
    role = entry.get("role", _REFERENCE_ROLES[kind][0])
    if role not in _REFERENCE_ROLES[kind]:
        raise upstream_rejection(f"role {role!r} is not valid for {kind}", param="content.role")
    if kind != "image_url" and url.startswith("data:"):
        inline = kind.removesuffix("_url")
        raise invalid_request(
            f"{kind} must be an http(s) URL: the model does not take inline {inline}"
        )
    if kind != "image_url" and not url.startswith(("http://", "https://")):
        raise upstream_rejection(f"{kind} references must be URLs", param=f"content.{kind}")


def _check_hosting(url: str, media: MediaLookup) -> None:
    """Refuse an ``asset://`` URI that is unknown or not active, and a hosted file now gone."""
    if url.startswith(ASSET_SCHEME):
        asset_id = url.removeprefix(ASSET_SCHEME)
        status = media.asset_status(asset_id)
        if status is None:
            raise invalid_request(f"unknown asset {asset_id}")
        if status != _ACTIVE:
            raise invalid_request(f"asset {asset_id} is not active (status {status})")
    elif media.is_hosted_url(url) and media.hosted_path(url) is None:
        raise invalid_request(f"reference {url} could not be downloaded (404)")


def _count_types(content: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in content:
        counts[entry["type"]] = counts.get(entry["type"], 0) + 1
    return counts


def _first_image(content: list[dict[str, Any]], media: MediaLookup) -> ReferenceImage | None:
    """Check every image entry; return the first one a preview should show."""
    first = None
    for entry in content:
        if entry["type"] != "image_url":
            continue
        url = entry["image_url"]["url"]
        path = media.hosted_path(url)
        image = read_hosted_image(url, path) if path is not None else decode_image(url)
        if image.problem is not None:
            raise upstream_rejection(image.problem, param="content.image_url")
        if first is None and entry.get("role") != "last_frame":
            first = image
    return first

"""Why a task failed, in the film-maker's terms: retry it, or say which input was refused.

A failed task carries an upstream code (API contract, section 13). An **input** refusal
(``Input...``) fails again on the identical request, so it is not resubmitted: the message says
which input (the prompt, which reference by its name in the file) and what to change. An
**output** refusal or any other failure is random enough to be worth the free retry.
Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from rdpipe.render import RenderedShot

_ROLE_NAMES = {"first_frame", "last_frame"}


class FailureKind(StrEnum):
    """What a failure code says about the request."""

    INPUT_REFUSED = "input refused"  # the same request is refused again: not resubmitted
    OUTPUT_REFUSED = "output refused"  # moderation of what was generated: a retry may pass
    OTHER = "other"  # upstream trouble or an unknown code: retried as before


@dataclass(frozen=True)
class UpstreamFailure:
    """A classified failure code: its kind, the medium concerned and the code's sub-reason."""

    kind: FailureKind
    medium: str | None = None  # "text", "image", "video" or "audio"
    detail: str | None = None  # after the dot: "PrivacyInformation"

    @property
    def retried(self) -> bool:
        """Whether resubmitting the same request can succeed."""
        return self.kind is not FailureKind.INPUT_REFUSED


_INPUT = FailureKind.INPUT_REFUSED
_OUTPUT = FailureKind.OUTPUT_REFUSED

#: Failure codes seen on failed tasks. Seen through RelayDance (API contract, section 13):
#: InputTextSensitiveContentDetected, InputImageSensitiveContentDetected.PrivacyInformation,
#: OutputVideoSensitiveContentDetected, OutputAudioSensitiveContentDetected. The others are the
#: rest of the upstream (Volcengine Ark) family ``<Input|Output><Medium>SensitiveContentDetected``;
#: codes not listed are classified by the same pattern in :func:`classify_failure`.
FAILURE_CODES: dict[str, UpstreamFailure] = {
    "InputTextSensitiveContentDetected": UpstreamFailure(_INPUT, "text"),
    "InputImageSensitiveContentDetected": UpstreamFailure(_INPUT, "image"),
    "InputImageSensitiveContentDetected.PrivacyInformation": UpstreamFailure(
        _INPUT, "image", "PrivacyInformation"
    ),
    "InputVideoSensitiveContentDetected": UpstreamFailure(_INPUT, "video"),
    "InputAudioSensitiveContentDetected": UpstreamFailure(_INPUT, "audio"),
    "OutputVideoSensitiveContentDetected": UpstreamFailure(_OUTPUT, "video"),
    "OutputAudioSensitiveContentDetected": UpstreamFailure(_OUTPUT, "audio"),
}
_MEDIA = ("Text", "Image", "Video", "Audio")


def classify_failure(code: str | None) -> UpstreamFailure:
    """Classify an upstream failure code; an ``Input...`` code is an input refusal."""
    if code is None:
        return UpstreamFailure(FailureKind.OTHER)
    known = FAILURE_CODES.get(code)
    if known is not None:
        return known
    base, _, detail = code.partition(".")
    for prefix, kind in (("Input", _INPUT), ("Output", _OUTPUT)):
        if base.startswith(prefix):
            rest = base.removeprefix(prefix)
            medium = next((m.lower() for m in _MEDIA if rest.startswith(m)), None)
            return UpstreamFailure(kind, medium, detail or None)
    return UpstreamFailure(FailureKind.OTHER)


def failure_text(
    shot: RenderedShot, failure: UpstreamFailure, code: str | None, reason: str | None
) -> str:
    """The message for a failed task of ``shot``: the server's reason, and what to do next."""
    said = reason or "no reason given"
    if failure.kind is FailureKind.INPUT_REFUSED:
        return _refusal_text(shot, failure, f"{code}: {said}")
    text = f"generation failed: {said}" + (f" ({code})" if code else "")
    if failure == FAILURE_CODES["OutputAudioSensitiveContentDetected"] and _has_audio(shot):
        text += (
            "; RelayDance's audio check often misfires: generate_audio: false on this shot "
            "is a known workaround"
        )
    return text


def _refusal_text(shot: RenderedShot, failure: UpstreamFailure, said: str) -> str:
    what, why, advice = _refused_input(shot, failure)
    return (
        f"RelayDance refused {what} ({said}){why}; it was not resubmitted, since the same "
        f"request would be refused again: {advice}, then rerun"
    )


def _refused_input(shot: RenderedShot, failure: UpstreamFailure) -> tuple[str, str, str]:
    """Which input was refused (as the file names it), why, and what to change."""
    medium = failure.medium
    if medium == "text":
        return "the prompt", "", "rephrase the prompt"
    if medium is None:
        return "the shot's input", "", "change the prompt or the references"
    names = _inputs_of(shot, medium)
    if not names:
        what = f"an input {medium}"
    elif len(names) == 1:
        what = f"the {medium} {names[0]}"
    else:
        what = f"one of the {medium}s {_either(names)} (it does not say which)"
    if failure.detail == "PrivacyInformation":
        advice = (
            "replace the image, or, if it is a synthetic (generated) portrait, mark its "
            "reference `asset: true` to send it through RelayDance's asset library"
        )
        return what, ", which may show a real person", advice
    return what, "", f"replace the {medium}"


def _inputs_of(shot: RenderedShot, medium: str) -> list[str]:
    """The shot's inputs of ``medium``: references by their names, frames by their fields."""
    content = shot.request.metadata.content
    names = [
        repr(name)
        for name, entry in zip(shot.references, content, strict=False)
        if entry.kind == medium
    ]
    for entry in content[len(shot.references) :]:
        if medium == "image" and entry.role in _ROLE_NAMES:
            names.append(_frame_name(shot, entry.role))
    return names


def _frame_name(shot: RenderedShot, role: str) -> str:
    if role == "first_frame" and shot.first_frame_from is not None:
        return f"in first_frame (the last frame of shot {shot.first_frame_from!r})"
    return f"in {role}"


def _either(names: Sequence[str]) -> str:
    return ", ".join(names[:-1]) + f" or {names[-1]}"


def _has_audio(shot: RenderedShot) -> bool:
    return shot.request.metadata.generate_audio is not False

"""Why a task failed, in the film-maker's terms, and what the shot's ``on_failure:`` does next.

A failed task carries an upstream code and status (API contract, section 13), which fall in a
:class:`FailureClass`. An **input** refusal (``Input...``) fails again on the identical request,
so it is never resubmitted: the message says which input (the prompt, which reference by its
name in the file) and what to change. A refusal of the generated **sound** is often a misfire,
and resubmitting without sound is free (failures are refunded); a refusal of the **picture**, an
upstream failure or an expired task is random enough to be worth the free retry. The shot's
policies (:class:`FailurePolicy`, resolved at render from the file) decide:
:func:`next_step`. Pure functions, no I/O.
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


class FailureClass(StrEnum):
    """The class of a failed generation, as ``on_failure:`` names it."""

    INPUT_REFUSED = "input_refused"  # the prompt or a reference: refused again if resent
    OUTPUT_AUDIO = "output_audio"  # moderation of the generated sound (often a misfire)
    OUTPUT_VIDEO = "output_video"  # moderation of the generated picture
    TRANSIENT = "transient"  # the upstream failed for its own reasons, or said nothing
    EXPIRED = "expired"  # the task expired before it finished

    @property
    def said(self) -> str:
        """``output audio refused``: the class in words."""
        return _CLASS_SAID[self]


_CLASS_SAID = {
    FailureClass.INPUT_REFUSED: "input refused",
    FailureClass.OUTPUT_AUDIO: "output audio refused",
    FailureClass.OUTPUT_VIDEO: "output video refused",
    FailureClass.TRANSIENT: "generation failed",
    FailureClass.EXPIRED: "task expired",
}


class FailurePolicy(StrEnum):
    """What a shot's ``on_failure:`` does about one class of failure."""

    RETRY = "retry"  # resubmit, up to the shot's ``retries``
    RETRY_WITHOUT_AUDIO = "retry_without_audio"  # resubmit once with generate_audio: false
    FAIL = "fail"  # the shot fails; the others go on
    SKIP = "skip"  # the shot is left out of the video, which is built from the others
    STOP = "stop"  # no new submits in the run; tasks already running are followed


def classify(code: str | None, upstream_status: str | None = None) -> FailureClass:
    """The class of a failed task from its upstream ``code`` and ``upstream_status``.

    An upstream status ``expired`` (or a code naming an expiry, such as ``TaskExpired``) is
    expired; ``Input...`` codes are input refusals; ``Output...Audio...`` the sound's
    moderation, any other ``Output...`` the picture's; anything else (no code, an internal
    error) is transient.
    """
    if (upstream_status or "").lower() == "expired" or "expire" in (code or "").lower():
        return FailureClass.EXPIRED
    failure = classify_failure(code)
    if failure.kind is FailureKind.INPUT_REFUSED:
        return FailureClass.INPUT_REFUSED
    if failure.kind is FailureKind.OUTPUT_REFUSED:
        audio = failure.medium == "audio"
        return FailureClass.OUTPUT_AUDIO if audio else FailureClass.OUTPUT_VIDEO
    return FailureClass.TRANSIENT


def policy_for(shot: RenderedShot, failure: FailureClass) -> FailurePolicy:
    """The shot's policy for ``failure``, as its file (or rdpipe's default) sets it."""
    return {FailureClass(name): FailurePolicy(policy) for name, policy in shot.on_failure}[failure]


class Step(StrEnum):
    """What comes after a failed task of a shot."""

    RESUBMIT = "resubmit"  # the same request again (not billed: the failure was refunded)
    RESUBMIT_WITHOUT_AUDIO = "resubmit without audio"  # generate_audio: false this time
    FAIL = "fail"
    SKIP = "skip"
    STOP = "stop"


def next_step(shot: RenderedShot, failure: FailureClass, *, retries_left: int, audio: bool) -> Step:
    """What to do after a failed task of ``shot``: its policy for the class, applied.

    ``retries_left``: resubmits the shot's ``retries`` still allow; ``audio``: whether the
    failed request asked for sound. An input refusal is never resubmitted, whatever the policy.
    ``retry_without_audio`` resubmits once without sound (besides ``retries``); for a request
    already without sound it is ``retry``. ``retry`` with no retries left fails the shot.
    """
    policy = policy_for(shot, failure)
    resubmits = policy in (FailurePolicy.RETRY, FailurePolicy.RETRY_WITHOUT_AUDIO)
    if failure is FailureClass.INPUT_REFUSED and resubmits:
        return Step.FAIL
    if policy is FailurePolicy.RETRY_WITHOUT_AUDIO and audio:
        return Step.RESUBMIT_WITHOUT_AUDIO
    if resubmits:
        return Step.RESUBMIT if retries_left > 0 else Step.FAIL
    return Step(policy.value)


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

"""``on_failure:``: what a run does when a shot's generation fails, per class of failure.

Written in ``defaults`` or on a shot, as one policy name for every class (``on_failure: skip``)
or a mapping by class (``on_failure: {output_audio: skip}``); a shot's entries win over the
defaults' class by class, and rdpipe's own defaults fill the rest (see
:mod:`rdpipe.failure_codes`). No I/O; the names here are the ones the file uses.
"""

from __future__ import annotations

import difflib
import typing
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: The classes of a failed generation, as the file names them.
FailureClassName = Literal["input_refused", "output_audio", "output_video", "transient", "expired"]
#: What to do about one: resubmit (bounded by the shot's ``retries``), resubmit once without
#: sound, fail the shot, leave it out of the video, or stop submitting for the rest of the run.
PolicyName = Literal["retry", "retry_without_audio", "fail", "skip", "stop"]

FAILURE_CLASS_NAMES: tuple[FailureClassName, ...] = typing.get_args(FailureClassName)
POLICY_NAMES: tuple[PolicyName, ...] = typing.get_args(PolicyName)

#: Policies that resubmit the same input: an input refusal would be refused again.
RESUBMITTING: frozenset[PolicyName] = frozenset({"retry", "retry_without_audio"})

#: What rdpipe does about each class when the file says nothing: an input refusal would be
#: refused again; the audio filter misfires on generated sound, and a resubmit without sound is
#: free (failures are refunded); the other failures are random enough to be worth a retry.
DEFAULT_POLICIES: dict[FailureClassName, PolicyName] = {
    "input_refused": "fail",
    "output_audio": "retry_without_audio",
    "output_video": "retry",
    "transient": "retry",
    "expired": "retry",
}

_FROZEN = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class OnFailure(BaseModel):
    """A policy per class of failure; a class left out keeps the default (or ``defaults``')."""

    model_config = _FROZEN

    input_refused: PolicyName | None = Field(
        default=None,
        description="The prompt or a reference was refused (never resubmitted): fail, skip or "
        "stop. Default: fail.",
    )
    output_audio: PolicyName | None = Field(
        default=None,
        description="The generated sound was refused by moderation. Default: "
        "retry_without_audio (resubmitted once with generate_audio: false).",
    )
    output_video: PolicyName | None = Field(
        default=None, description="The generated picture was refused by moderation. Default: retry."
    )
    transient: PolicyName | None = Field(
        default=None, description="The upstream failed for its own reasons. Default: retry."
    )
    expired: PolicyName | None = Field(
        default=None, description="The task expired before it finished. Default: retry."
    )

    @field_validator("output_audio", "output_video", "transient", "expired", mode="before")
    @classmethod
    def _known(cls, value: object) -> object:
        return _policy(value)

    @field_validator("input_refused", mode="before")
    @classmethod
    def _not_resubmitted(cls, value: object) -> object:
        policy = _policy(value)
        if policy in RESUBMITTING:
            raise ValueError(
                f"{policy!r} is not allowed for input_refused: a refused prompt or reference "
                "is refused again, so it is never resubmitted; use fail, skip or stop"
            )
        return policy

    @field_validator("output_video", "transient", "expired")
    @classmethod
    def _audio_only(cls, value: PolicyName | None) -> PolicyName | None:
        if value == "retry_without_audio":
            raise ValueError(
                "retry_without_audio is for output_audio only (the sound was refused); "
                "use retry here"
            )
        return value

    def policies(self) -> dict[FailureClassName, PolicyName]:
        """The classes this mapping sets, with their policies."""
        set_here = {name: getattr(self, name) for name in FAILURE_CLASS_NAMES}
        return {name: policy for name, policy in set_here.items() if policy is not None}


def check_on_failure(value: object) -> object:
    """Check a single policy name written for every class (a mapping is left to
    :class:`OnFailure`); raises ``ValueError`` with a clear message."""
    if isinstance(value, dict) or value is None:
        return value
    if not isinstance(value, str):
        raise ValueError(
            f"expected a policy name ({_names(POLICY_NAMES)}) or a mapping by class "
            f"({_names(FAILURE_CLASS_NAMES)}), got {value!r}"
        )
    policy = _policy(value)
    if policy == "retry_without_audio":
        raise ValueError(
            "retry_without_audio concerns the output_audio class only: write "
            "on_failure: {output_audio: retry_without_audio}"
        )
    return policy


def every_class(policy: PolicyName) -> dict[FailureClassName, PolicyName]:
    """The classes one policy name written for all of them sets: ``retry`` leaves
    ``input_refused`` out (an input refusal is never resubmitted)."""
    return {
        name: policy
        for name in FAILURE_CLASS_NAMES
        if not (name == "input_refused" and policy in RESUBMITTING)
    }


#: A shot's policy for every class, in :data:`FAILURE_CLASS_NAMES` order.
Policies = tuple[tuple[FailureClassName, PolicyName], ...]


def resolve_policies(*layers: PolicyName | OnFailure | None) -> Policies:
    """Each class's policy: rdpipe's defaults, then each layer's (``defaults``, then the shot's)
    over them, class by class."""
    policies = dict(DEFAULT_POLICIES)
    for layer in layers:
        if isinstance(layer, OnFailure):
            policies.update(layer.policies())
        elif layer is not None:
            policies.update(every_class(layer))
    return tuple((name, policies[name]) for name in FAILURE_CLASS_NAMES)


#: The policies of a shot whose file says nothing.
DEFAULT_ON_FAILURE: Policies = resolve_policies()


def _policy(value: object) -> object:
    """``value`` if it is a policy name; a clear error (with a did-you-mean) if it is text that
    is not; anything else is left to the type check."""
    if value is None or not isinstance(value, str) or value in POLICY_NAMES:
        return value
    close = difflib.get_close_matches(value, POLICY_NAMES, n=1, cutoff=0.6)
    tail = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"unknown policy {value!r}{tail} (policies: {_names(POLICY_NAMES)})")


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(names)

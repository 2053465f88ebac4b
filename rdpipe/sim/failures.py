"""How a simulated task fails: the upstream code, its message, and the raw upstream status.

The relay reports a failed task three ways (relaydance-api.md §2, §3, §13): the OpenAI video
object's ``error.code``/``error.message``, the envelope's ``FAILURE`` with ``fail_reason``,
and the raw upstream object's lower-case ``status`` with its own ``error``. Most failures read
``failed`` upstream; an expired task reads ``expired``.

The failure classes rdpipe tells apart (issue 15) each have a name that :func:`failure_for`
accepts in place of an upstream code, in ``Faults.failure_code`` and ``Faults.failure_markers``:

===============  ==========================================  ===============
name             upstream code                               upstream status
===============  ==========================================  ===============
input_refused    InputTextSensitiveContentDetected           failed
output_audio     OutputAudioSensitiveContentDetected         failed
output_video     OutputVideoSensitiveContentDetected         failed
transient        InternalServiceError                        failed
expired          TaskExpired                                 expired
===============  ==========================================  ===============

An ``output_audio`` failure happens only to a request whose ``metadata.generate_audio`` is not
``false`` (the audio filter judges the generated sound; without sound it has nothing to
refuse), so the known workaround, a retry with ``generate_audio: false``, succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass

OUTPUT_VIDEO = "OutputVideoSensitiveContentDetected"
OUTPUT_AUDIO = "OutputAudioSensitiveContentDetected"
INPUT_TEXT = "InputTextSensitiveContentDetected"
INTERNAL_ERROR = "InternalServiceError"
TASK_EXPIRED = "TaskExpired"
EXPIRED_STATUS = "expired"

_MAY_CONTAIN = "The request failed because the {} may contain {}."
#: What the upstream says with each failure code the simulator can produce.
FAILURE_MESSAGES = {
    OUTPUT_VIDEO: _MAY_CONTAIN.format("output video", "sensitive information"),
    OUTPUT_AUDIO: _MAY_CONTAIN.format("output audio", "sensitive information"),
    INPUT_TEXT: _MAY_CONTAIN.format("input text", "sensitive information"),
    "InputImageSensitiveContentDetected": _MAY_CONTAIN.format(
        "input image", "sensitive information"
    ),
    "InputImageSensitiveContentDetected.PrivacyInformation": _MAY_CONTAIN.format(
        "input image", "real person"
    ),
    "InputVideoSensitiveContentDetected": _MAY_CONTAIN.format(
        "input video", "sensitive information"
    ),
    "InputAudioSensitiveContentDetected": _MAY_CONTAIN.format(
        "input audio", "sensitive information"
    ),
    INTERNAL_ERROR: "The service encountered an unexpected internal error.",
    TASK_EXPIRED: "The task expired before it finished (execution_expires_after).",
}

#: The failure classes by name (the module's table), each as an upstream code.
FAILURE_CLASSES = {
    "input_refused": INPUT_TEXT,
    "output_audio": OUTPUT_AUDIO,
    "output_video": OUTPUT_VIDEO,
    "transient": INTERNAL_ERROR,
    "expired": TASK_EXPIRED,
}


@dataclass(frozen=True)
class TaskFailure:
    """Why a task failed: the upstream ``code`` and ``message``, and the raw upstream task's
    lower-case ``upstream_status`` (``failed``, or ``expired``)."""

    code: str
    message: str
    upstream_status: str = "failed"

    @property
    def needs_audio(self) -> bool:
        """Whether this failure judges the generated sound (it spares a request without)."""
        return self.code == OUTPUT_AUDIO


def failure_for(name: str) -> TaskFailure:
    """The failure a task reports for a class ``name`` (the module's table) or an upstream code.

    An unknown code fails ``failed`` with a generic message naming it.
    """
    code = FAILURE_CLASSES.get(name, name)
    message = FAILURE_MESSAGES.get(code, f"The request failed ({code}).")
    status = EXPIRED_STATUS if code == TASK_EXPIRED else "failed"
    return TaskFailure(code, message, status)


#: What a task reports when it fails without a chosen code.
DEFAULT_FAILURE = failure_for(OUTPUT_VIDEO)

"""Failure classes and the shots' ``on_failure:`` policies: classified, decided, and carried out
by the scheduler against a scripted relay on a virtual clock, with one outcome per shot."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import anyio
import pytest

from rdpipe.client import TaskState, TaskStatus
from rdpipe.failure_codes import FailureClass, Step, classify, next_step
from rdpipe.model.on_failure import resolve_policies
from rdpipe.model.pipeline import Settings
from rdpipe.render import RenderedShot
from rdpipe.request import ContinuityFrame, GenerationRequest
from rdpipe.scheduler import Outcome, Phase, ShotResult
from tests.scheduler.journal_runs import run_once

AUDIO = "OutputAudioSensitiveContentDetected"
VIDEO = "OutputVideoSensitiveContentDetected"
PROMPT = "InputTextSensitiveContentDetected"
INTERNAL = "InternalServiceError"


@pytest.mark.parametrize(
    ("code", "upstream_status", "expected"),
    [
        (PROMPT, "failed", FailureClass.INPUT_REFUSED),
        ("InputImageSensitiveContentDetected.PrivacyInformation", None, FailureClass.INPUT_REFUSED),
        (AUDIO, "failed", FailureClass.OUTPUT_AUDIO),
        (VIDEO, "failed", FailureClass.OUTPUT_VIDEO),
        ("OutputImageSensitiveContentDetected", None, FailureClass.OUTPUT_VIDEO),
        (INTERNAL, "failed", FailureClass.TRANSIENT),
        (None, None, FailureClass.TRANSIENT),
        ("TaskExpired", None, FailureClass.EXPIRED),
        (None, "expired", FailureClass.EXPIRED),
        (INTERNAL, "Expired", FailureClass.EXPIRED),
    ],
)
def test_failures_are_classified_by_code_and_upstream_status(
    code: str | None, upstream_status: str | None, expected: FailureClass
) -> None:
    assert classify(code, upstream_status) is expected


def _shot(on_failure: Any = None, *, audio: bool | None = None, retries: int = 1) -> RenderedShot:
    settings = Settings.model_validate({"on_failure": on_failure})
    request = GenerationRequest("m", "p", "5").with_settings(generate_audio=audio)
    return RenderedShot(
        0, "a", request, retries=retries, on_failure=resolve_policies(settings.on_failure)
    )


def test_next_step_applies_the_policy() -> None:
    shot = _shot()
    assert next_step(shot, FailureClass.OUTPUT_AUDIO, retries_left=0, audio=True) is (
        Step.RESUBMIT_WITHOUT_AUDIO  # besides the retries
    )
    # already without sound: a plain retry, bounded by the retries
    assert next_step(shot, FailureClass.OUTPUT_AUDIO, retries_left=1, audio=False) is Step.RESUBMIT
    assert next_step(shot, FailureClass.OUTPUT_AUDIO, retries_left=0, audio=False) is Step.FAIL
    assert next_step(shot, FailureClass.INPUT_REFUSED, retries_left=5, audio=True) is Step.FAIL
    for failure in (FailureClass.OUTPUT_VIDEO, FailureClass.TRANSIENT, FailureClass.EXPIRED):
        assert next_step(shot, failure, retries_left=1, audio=True) is Step.RESUBMIT
        assert next_step(shot, failure, retries_left=0, audio=True) is Step.FAIL
    skipping = _shot({"output_video": "skip", "input_refused": "stop"})
    assert next_step(skipping, FailureClass.OUTPUT_VIDEO, retries_left=3, audio=True) is Step.SKIP
    assert next_step(skipping, FailureClass.INPUT_REFUSED, retries_left=3, audio=True) is Step.STOP
    assert next_step(_shot("fail"), FailureClass.TRANSIENT, retries_left=3, audio=True) is (
        Step.FAIL
    )


@dataclass
class PolicyRelay:
    """Each prompt's tasks end as scripted, in order: a failure code, or None for a clip; a
    prompt with nothing left succeeds. Tasks take 30 virtual seconds, or ``durations``'."""

    script: dict[str, list[str | None]]
    durations: dict[str, float] = field(default_factory=dict)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    _tasks: dict[str, tuple[float, str | None]] = field(default_factory=dict)

    @property
    def api_host(self) -> str | None:
        return None

    def posted(self, prompt: str) -> list[dict[str, Any]]:
        return [body for body in self.bodies if body["prompt"] == prompt]

    async def submit(self, body: bytes) -> str:
        self.bodies.append(json.loads(body))
        prompt = self.bodies[-1]["prompt"]
        planned = self.script.get(prompt, [])
        code = planned.pop(0) if planned else None
        task_id = f"task_{len(self.bodies):032d}"
        self._tasks[task_id] = (anyio.current_time() + self.durations.get(prompt, 30.0), code)
        return task_id

    async def get_task(self, task_id: str) -> TaskStatus:
        ends, code = self._tasks[task_id]
        if anyio.current_time() < ends:
            return TaskStatus(task_id, TaskState.RUNNING, progress=50)
        if code is None:
            return TaskStatus(task_id, TaskState.SUCCEEDED, video_url="https://storage/x")
        upstream = "expired" if code == "TaskExpired" else "failed"
        return TaskStatus(
            task_id,
            TaskState.FAILED,
            error_code=code,
            error_message=f"{code} said the upstream",
            upstream_status=upstream,
        )

    async def download(self, task_id: str, dest: Path, **_: Any) -> None:
        dest.write_bytes(f"clip of {task_id}".encode())


def _shots(*specs: tuple[str, Any], audio: bool | None = None) -> list[RenderedShot]:
    rendered = []
    for index, (prompt, on_failure) in enumerate(specs):
        shot = _shot(on_failure, audio=audio)
        request = GenerationRequest("m", prompt, "5").with_settings(generate_audio=audio)
        rendered.append(replace(shot, index=index, id=prompt, request=request))
    return rendered


def _by_id(results: list[ShotResult]) -> dict[str, ShotResult]:
    return {result.shot_id: result for result in results}


def test_refused_sound_is_generated_again_without_audio(tmp_path: Path) -> None:
    """The default for output_audio: one resubmit with generate_audio false, which succeeds;
    the clip is the shot's, the journal keeps the body sent, the result says what happened."""
    relay = PolicyRelay({"beam": [AUDIO]})
    results = _by_id(run_once(tmp_path, relay, _shots(("beam", None), audio=True)))
    beam = results["beam"]
    assert [body["metadata"].get("generate_audio") for body in relay.posted("beam")] == [
        True,
        False,
    ]
    assert (beam.phase, beam.outcome, beam.submits) == (Phase.DONE, Outcome.SUCCEEDED, 2)
    assert beam.message == (
        f"output audio refused ({AUDIO}); generated again without audio (refunded, not billed)"
    )
    with sqlite3.connect(tmp_path / "state.db") as db:
        sent = [json.loads(row[0]) for row in db.execute("SELECT request_json FROM intents")]
    assert [body["metadata"]["generate_audio"] for body in sent] == [True, False]


def test_a_shot_without_sound_is_retried_as_usual(tmp_path: Path) -> None:
    """retry_without_audio on a request with no sound is retry: bounded by retries."""
    relay = PolicyRelay({"quiet": [AUDIO, AUDIO, AUDIO]})
    results = _by_id(run_once(tmp_path, relay, _shots(("quiet", None), audio=False)))
    quiet = results["quiet"]
    assert len(relay.posted("quiet")) == 2  # retries: 1
    assert (quiet.phase, quiet.outcome) == (Phase.FAILED, Outcome.REFUNDED)
    assert quiet.message == (
        f"generation failed: {AUDIO} said the upstream ({AUDIO}); 2 attempts failed, each "
        "refunded (not billed)"
    )


def test_an_input_refusal_is_never_resubmitted(tmp_path: Path) -> None:
    relay = PolicyRelay({"rude": [PROMPT]})
    results = _by_id(run_once(tmp_path, relay, _shots(("rude", None))))
    rude = results["rude"]
    assert len(relay.posted("rude")) == 1
    assert (rude.phase, rude.outcome) == (Phase.FAILED, Outcome.REFUSED)
    assert rude.message is not None and rude.message.startswith("RelayDance refused the prompt")


def test_skip_leaves_the_shot_out_without_a_retry(tmp_path: Path) -> None:
    relay = PolicyRelay({"a": [VIDEO], "b": [VIDEO]})
    results = _by_id(run_once(tmp_path, relay, _shots(("a", "skip"), ("b", None))))
    assert len(relay.posted("a")) == 1 and len(relay.posted("b")) == 2
    a, b = results["a"], results["b"]
    assert (a.phase, a.outcome, a.clip) == (Phase.SKIPPED, Outcome.SKIPPED, None)
    assert a.message == (
        f"generation failed: {VIDEO} said the upstream ({VIDEO}); left out of the video "
        "(on_failure: skip)"
    )
    assert (b.phase, b.outcome) == (Phase.DONE, Outcome.SUCCEEDED)
    assert b.message == f"output video refused ({VIDEO}); generated again (refunded, not billed)"


def test_stop_sends_nothing_new_and_follows_the_tasks_running(tmp_path: Path) -> None:
    """'first' fails at 30 s (stop; seen at the poll at 40.6 s): 'flaky', failing at 45 s (seen
    at 60.6 s), is not resubmitted; 'slow' runs on to its clip at 70 s; 'later', which waits
    for slow's last frame, is not submitted."""
    relay = PolicyRelay(
        {"first": [INTERNAL], "flaky": [INTERNAL]}, durations={"flaky": 45.0, "slow": 70.0}
    )
    first, flaky, slow, later = _shots(
        ("first", "stop"), ("flaky", None), ("slow", None), ("later", None)
    )
    later = replace(later, request=later.request.with_content([ContinuityFrame("slow")]))
    results = _by_id(run_once(tmp_path, relay, [first, flaky, slow, later], tasks=4))
    assert sorted(body["prompt"] for body in relay.bodies) == ["first", "flaky", "slow"]
    stopped = "the run stopped submitting after shot 'first' failed (on_failure: stop)"
    assert (results["first"].phase, results["first"].outcome) == (Phase.FAILED, Outcome.REFUNDED)
    assert results["first"].message == (
        f"generation failed: {INTERNAL} said the upstream ({INTERNAL}); no new submits for the "
        "rest of the run (on_failure: stop)"
    )
    assert (results["flaky"].phase, results["flaky"].outcome) == (Phase.FAILED, Outcome.REFUNDED)
    assert results["flaky"].message == (
        f"generation failed: {INTERNAL} said the upstream ({INTERNAL}); not resubmitted: " + stopped
    )
    assert (results["slow"].phase, results["slow"].outcome) == (Phase.DONE, Outcome.SUCCEEDED)
    assert (results["later"].phase, results["later"].outcome) == (
        Phase.SKIPPED,
        Outcome.NOT_SUBMITTED,
    )
    assert results["later"].message == stopped


def test_an_input_refusal_may_stop_the_run(tmp_path: Path) -> None:
    """on_failure: {input_refused: stop}: refused, not resubmitted, and nothing new is sent."""
    relay = PolicyRelay({"rude": [PROMPT]}, durations={"slow": 60.0})
    rude, slow, later = _shots(("rude", {"input_refused": "stop"}), ("slow", None), ("later", None))
    later = replace(later, request=later.request.with_content([ContinuityFrame("slow")]))
    results = _by_id(run_once(tmp_path, relay, [rude, slow, later], tasks=4))
    assert sorted(body["prompt"] for body in relay.bodies) == ["rude", "slow"]
    assert results["rude"].outcome is Outcome.REFUSED
    assert results["later"].outcome is Outcome.NOT_SUBMITTED


@pytest.mark.parametrize("code", [INTERNAL, "TaskExpired"])
def test_transient_and_expired_are_retried(tmp_path: Path, code: str) -> None:
    relay = PolicyRelay({"a": [code]})
    results = _by_id(run_once(tmp_path, relay, _shots(("a", None))))
    assert len(relay.posted("a")) == 2
    assert results["a"].outcome is Outcome.SUCCEEDED

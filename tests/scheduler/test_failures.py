"""Failure codes classified and worded for the film-maker; what a non-video download brought."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest

from rdpipe.client import TaskState, TaskStatus
from rdpipe.failure_codes import (
    FAILURE_CODES,
    FailureKind,
    UpstreamFailure,
    classify_failure,
    failure_text,
)
from rdpipe.plan import Action, Job, plan_run
from rdpipe.render import RenderedShot
from rdpipe.request import ContentEntry, ContinuityFrame, GenerationRequest, Media, Role
from rdpipe.scheduler import CollectingReporter, PollSchedule, SchedulerOptions, ShotResult
from rdpipe.scheduler.arrivals import HEAD_SIZE, first_line, not_a_video
from rdpipe.scheduler.scheduler import Scheduler
from rdpipe.state import ClipStore, StateStore
from rdpipe.templates import MediaKind

NOT_RESUBMITTED = "; it was not resubmitted, since the same request would be refused again: "


def _image(role: Role) -> Media:
    return Media("image", "data:image/png;base64,AA", role)


def _media(kind: MediaKind) -> Media:
    roles: dict[MediaKind, Role] = {
        "image": "reference_image",
        "video": "reference_video",
        "audio": "reference_audio",
    }
    return Media(kind, "https://x.test/m", roles[kind])


def _shot(
    content: Sequence[ContentEntry] = (),
    references: tuple[str, ...] = (),
    generate_audio: bool | None = None,
) -> RenderedShot:
    request = GenerationRequest("m", "p", "5").with_settings(generate_audio=generate_audio)
    return RenderedShot(0, "beam", request.with_content(content), references)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("InputTextSensitiveContentDetected", UpstreamFailure(FailureKind.INPUT_REFUSED, "text")),
        (
            "InputImageSensitiveContentDetected.PrivacyInformation",
            UpstreamFailure(FailureKind.INPUT_REFUSED, "image", "PrivacyInformation"),
        ),
        ("InputVideoSensitiveContentDetected", UpstreamFailure(FailureKind.INPUT_REFUSED, "video")),
        ("InputAudioSensitiveContentDetected", UpstreamFailure(FailureKind.INPUT_REFUSED, "audio")),
        (
            "InputImageSensitiveContentDetected.Copyright",
            UpstreamFailure(FailureKind.INPUT_REFUSED, "image", "Copyright"),
        ),
        ("InputSensitiveContentDetected", UpstreamFailure(FailureKind.INPUT_REFUSED)),
        (
            "OutputVideoSensitiveContentDetected",
            UpstreamFailure(FailureKind.OUTPUT_REFUSED, "video"),
        ),
        (
            "OutputAudioSensitiveContentDetected",
            UpstreamFailure(FailureKind.OUTPUT_REFUSED, "audio"),
        ),
        (
            "OutputImageSensitiveContentDetected",
            UpstreamFailure(FailureKind.OUTPUT_REFUSED, "image"),
        ),
        ("InternalServiceError", UpstreamFailure(FailureKind.OTHER)),
        (None, UpstreamFailure(FailureKind.OTHER)),
    ],
)
def test_failure_codes_are_classified(code: str | None, expected: UpstreamFailure) -> None:
    """Input* codes are input refusals (kin included), Output* output refusals, others plain."""
    assert classify_failure(code) == expected
    assert classify_failure(code).retried is (expected.kind is not FailureKind.INPUT_REFUSED)


def test_every_listed_code_matches_its_pattern() -> None:
    """The table and the pattern agree, so the table only documents what was seen."""
    for code, failure in FAILURE_CODES.items():
        prefix = "Input" if failure.kind is FailureKind.INPUT_REFUSED else "Output"
        assert code.startswith(prefix + (failure.medium or "").capitalize())


def test_refused_prompt_says_so_and_what_to_do() -> None:
    """A text refusal names the prompt and asks for a rephrasing."""
    text = failure_text(
        _shot(),
        classify_failure("InputTextSensitiveContentDetected"),
        "InputTextSensitiveContentDetected",
        "The input text may contain sensitive information.",
    )
    assert text == (
        "RelayDance refused the prompt (InputTextSensitiveContentDetected: The input text may "
        "contain sensitive information.)" + NOT_RESUBMITTED + "rephrase the prompt, then rerun"
    )


def test_refused_privacy_image_names_the_reference_and_the_asset_library() -> None:
    """A privacy refusal of a shot's one image names it as the file does and offers assets."""
    code = "InputImageSensitiveContentDetected.PrivacyInformation"
    shot = _shot([_image("reference_image"), _media("audio")], ("keeper", "surf"))
    assert failure_text(shot, classify_failure(code), code, "real person") == (
        f"RelayDance refused the image 'keeper' ({code}: real person), which may show a real "
        "person" + NOT_RESUBMITTED + "replace the image, or, if it is a synthetic (generated) "
        "portrait, mark its reference `asset: true` to send it through RelayDance's asset "
        "library, then rerun"
    )


def test_refused_image_among_several_lists_them_all() -> None:
    """The server does not say which image it refused: every candidate is named."""
    code = "InputImageSensitiveContentDetected"
    shot = _shot([_image("reference_image")] * 3, ("keeper", "lamp", "boat"))
    assert failure_text(shot, classify_failure(code), code, None) == (
        f"RelayDance refused one of the images 'keeper', 'lamp' or 'boat' (it does not say "
        f"which) ({code}: no reason given)" + NOT_RESUBMITTED + "replace the image, then rerun"
    )


def test_refused_frames_are_named_by_their_fields() -> None:
    """First/last-frame images are named by field, a continuity frame by its source shot."""
    code = "InputImageSensitiveContentDetected"
    frames = _shot([ContinuityFrame("stairs"), _image("last_frame")])
    assert failure_text(frames, classify_failure(code), code, "x").startswith(
        "RelayDance refused one of the images in first_frame (the last frame of shot 'stairs') "
        "or in last_frame (it does not say which)"
    )
    assert failure_text(_shot([_image("last_frame")]), classify_failure(code), code, "x") == (
        f"RelayDance refused the image in last_frame ({code}: x)" + NOT_RESUBMITTED
        + "replace the image, then rerun"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("code", "expected", "advice"),
    [
        ("InputVideoSensitiveContentDetected", "the video 'dance'", "replace the video"),
        ("InputAudioSensitiveContentDetected", "the audio 'surf'", "replace the audio"),
        ("InputImageSensitiveContentDetected", "an input image", "replace the image"),
        (
            "InputSensitiveContentDetected",
            "the shot's input",
            "change the prompt or the references",
        ),
    ],
)
def test_other_input_refusals_name_their_input(code: str, expected: str, advice: str) -> None:
    """Video and audio refusals name their reference; an input the shot lacks is generic."""
    shot = _shot([_media("video"), _media("audio")], ("dance", "surf"))
    assert failure_text(shot, classify_failure(code), code, "m") == (
        f"RelayDance refused {expected} ({code}: m)" + NOT_RESUBMITTED + f"{advice}, then rerun"
    )


def test_output_audio_refusal_suggests_turning_audio_off() -> None:
    """The audio check's known workaround is named, unless audio is already off."""
    code = "OutputAudioSensitiveContentDetected"
    failure = classify_failure(code)
    assert failure_text(_shot(), failure, code, "audio") == (
        f"generation failed: audio ({code}); RelayDance's audio check often misfires: "
        "generate_audio: false on this shot is a known workaround"
    )
    silent = _shot(generate_audio=False)
    assert failure_text(silent, failure, code, "audio") == f"generation failed: audio ({code})"


def test_output_video_refusal_reads_as_before() -> None:
    """An output refusal keeps the server's reason and code, and nothing else."""
    code = "OutputVideoSensitiveContentDetected"
    assert failure_text(_shot(), classify_failure(code), code, None) == (
        f"generation failed: no reason given ({code})"
    )


@pytest.mark.parametrize(
    ("size", "content_type", "head", "expected"),
    [
        (20, "application/json", b'{"error": "gone"}\n\n', "h/c.mp4 sent 20 bytes of "
         'application/json instead of a video; its first line: {"error": "gone"}'),
        (70, "text/html", b"\n<!DOCTYPE html>\n<html>", "h/c.mp4 sent 70 bytes of text/html "
         "instead of a video; its first line: <!DOCTYPE html>"),
        (0, "video/mp4", b"", "h/c.mp4 sent an empty body (video/mp4) instead of a video"),
        (1, None, b"\x00", "h/c.mp4 sent 1 byte of no stated type, not a readable video (x)"),
        (9, "video/mp4", b"\x00\x00\x00\x20ftyp", "h/c.mp4 sent 9 bytes of video/mp4, "
         "not a readable video (x)"),
    ],
)  # fmt: skip
def test_not_a_video_reports_what_arrived(
    size: int, content_type: str | None, head: bytes, expected: str
) -> None:
    """Size, stated type, and the first line of a text body; the probe's word for binaries."""
    assert not_a_video("h/c.mp4", size, content_type, head, "not a readable video (x)") == expected


def test_first_line_is_shortened_and_survives_a_cut_character() -> None:
    """A long line is cut to 120 characters; a multibyte character cut by the head is dropped."""
    head = ("é" * HEAD_SIZE).encode()[:HEAD_SIZE]
    assert first_line(head) == "é" * 119 + "…"
    assert first_line(b"   \n\t\n") is None


class _RefusingApi:
    """Every task fails with ``code``; counts submits."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.submitted: list[dict[str, Any]] = []

    async def submit(self, body: bytes) -> str:
        self.submitted.append(json.loads(body))
        return f"task_{len(self.submitted)}"

    async def get_task(self, task_id: str) -> TaskStatus:
        return TaskStatus(task_id, TaskState.FAILED, error_code=self.code, error_message="no")

    async def download(self, task_id: str, dest: Path, *, video_url: str | None = None) -> Any:
        raise AssertionError("nothing succeeds here")


def _run(tmp_path: Path, api: _RefusingApi, jobs: list[Job]) -> list[ShotResult]:
    async def unused(path: Path, *rest: Path) -> Any:
        raise AssertionError("no clip to read")

    async def main() -> list[ShotResult]:
        with StateStore.open(tmp_path / "state.db", pipeline="film", clock=time.time) as store:
            for job in jobs:
                if job.task_id is not None:  # an earlier run submitted it
                    intent = store.record_intent(
                        key=job.key, shot_id=job.shot.id, take=1, request=job.shot.request
                    )
                    store.record_submitted(intent, job.task_id)
            scheduler = Scheduler(
                api=api,
                journal=store,
                clips=ClipStore(tmp_path / "out"),
                reporter=CollectingReporter(),
                options=SchedulerOptions(polling=PollSchedule.every(0.01)),
                probe=unused,
                extract_frame=unused,
                rng=random.Random(1),
            )
            return await scheduler.run(jobs)

    return anyio.run(main)


def _retrying_shot(prompt: str) -> RenderedShot:
    return RenderedShot(0, "beam", GenerationRequest("m", prompt, "5"), retries=3)


def test_input_refusal_is_not_resubmitted_output_refusal_is(tmp_path: Path) -> None:
    """With retries: 3 a refused input costs 1 submit, a refused output 4; each is counted."""
    for code, expected in (
        ("InputTextSensitiveContentDetected", 1),
        ("OutputVideoSensitiveContentDetected", 4),
    ):
        api = _RefusingApi(code)
        jobs = plan_run("film", [_retrying_shot(code)]).jobs
        (result,) = _run(tmp_path / code, api, jobs)
        assert (len(api.submitted), result.submits, result.phase.value) == (
            expected,
            expected,
            "failed",
        )


def test_resumed_task_whose_input_was_refused_is_not_resubmitted(tmp_path: Path) -> None:
    """A task from an earlier run that failed on its input is reported, not submitted again."""
    api = _RefusingApi("InputImageSensitiveContentDetected")
    (planned,) = plan_run("film", [_retrying_shot("p")]).jobs
    job = Job(planned.shot, planned.key, Action.RESUME, "following", task_id="task_old")
    (result,) = _run(tmp_path, api, [job])
    assert api.submitted == []
    assert (result.task_id, result.submits) == ("task_old", 0)
    assert result.message == (
        "RelayDance refused an input image (InputImageSensitiveContentDetected: no)"
        + NOT_RESUBMITTED
        + "replace the image, then rerun"
    )

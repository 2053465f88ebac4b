"""`rdpipe run` reports failures as they are (issue 10 §7), through the simulator's HTTP path.

A refused input is not resubmitted and its message names the input as the file does; a download
that is not a video from storage and from the API alike is described (bytes, type, first line)
under the shot's own name; the summary counts every submit that created a task.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import anyio
import pytest
from click.testing import Result

from rdpipe.assemble import probe_duration
from rdpipe.client import ApiKey, ClientConfig, RelayDanceClient, RetryPolicy
from rdpipe.plan import plan_run
from rdpipe.render import RenderedShot
from rdpipe.request import GenerationRequest
from rdpipe.scheduler import CollectingReporter, PollSchedule, SchedulerOptions, ShotResult
from rdpipe.scheduler.scheduler import Scheduler
from rdpipe.sim import Faults, SimServer, StoredBody
from rdpipe.sim.failures import FAILURE_MESSAGES
from rdpipe.state import ClipStore, StateStore
from tests.run.conftest import SIM_API_KEY, pipeline_text, submits, summary_of, write

NOT_RESUBMITTED = "; it was not resubmitted, since the same request would be refused again: "
PAID_FOR = "; rerun to try again (it is paid for and recorded)"
BOTH = frozenset({"storage", "content"})  # storage and the API's /content send the same
REFERENCES = """version: 1
name: film
model: doubao-seedance-2-0-480p
defaults: {seconds: 4, ratio: '16:9'}
references:
  keeper: {image: https://example.com/keeper.png}
  dance: {video: https://example.com/dance.mp4}
  surf: {audio: https://example.com/surf.mp3}
shots:
  - id: portrait
    references: [keeper, dance, surf]
    prompt: "{{ ref('keeper') }} dances to {{ ref('surf') }} like {{ ref('dance') }}"
  - {id: harbour, prompt: "a quiet harbour at dawn"}
output: {path: out/film.mp4}
"""


def _failures(result: Result) -> dict[str, str]:
    """The messages of the failed shots, from the ``--json`` summary."""
    return {s["id"]: s["message"] for s in summary_of(result)["shots"] if s["status"] != "done"}


def _said(code: str) -> str:
    return f"{code}: {FAILURE_MESSAGES[code]}"


def test_refused_prompt_is_submitted_once_and_named(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """Two shots whose prompt is refused cost 2 submits, not 4, and each says: the prompt."""
    code = "InputTextSensitiveContentDetected"
    online.faults = Faults(task_failure_rate=1.0, failure_code=code)
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one", "b": "two"}))
    result = rdpipe_cli("run", str(path))
    assert result.exit_code == 1
    assert submits(online) == 2
    message = (
        f"RelayDance refused the prompt ({_said(code)})" + NOT_RESUBMITTED
        + "rephrase the prompt, then rerun"
    )  # fmt: skip
    lines = result.stdout.splitlines()
    assert f"a: failed (refused): {message}" in lines
    assert f"b: failed (refused): {message}" in lines
    assert lines[-1] == "film: 2 submitted, 0 resumed, 0 reused, 2 failed"


def test_rerun_does_not_resend_a_refused_input(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """An unchanged rerun sends no refused request again; status says why; --force sends it."""
    online.faults = Faults(task_failure_rate=1.0, failure_code="InputTextSensitiveContentDetected")
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one"}))
    assert rdpipe_cli("run", str(path)).exit_code == 1
    online.clear_observations()
    again = rdpipe_cli("run", str(path), "--json")
    assert again.exit_code == 1
    assert submits(online) == 0
    (message,) = _failures(again).values()
    assert message.startswith("RelayDance refused this request's input in task task_")
    assert message.endswith(
        f" ({_said('InputTextSensitiveContentDetected')}); it is not sent again unchanged: "
        "change the shot, or pass --force to try it anyway"
    )
    status = rdpipe_cli("status", str(path), "--json")
    rows = json.loads(status.stdout)["shots"]
    assert [(row["status"], row["action"]) for row in rows] == [("failed", "refused")]
    online.faults = Faults()
    forced = rdpipe_cli("run", str(path), "--force", "a")
    assert forced.exit_code == 0, forced.stdout
    assert submits(online) == 1


def test_refused_portrait_names_the_reference_and_the_others_go_on(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """A privacy refusal names the shot's image by its reference name; other shots finish."""
    code = "InputImageSensitiveContentDetected.PrivacyInformation"
    online.faults = Faults(task_failure_rate=1.0, failure_code=code, failing_prompts="@image1")
    path = write(tmp_path / "film.yaml", REFERENCES)
    result = rdpipe_cli("run", str(path), "--json")
    assert result.exit_code == 1
    assert submits(online) == 2
    assert _failures(result) == {
        "portrait": f"RelayDance refused the image 'keeper' ({_said(code)}), which may show a "
        "real person" + NOT_RESUBMITTED + "replace the image, or, if it is a synthetic "
        "(generated) portrait, mark its reference `asset: true` to send it through "
        "RelayDance's asset library, then rerun"
    }
    assert summary_of(result)["submitted"] == 2


@pytest.mark.parametrize(
    ("code", "what", "advice"),
    [
        ("InputImageSensitiveContentDetected", "the image 'keeper'", "replace the image"),
        ("InputVideoSensitiveContentDetected", "the video 'dance'", "replace the video"),
        ("InputAudioSensitiveContentDetected", "the audio 'surf'", "replace the audio"),
    ],
)
def test_other_input_refusals_name_their_reference(
    online: SimServer,
    tmp_path: Path,
    rdpipe_cli: Callable[..., Result],
    code: str,
    what: str,
    advice: str,
) -> None:
    """Image, video and audio refusals name the reference of that kind, sent once each."""
    online.faults = Faults(task_failure_rate=1.0, failure_code=code, failing_prompts="@image1")
    path = write(tmp_path / "film.yaml", REFERENCES.replace("harbour", "harbour, retries: 0"))
    result = rdpipe_cli("run", str(path), "--json")
    assert result.exit_code == 1
    assert submits(online) == 2
    assert _failures(result) == {
        "portrait": f"RelayDance refused {what} ({_said(code)})" + NOT_RESUBMITTED
        + f"{advice}, then rerun"
    }  # fmt: skip


def test_output_refusals_are_retried_and_counted(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """An output refusal of the picture is resubmitted (retries: 1) and both paid submits are
    counted; the shot is refunded. (The sound's: tests/run/test_failure_policies.py.)"""
    code = "OutputVideoSensitiveContentDetected"
    online.faults = Faults(task_failure_rate=1.0, failure_code=code)
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one"}))
    result = rdpipe_cli("run", str(path), "--json")
    assert result.exit_code == 1
    assert submits(online) == 2
    assert _failures(result) == {
        "a": f"generation failed: {FAILURE_MESSAGES[code]} ({code}); 2 attempts failed, each "
        "refunded (not billed)"
    }
    summary = summary_of(result)
    assert summary["submitted"] == 2 and summary["shots"][0]["outcome"] == "refunded"


def _storage_paths(sim: SimServer) -> list[str]:
    return [r.path for r in sim.requests() if r.origin == "storage"]


def _tried(sim: SimServer, task: str) -> tuple[str, str]:
    """The source of the last try, then the sources tried, as the failure message words them."""
    content = f"/v1/videos/{task}/content"
    tried = f"its link, a fresh link from the task and GET {content}"
    return sim.base_url.split("//", 1)[1] + content, tried


def test_json_from_storage_is_described_under_the_shot_and_counted(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """A 20-byte JSON answer is reported as such under the shot's name; 2 paid submits count 2."""
    body = b'{"error": "expired"}'
    online.faults = Faults(stored_body=StoredBody("application/json", body, endpoints=BOTH))
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one", "b": "two"}))
    result = rdpipe_cli("run", str(path))
    assert result.exit_code == 1
    assert submits(online) == 2
    lines = result.stdout.splitlines()
    failed = [line for line in lines if ": failed (unknown): " in line]
    assert len(failed) == 2 and len(set(_storage_paths(online))) == 2
    for line in failed:
        shot, _, message = line.partition(": failed (unknown): ")
        task = message.removeprefix("the clip of task ").split(" ", 1)[0]
        content, tried = _tried(online, task)
        assert shot in ("a", "b") and ".incoming" not in message
        assert message == (
            f"the clip of task {task} did not arrive: {content} sent 20 bytes of "
            f"application/json instead of a video; its first line: {body.decode()}; "
            f"tried {tried}" + PAID_FOR
        )
    assert lines[-1] == "film: 2 submitted, 0 resumed, 0 reused, 2 failed"


@pytest.mark.parametrize(
    ("stored", "sent"),
    [
        (
            StoredBody("text/html", b"\n<!DOCTYPE html>\n<html><title>502</title></html>\n"),
            "sent 49 bytes of text/html; charset=utf-8 instead of a video; its first line: "
            "<!DOCTYPE html>",
        ),
        (StoredBody("video/mp4", b""), "sent an empty body (video/mp4) instead of a video"),
        (
            StoredBody("video/mp4", b"\x00\x00\x00\x18ftypmp42" + bytes(16)),
            "sent 28 bytes of video/mp4, not a readable video (Invalid data found when "
            "processing input)",
        ),
    ],
)
def test_other_bodies_from_storage_are_described(
    online: SimServer,
    tmp_path: Path,
    rdpipe_cli: Callable[..., Result],
    stored: StoredBody,
    sent: str,
) -> None:
    """An HTML page, an empty body and a broken MP4 are each described by what arrived."""
    online.faults = Faults(stored_body=replace(stored, endpoints=BOTH))
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one"}))
    result = rdpipe_cli("run", str(path), "--json")
    assert result.exit_code == 1
    (task,) = online.created_task_ids()
    content, tried = _tried(online, task)
    message = _failures(result)["a"]
    assert message == f"the clip of task {task} did not arrive: {content} {sent}; tried {tried}" + (
        PAID_FOR
    )
    assert summary_of(result)["submitted"] == 1


def test_mislabelled_mp4_is_still_a_clip(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """A real MP4 sent as application/octet-stream is kept: the bytes decide, not the label."""
    online.faults = Faults(stored_body=StoredBody("application/octet-stream"))
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one"}))
    result = rdpipe_cli("run", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    summary = summary_of(result)
    assert (summary["submitted"], summary["shots"][0]["status"]) == (1, "done")
    assert (path.parent / summary["output"]).is_file()


def _schedule_one(sim: SimServer, folder: Path) -> ShotResult:
    """Generate one shot with the scheduler and the real client, retrying downloads quickly."""
    request = GenerationRequest("doubao-seedance-2-0-480p", "a short body", "4")
    plan = plan_run("film", [RenderedShot(0, "a", request)])
    retry = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.02)

    async def extract(clip: Path, dest: Path) -> Path:
        raise AssertionError("no continuity here")

    async def main() -> ShotResult:
        config = ClientConfig(ApiKey(SIM_API_KEY), sim.base_url, retry=retry)
        async with RelayDanceClient(config) as client:
            with StateStore.open(folder / "state.db", pipeline="film", clock=time.time) as store:
                scheduler = Scheduler(
                    api=client,
                    journal=store,
                    clips=ClipStore(folder / "out"),
                    reporter=CollectingReporter(),
                    options=SchedulerOptions(polling=PollSchedule.every(0.1)),
                    probe=probe_duration,
                    extract_frame=extract,
                )
                (result,) = await scheduler.run(plan.jobs)
                return result

    return anyio.run(main)


def test_body_shorter_than_announced_says_how_short(sim: SimServer, tmp_path: Path) -> None:
    """A clip that stops short on every try reports the bytes that came, of how many, and type."""
    short = StoredBody("video/mp4", b"\0" * 7, declared_length=5000, endpoints=BOTH)
    sim.faults = Faults(stored_body=short)
    result = _schedule_one(sim, tmp_path)
    (task,) = sim.created_task_ids()
    content, tried = _tried(sim, task)
    assert (result.phase.value, result.submits) == ("failed", 1)
    assert result.message == (
        f"the clip of task {task} could not be downloaded whole: the download from {content} "
        f"ended at 7 of 5000 bytes of video/mp4; tried {tried}" + PAID_FOR
    )
    assert len(_storage_paths(sim)) == 6, "3 tries, then 3 more with a fresh link"
    assert sim.counters()["GET /v1/videos/{id}/content"] == 3, "then 3 through the API"

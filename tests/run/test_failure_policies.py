"""Unattended runs that finish (issue 15 §3), through the CLI against the simulator over HTTP:
each class of failure handled by its ``on_failure:`` policy with one outcome per shot, and the
relay's concurrency gate ridden without a shot failing for it."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import pytest
from click.testing import Result

from rdpipe.ffmpeg_path import find_ffmpeg
from rdpipe.sim import Faults, SimConfig, SimServer, Timing, run_simulator
from rdpipe.sim.failures import FAILURE_MESSAGES
from rdpipe.sim.preview_clips import clip_spec_for, render_clip
from rdpipe.sim.validation import parse_submission
from tests.run.conftest import SIM_API_KEY, pipeline_text, submits, summary_of, write

AUDIO = "OutputAudioSensitiveContentDetected"
VIDEO = "OutputVideoSensitiveContentDetected"
PROMPT = "InputTextSensitiveContentDetected"
INTERNAL = "InternalServiceError"


def _posted(sim: SimServer) -> list[dict[str, Any]]:
    """The bodies POSTed to /v1/video/generations, in order."""
    return [
        json.loads(r.body)
        for r in sim.requests()
        if r.method == "POST" and r.path == "/v1/video/generations"
    ]


def _outcomes(result: Result) -> dict[str, tuple[str, str, str | None]]:
    """Each shot's status, outcome and message from the ``--json`` summary."""
    return {s["id"]: (s["status"], s["outcome"], s["message"]) for s in summary_of(result)["shots"]}


def test_refused_sound_is_generated_again_without_audio(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """The audio filter refuses beam's sound: beam is submitted once more with generate_audio
    false (free: the failure was refunded) and succeeds; the summary says so; a rerun reuses
    the clip, stored under the shot's key."""
    online.faults = Faults(failure_markers={"BEAM": "output_audio"})
    shots = {"beam": "BEAM a lighthouse beam sweeps the fog", "quay": "a quiet quay"}
    path = write(tmp_path / "film.yaml", pipeline_text(shots))
    result = rdpipe_cli("run", str(path))
    assert result.exit_code == 0, result.stdout
    beam = [body for body in _posted(online) if body["prompt"].startswith("BEAM")]
    assert len(beam) == 2 and submits(online) == 3
    assert "generate_audio" not in beam[0]["metadata"]  # the file does not set it
    assert beam[1]["metadata"]["generate_audio"] is False
    assert {k: v for k, v in beam[1]["metadata"].items() if k != "generate_audio"} == (
        beam[0]["metadata"]
    )
    lines = result.stdout.splitlines()
    assert (
        f"beam: done (succeeded): output audio refused ({AUDIO}); generated again without "
        "audio (refunded, not billed)"
    ) in lines
    assert lines[-1].startswith("film: 3 submitted, 0 resumed, 0 reused, 0 failed -> ")
    online.clear_observations()
    again = rdpipe_cli("run", str(path), "--json")
    assert again.exit_code == 0 and submits(online) == 0
    assert {shot: outcome for shot, (_, outcome, _) in _outcomes(again).items()} == {
        "beam": "succeeded",
        "quay": "succeeded",
    }


def test_an_input_refusal_is_not_retried(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """A refused prompt costs one POST, whatever its retries; the summary says so."""
    online.faults = Faults(failure_markers={"RUDE": "input_refused"})
    path = write(
        tmp_path / "film.yaml", pipeline_text({"rude": "RUDE words", "kind": "kind words"})
    )
    result = rdpipe_cli("run", str(path), "--json", "--partial")
    assert result.exit_code == 1
    assert [body["prompt"] for body in _posted(online)].count("RUDE words") == 1
    assert submits(online) == 2
    status, outcome, message = _outcomes(result)["rude"]
    assert (status, outcome) == ("failed", "refused")
    assert message == (
        f"RelayDance refused the prompt ({PROMPT}: {FAILURE_MESSAGES[PROMPT]}); it was not "
        "resubmitted, since the same request would be refused again: rephrase the prompt, "
        "then rerun"
    )
    summary = summary_of(result)
    assert summary["outcomes"] == {
        "succeeded": 1,
        "refused": 1,
        "refunded": 0,
        "unknown": 0,
        "not submitted": 0,
        "skipped": 0,
    }


def _seconds(video: Path) -> float:
    with av.open(str(video)) as container:
        assert container.duration is not None
        return float(container.duration) / 1_000_000


def test_skip_leaves_the_shot_out_and_the_video_is_built(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """on_failure: skip: the refused shot is not retried and the video is joined from the
    other two (4 s + 4 s), with a note; the run still exits 1 (a shot has no clip)."""
    online.faults = Faults(failure_markers={"GULL": "output_video"})
    text = pipeline_text(
        {"dawn": "dawn over the bay", "gull": "GULL in the wind", "dusk": "dusk over the bay"}
    ).replace("defaults: {seconds: 4, ratio: '16:9'}", "defaults: {seconds: 4, ratio: '16:9', "
              "on_failure: {output_video: skip}}")  # fmt: skip
    path = write(tmp_path / "film.yaml", text)
    result = rdpipe_cli("run", str(path))
    assert result.exit_code == 1, result.stdout
    assert [body["prompt"] for body in _posted(online)].count("GULL in the wind") == 1
    lines = result.stdout.splitlines()
    assert "the video leaves out gull (on_failure: skip)" in lines
    assert (
        f"gull: skipped: generation failed: {FAILURE_MESSAGES[VIDEO]} ({VIDEO}); left out of "
        "the video (on_failure: skip)"
    ) in lines
    video = tmp_path / "out" / "film.mp4"
    assert lines[-1] == f"film: 3 submitted, 0 resumed, 0 reused, 0 failed, 1 skipped -> {video}"
    # gull's generation failed (refunded), not its input: a rerun tries it again
    assert any("` tries again the shots without a clip (gull): " in line for line in lines)
    assert abs(_seconds(video) - 8.0) < 0.15


def test_stop_submits_nothing_more(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """on_failure: stop, one task at a time: the first shot's upstream failure stops the run's
    submits; the others are not submitted, and say why."""
    online.faults = Faults(failure_markers={"FIRST": "transient"})
    text = pipeline_text(
        {"first": "FIRST light", "second": "second light", "third": "third light"}
    ).replace("defaults: {seconds: 4, ratio: '16:9'}", "defaults: {seconds: 4, ratio: '16:9', "
              "on_failure: stop}")  # fmt: skip
    path = write(tmp_path / "film.yaml", text)
    result = rdpipe_cli("run", str(path), "-j", "1", "--json")
    assert result.exit_code == 1
    assert [body["prompt"] for body in _posted(online)] == ["FIRST light"]
    outcomes = _outcomes(result)
    assert outcomes["first"][:2] == ("failed", "refunded")
    stopped = "the run stopped submitting after shot 'first' failed (on_failure: stop)"
    assert outcomes["second"] == ("not submitted", "not submitted", stopped)
    assert outcomes["third"] == ("not submitted", "not submitted", stopped)
    summary = summary_of(result)
    assert (summary["failed"], summary["not_submitted"]) == (1, 2)
    assert summary["outcomes"]["not submitted"] == 2
    assert f"second: not submitted: {stopped}" in result.stderr.splitlines()
    online.clear_observations()
    plain = rdpipe_cli("run", str(path), "-j", "1")
    lines = plain.stdout.splitlines()
    assert f"second: not submitted: {stopped}" in lines
    assert f"third: not submitted: {stopped}" in lines
    assert lines[-1] == "film: 1 submitted, 0 resumed, 0 reused, 1 failed, 2 not submitted"


def _refusing(tmp_path: Path, policy: str) -> Path:
    """A film whose ``rude`` prompt is refused (input_refused: ``policy``) beside two shots."""
    text = pipeline_text(
        {"calm": "calm water", "rude": "RUDE words", "kind": "kind words"}
    ).replace("defaults: {seconds: 4, ratio: '16:9'}", "defaults: {seconds: 4, ratio: '16:9', "
              f"on_failure: {{input_refused: {policy}}}}}")  # fmt: skip
    return write(tmp_path / "film.yaml", text)


def _refused_before(task_id: str) -> str:
    return (
        f"RelayDance refused this request's input in task {task_id} ({PROMPT}: "
        f"{FAILURE_MESSAGES[PROMPT]}); it is not sent again unchanged: change the shot, or "
        "pass --force to try it anyway"
    )


def test_skip_holds_for_an_input_refused_in_an_earlier_run(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """on_failure: {input_refused: skip}: the rerun does not send the refused request again,
    and still leaves the shot out of the video (skipped), which is built from the others."""
    online.faults = Faults(failure_markers={"RUDE": "input_refused"})
    path = _refusing(tmp_path, "skip")
    first = rdpipe_cli("run", str(path), "--json")
    assert first.exit_code == 1
    task_id = summary_of(first)["shots"][1]["task_id"]
    assert _outcomes(first)["rude"][:2] == ("skipped", "skipped")
    online.clear_observations()
    again = rdpipe_cli("run", str(path), "--json")
    assert again.exit_code == 1 and submits(online) == 0
    video = tmp_path / "out" / "film.mp4"
    summary = summary_of(again)
    assert summary["output"] == "out/film.mp4"  # relative to the pipeline's folder
    assert _outcomes(again)["rude"] == (
        "skipped",
        "skipped",
        _refused_before(task_id) + "; left out of the video (on_failure: skip)",
    )
    assert summary["outcomes"]["skipped"] == 1 and summary["outcomes"]["refused"] == 0
    assert (summary["skipped"], summary["failed"], summary["not_submitted"]) == (1, 0, 0)
    plain = rdpipe_cli("run", str(path))
    lines = plain.stdout.splitlines()
    assert "the video leaves out rude (on_failure: skip)" in lines
    assert (
        f"rude: skipped: {_refused_before(task_id)}; left out of the video (on_failure: skip)"
    ) in lines
    assert lines[-1] == f"film: 0 submitted, 0 resumed, 2 reused, 0 failed, 1 skipped -> {video}"
    # a refused input is not sent again unchanged: the rerun does not "try it again"
    assert not any("tries again" in line for line in lines)
    assert (
        "RelayDance refused rude as sent and refuses the same request again: change the "
        "pipeline file as the reasons above say, then `"
    ) in "\n".join(lines)
    assert abs(_seconds(video) - 8.0) < 0.15


def test_stop_holds_for_an_input_refused_in_an_earlier_run(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """on_failure: {input_refused: stop}: on the rerun the shot refused before fails as refused
    and stops the run's submits, as the refusal itself did."""
    online.faults = Faults(failure_markers={"RUDE": "input_refused"})
    path = _refusing(tmp_path, "stop")
    first = rdpipe_cli("run", str(path), "--json", "-j", "1")
    task_id = summary_of(first)["shots"][1]["task_id"]
    assert [body["prompt"] for body in _posted(online)] == ["calm water", "RUDE words"]
    online.clear_observations()
    again = rdpipe_cli("run", str(path), "--json", "-j", "1", "--force", "calm")
    assert again.exit_code == 1
    outcomes = _outcomes(again)
    assert outcomes["rude"] == (
        "failed",
        "refused",
        _refused_before(task_id) + "; no new submits for the rest of the run (on_failure: stop)",
    )
    stopped = (
        "the run stopped submitting: shot 'rude', refused in an earlier run, is unchanged "
        "(on_failure: stop)"
    )
    assert outcomes["kind"] == ("not submitted", "not submitted", stopped)
    # the hint does not promise that a rerun sends kind: it waits on rude being changed
    assert "tries again" not in again.stderr
    assert (
        "kind wait on rude: RelayDance refused it in an earlier run and its on_failure: stop "
        "stops every run's submits while it is unchanged; once it is changed, `"
    ) in again.stderr


# The relay's concurrency gate --------------------------------------------------------------


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    """A simulator whose key may have 4 requests in flight at once (fast timing, one served
    4 s clip for every task, so nothing is rendered per task)."""
    work = tmp_path_factory.mktemp("gated")
    clip = work / "served.mp4"
    body = {"model": "doubao-seedance-2-0-480p", "prompt": "x", "seconds": "4",
            "metadata": {"ratio": "16:9", "generate_audio": False}}  # fmt: skip
    render_clip(find_ffmpeg({}), clip_spec_for(parse_submission(body)), clip)
    config = SimConfig(
        api_key=SIM_API_KEY,
        timing=Timing.fast(),
        clip_file=clip,
        work_dir=work / "sim",
        concurrency_limit=4,
    )
    with run_simulator(config) as server:
        yield server


def test_a_gate_of_4_at_32_tasks_finishes_every_shot(
    gated: SimServer,
    tmp_path: Path,
    rdpipe_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """40 shots at -j 32 against a gate of 4: every shot done, one task each, none failed for
    429, and the gate's answers few. Measured on 2 cores: 9 to 11 gate answers (429) with the
    adaptive gate, 78 to 93 with plain back-off (``SchedulerOptions.adaptive_gate`` false);
    the run itself takes 6 to 8 s."""
    monkeypatch.setenv("RELAYDANCE_BASE_URL", gated.base_url)
    monkeypatch.setenv("RELAYDANCE_API_KEY", SIM_API_KEY)
    gated.clear_observations()
    shots = {f"s{i:02d}": f"shot {i}" for i in range(40)}
    path = write(tmp_path / "film.yaml", pipeline_text(shots))
    started = time.monotonic()
    result = rdpipe_cli("run", str(path), "-j", "32", "--json")
    took = time.monotonic() - started
    assert result.exit_code == 0, result.stderr
    summary = summary_of(result)
    assert summary["outcomes"]["succeeded"] == 40 and summary["submitted"] == 40
    assert submits_created(gated) == 40
    rejections = gated.gate_rejections
    assert gated.peak_in_flight <= 4
    assert 1 <= rejections <= 30
    assert took < 30
    lowered = [line for line in result.stderr.splitlines() if "concurrency gate is full" in line]
    assert lowered and lowered[0].endswith("raised again as requests pass")


def submits_created(sim: SimServer) -> int:
    return len(sim.created_task_ids())


# on_failure and the gate together (issue 15 §3, round 18's B2 findings) ----------------------


@pytest.fixture(scope="module")
def served_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One 4 s clip the simulators below serve for every task (nothing rendered per task)."""
    clip = tmp_path_factory.mktemp("served") / "served.mp4"
    body = {"model": "doubao-seedance-2-0-480p", "prompt": "x", "seconds": "4",
            "metadata": {"ratio": "16:9", "generate_audio": False}}  # fmt: skip
    render_clip(find_ffmpeg({}), clip_spec_for(parse_submission(body)), clip)
    return clip


@pytest.fixture
def gate_sim(
    served_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Any]:
    """Starts a simulator with the given SimConfig fields, reachable through the environment."""
    from contextlib import ExitStack

    stack = ExitStack()

    def start(**fields: Any) -> SimServer:
        config = SimConfig(
            api_key=SIM_API_KEY,
            timing=Timing.fast(),
            clip_file=served_clip,
            work_dir=tmp_path / "sim",
            **fields,
        )
        server = stack.enter_context(run_simulator(config))
        monkeypatch.setenv("RELAYDANCE_BASE_URL", server.base_url)
        monkeypatch.setenv("RELAYDANCE_API_KEY", SIM_API_KEY)
        return server

    yield start
    stack.close()


def _events(result: Result) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in result.stdout.strip().splitlines()]
    return [line for line in lines if line.get("kind") == "run.event" and "id" in line]


def test_stop_sends_no_submit_once_a_shot_queued_at_the_gate_wins_its_slot(
    gate_sim: Callable[..., SimServer], tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """A gate of 1 that holds each slot 0.3 s: sixteen shots queue for it. Once `first` fails
    (on_failure: stop), no shot is submitted any more, even one that wins the gate's slot after
    the stop: every shot after it ends `not submitted` (one word in events and summary, never
    `skipped`), and the POSTs are exactly the shots submitted before the stop."""
    sim = gate_sim(
        concurrency_limit=1,
        gate_hold=0.3,
        faults=Faults(failure_markers={"FIRST": "transient"}),
    )
    shots = {"first": "FIRST light", **{f"s{i}": f"shot {i}" for i in range(1, 16)}}
    text = pipeline_text(shots).replace(
        "defaults: {seconds: 4, ratio: '16:9'}",
        "defaults: {seconds: 4, ratio: '16:9', on_failure: stop}",
    )
    path = write(tmp_path / "film.yaml", text)
    result = rdpipe_cli("run", str(path), "-j", "16", "--json")
    assert result.exit_code == 1, result.stderr
    events = _events(result)
    # The journal writes a submit's intent after the stop check, just before its POST: no
    # intent that created a task was written after `first`'s failure was recorded.
    with sqlite3.connect(tmp_path / ".rdpipe" / "state.db") as db:
        [(failed_at,)] = db.execute(
            "SELECT t.finished_at FROM tasks t JOIN intents i USING (intent_id) "
            "WHERE i.shot_id = 'first'"
        ).fetchall()
        late = db.execute(
            "SELECT shot_id FROM intents WHERE outcome = 'submitted' AND created_at > ?",
            (failed_at,),
        ).fetchall()
    assert late == []
    outcomes = _outcomes(result)
    stopped = "the run stopped submitting after shot 'first' failed (on_failure: stop)"
    unsent = [shot for shot, (_, outcome, _) in outcomes.items() if outcome == "not submitted"]
    assert unsent  # the gate kept some shots waiting until the stop
    for shot in unsent:
        assert outcomes[shot] == ("not submitted", "not submitted", stopped)
        assert [e["status"] for e in events if e["id"] == shot][-1] == "not submitted"
    assert "skipped" not in {e["status"] for e in events}
    # The bodies the relay read (the gate answers 429 before reading one): one per task.
    posted = [json.loads(r.body)["prompt"] for r in sim.requests() if r.body and r.method == "POST"]
    assert len(sim.created_task_ids()) == len(shots) - len(unsent)
    assert set(posted) == {shots[s] for s in shots if s not in unsent}
    assert summary_of(result)["not_submitted"] == len(unsent)


def test_a_gate_unavailable_past_the_retries_is_not_a_refusal(
    gate_sim: Callable[..., SimServer], tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """Every submit answered 503 token_concurrency_unavailable, past the client's retries:
    nothing was created, so the shots are `not submitted` (not `refused`), and the advice is
    to rerun, never to change the pipeline file."""
    sim = gate_sim(gate_unavailable_rate=1.0)
    path = write(tmp_path / "film.yaml", pipeline_text({"dawn": "dawn", "dusk": "dusk"}))
    result = rdpipe_cli("run", str(path), "--json")
    assert result.exit_code == 1, result.stderr
    assert sim.created_task_ids() == []
    said = (
        "RelayDance's concurrency gate was unavailable for POST /v1/video/generations "
        "(503 token_concurrency_unavailable)"
    )
    outcomes = _outcomes(result)
    for shot in ("dawn", "dusk"):
        status, outcome, message = outcomes[shot]
        assert (status, outcome) == ("not submitted", "not submitted")
        assert message is not None and message.startswith(said)
        assert message.endswith(
            ", and still after the client's retries; nothing was created (not billed): rerun "
            "to submit it"
        )
    summary = summary_of(result)
    assert summary["outcomes"]["refused"] == 0 and summary["not_submitted"] == 2
    assert "change the pipeline file" not in result.stderr
    assert "` tries again the shots without a clip (dawn, dusk): " in result.stderr


def test_refused_sound_on_a_model_that_always_has_audio_moves_to_its_silent_sibling(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """seedance-1-5-pro-with-audio fixes the sound in its id, so `generate_audio: false` is a
    body validate forbids: retry_without_audio sends the same request to the catalog's
    seedance-1-5-pro-no-audio instead (no generate_audio field), and the summary says so."""
    online.faults = Faults(failure_markers={"BEAM": "output_audio"})
    text = pipeline_text({"beam": "BEAM a lighthouse beam sweeps the fog"}).replace(
        "model: doubao-seedance-2-0-480p", "model: seedance-1-5-pro-with-audio"
    )
    path = write(tmp_path / "film.yaml", text)
    result = rdpipe_cli("run", str(path))
    assert result.exit_code == 0, result.stdout + result.stderr
    first, second = _posted(online)
    assert first["model"] == "seedance-1-5-pro-with-audio"
    assert second == {**first, "model": "seedance-1-5-pro-no-audio"}
    assert "generate_audio" not in second["metadata"]
    assert (
        f"beam: done (succeeded): output audio refused ({AUDIO}); generated again with "
        "seedance-1-5-pro-no-audio (no audio) (refunded, not billed)"
    ) in result.stdout.splitlines()


def test_a_gate_that_never_admits_ends_at_the_shot_deadline_and_says_why(
    gate_sim: Callable[..., SimServer],
    tmp_path: Path,
    rdpipe_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another client of the same key holds the relay's only gate slot for 8 s: every submit
    of the run is refused (429). The shot's deadline (--shot-timeout, shortened here to 2 s)
    bounds the wait: the shot ends `not submitted`, saying the gate refused every submit,
    and the run ends instead of looping."""
    from dataclasses import replace

    from rdpipe.session import running

    sim = gate_sim(concurrency_limit=1, gate_hold=8.0)
    holder = _another_client_holds_the_slot(sim)
    options = running.scheduler_options
    monkeypatch.setattr(
        running,
        "scheduler_options",
        lambda *a, **k: replace(options(*a, **k), shot_deadline=2.0),
    )
    path = write(tmp_path / "film.yaml", pipeline_text({"dawn": "dawn"}))
    started = time.monotonic()
    result = rdpipe_cli("run", str(path))
    took = time.monotonic() - started
    holder.join()
    assert result.exit_code == 1, result.stdout + result.stderr
    assert took < 7  # before the other client let go of the slot
    assert len(sim.created_task_ids()) == 1  # the other client's only
    lines = result.stdout.splitlines()
    [line] = [line for line in lines if line.startswith("dawn: not submitted: ")]
    assert line.startswith(
        "dawn: not submitted: the relay's concurrency gate refused every submit for 2 s ("
    )
    assert line.endswith(
        " times, 429 token_concurrency_limit_reached) and the shot's time limit "
        "(--shot-timeout) passed; nothing was created (not billed): rerun when fewer requests "
        "of this API key run at once (other runs, or a lower -j)"
    )
    assert (
        "dawn: submitting - the relay's concurrency gate refused this submit 3 times (429 "
        "token_concurrency_limit_reached); sending it again"
    ) in lines
    assert lines[-1] == "film: 0 submitted, 0 resumed, 0 reused, 0 failed, 1 not submitted"


def test_a_gate_answer_with_retry_after_is_waited_out(
    gate_sim: Callable[..., SimServer], tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """Another client of the key holds the relay's only gate slot for 2 s, and the gate's 429s
    carry `Retry-After: 4`: the run's submit, refused once, waits the 4 s it was asked to
    (HTTP semantics, though new-api sends none) and passes; with the jittered pause alone
    (0.125 s, doubling) it would meet the gate 3 or 4 times before the slot is free."""
    sim = gate_sim(concurrency_limit=1, gate_hold=2.0, gate_retry_after=4)
    holder = _another_client_holds_the_slot(sim)
    path = write(tmp_path / "film.yaml", pipeline_text({"dawn": "dawn"}))
    started = time.monotonic()
    result = rdpipe_cli("run", str(path), "-j", "1")
    took = time.monotonic() - started
    holder.join()
    assert result.exit_code == 0, result.stdout
    assert len(sim.created_task_ids()) == 2  # the other client's and dawn's
    assert sim.gate_rejections == 1
    assert took >= 4.0


def _another_client_holds_the_slot(sim: SimServer) -> threading.Thread:
    """Another client of the key submits, holding the gate's only slot for the simulator's
    gate_hold; returned once the slot is held (join it when done)."""
    body = json.dumps({"model": "doubao-seedance-2-0-480p", "prompt": "other", "seconds": "4"})
    other = urllib.request.Request(
        f"{sim.base_url}/v1/video/generations",
        data=body.encode(),
        headers={"Authorization": f"Bearer {SIM_API_KEY}", "Content-Type": "application/json"},
    )
    holder = threading.Thread(target=lambda: urllib.request.urlopen(other, timeout=30).read())
    holder.start()
    time.sleep(0.3)
    return holder

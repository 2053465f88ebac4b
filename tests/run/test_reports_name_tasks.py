"""What `run` and `status` say about a shot names its task where there is one, in one sentence
per thought, and tells a clip being downloaded from a missing one."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from rdpipe.request import GenerationRequest
from rdpipe.sim import Faults, SimServer
from rdpipe.state import RunGuard, StatePaths, StateStore
from tests.run.conftest import pipeline_text, submits, summary_of, write

#: A request as the scheduler journals it.
REQUEST = GenerationRequest("m", "p", "5")
SHOTS = {"coast": "a storm-battered coast at dusk", "lamp": "the great lamp is lit"}


def test_json_partial_names_the_task_of_a_refused_input(
    tmp_path: Path, online: SimServer, rdpipe_cli: Callable[..., Result]
) -> None:
    """A rerun that does not resend a refused input reports the refused task's id in the JSON
    summary (not null), the one its message names; it sends no POST."""
    path = write(tmp_path / "film.yaml", pipeline_text(SHOTS))
    online.faults = Faults(
        task_failure_rate=1.0,
        failure_code="InputTextSensitiveContentDetected",
        failing_prompts="lamp",
    )
    first = summary_of(rdpipe_cli("run", str(path), "--json", "--partial"))
    task_id = {shot["id"]: shot["task_id"] for shot in first["shots"]}["lamp"]
    online.clear_observations()
    rerun = rdpipe_cli("run", str(path), "--json", "--partial")
    assert rerun.exit_code == 1
    shots = {shot["id"]: shot for shot in summary_of(rerun)["shots"]}
    assert (shots["lamp"]["status"], shots["lamp"]["task_id"]) == ("failed", task_id)
    assert shots["lamp"]["message"] == (
        f"RelayDance refused this request's input in task {task_id} "
        "(InputTextSensitiveContentDetected: The request failed because the input text may "
        "contain sensitive information.); it is not sent again unchanged: change the shot, or "
        "pass --force to try it anyway"
    )
    assert summary_of(rerun)["submitted"] == 0
    assert submits(online) == 0


def test_an_unresolved_submit_is_explained_in_plain_sentences(
    tmp_path: Path, online: SimServer, rdpipe_cli: Callable[..., Result]
) -> None:
    """A submit whose answer was lost is reported on the rerun once, without nested ".)" or a
    second "may have been billed", and is not resent."""
    path = write(tmp_path / "film.yaml", pipeline_text({"coast": SHOTS["coast"]}))
    online.faults = Faults(drop_rate=1.0, endpoints=frozenset({"submit"}))
    assert rdpipe_cli("run", str(path)).exit_code == 1
    online.faults = Faults()
    online.clear_observations()
    rerun = rdpipe_cli("run", str(path))
    assert rerun.exit_code == 1
    line = rerun.stdout.splitlines()[-3]  # then what to run next (tests/cli/test_hints_run.py)
    head = (
        "coast: unknown: an earlier submit is unresolved: the submit (POST /v1/video/generations) "
        "was sent but its outcome is unknown ("
    )
    tail = (
        "); a task may have been created and billed. It is not resent: check your RelayDance "
        "dashboard, then rerun with --resubmit-unknown"
    )
    assert line.startswith(head) and line.endswith(tail), line
    assert (".)" not in line, line.count("billed")) == (True, 1)
    assert (
        rerun.stdout.splitlines()[-1]
        == "film: 0 submitted, 0 resumed, 0 reused, 0 failed, 1 unknown"
    )
    assert submits(online) == 0


def test_status_tells_a_clip_being_downloaded_from_a_missing_one(
    tmp_path: Path, online: SimServer, rdpipe_cli: Callable[..., Result]
) -> None:
    """While a run holds the pipeline, a finished task without a clip yet is being downloaded
    by that run; once no run holds it, the clip is missing and the next run downloads it."""
    path = write(tmp_path / "film.yaml", pipeline_text({"coast": SHOTS["coast"]}))
    (row,) = json.loads(rdpipe_cli("status", str(path), "--json").stdout)["shots"]
    paths = StatePaths.for_pipeline(path)
    with StateStore.open(paths.database, pipeline=paths.pipeline, clock=lambda: 1.0) as store:
        intent = store.record_intent(key=row["key"], shot_id="coast", take=1, request=REQUEST)
        store.record_submitted(intent, "task_done")
        store.record_status("task_done", state="succeeded")

    def why() -> tuple[int, str]:
        result = rdpipe_cli("status", str(path), "--json")
        return result.exit_code, json.loads(result.stdout)["shots"][0]["reason"]

    with RunGuard(paths).acquire():
        assert why() == (
            0,
            "task task_done finished; the run in progress is downloading its clip (no new charge)",
        )
    assert why() == (
        0,
        "task task_done finished; its clip is missing, downloading it again (no new charge)",
    )
    assert online.counters() == {}

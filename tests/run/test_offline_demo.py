"""The offline demo survives what a user does to it: edits, Ctrl-C, --force, reruns (issue 10).

Every run is a real ``rdpipe run --offline`` process, so each starts its own simulator, as a
user's runs do: tasks of an earlier run are unknown to it, and its task ids are new.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from rdpipe.request import GenerationRequest
from rdpipe.state import StateStore
from tests.run.conftest import pipeline_text, summary_of, write
from tests.run.conftest_helpers import (
    RunProcess,
    assert_whole_clip,
    clip_files,
    press_ctrl_c,
    probe_video,
    slow_ffmpeg,
    start_offline_run,
    wait_for_status,
)

#: A request as the scheduler journals it.
REQUEST = GenerationRequest("m", "p", "5")
DEMO = Path(__file__).parents[2] / "pipelines" / "lighthouse"
SECONDS = {"coast": 5, "stairs": 4, "lamp": 4, "beam": 5}
#: The first Ctrl-C's notice offline: nothing is paid, and the command submits the rest again.
STOPPING = (
    "stopping: no new submits. The clips made are kept; `rdpipe run {} --offline` submits the "
    "unfinished shots again (offline: free). Press Ctrl-C again to exit at once.\n"
)
RESUBMITTED = re.compile(r"^task task_\w{32} ended with an earlier offline run; submitting again")


def finish(run: RunProcess) -> tuple[int, dict[str, object]]:
    """Wait for a run; return its exit code and its summary, checking it printed no traceback."""
    code = run.wait(timeout=120)
    output = "".join(run.lines) + run.error_text
    assert "Traceback" not in output and "error:" not in output, output
    events = run.events()
    return code, events[-1] if events and "shots" in events[-1] else {}


def statuses(summary: dict[str, object]) -> dict[str, str]:
    shots = summary["shots"]
    assert isinstance(shots, list)
    return {shot["id"]: shot["status"] for shot in shots}


class DecodedOutputs:
    """The clips and video under ``out``, checked to decode whole at their lengths.

    A file whose bytes (SHA-256) were already decoded whole at the same length is not decoded
    again: the same bytes decode the same. What a later run rewrote is decoded afresh.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self._whole: set[tuple[str, float]] = set()

    def check(self) -> None:
        """Every clip decodes whole at its shot's length, and so does the video."""
        clips = clip_files(self.out)
        assert {clip.parent.name for clip in clips} == set(SECONDS)
        for clip in clips:
            self._once(clip, SECONDS[clip.parent.name], assert_whole_clip)
        self._once(self.out / "lighthouse.mp4", sum(SECONDS.values()), _assert_video_length)

    def _once(self, path: Path, seconds: float, check: Callable[[Path, float], None]) -> None:
        seen = (hashlib.sha256(path.read_bytes()).hexdigest(), seconds)
        if seen not in self._whole:
            check(path, seconds)
            self._whole.add(seen)


def _assert_video_length(path: Path, seconds: float) -> None:
    assert abs(probe_video(path).duration - seconds) < 0.2


def start_demo_run(pipeline: Path, *options: str, ffmpeg: Path | None = None) -> RunProcess:
    """:func:`start_offline_run` polling its tasks from 0.05 s on (the simulator's are done in
    a fraction of a second; the offline default of 0.3 s, backing off, adds about 0.5 s a run)."""
    return start_offline_run(pipeline, *options, "--poll-interval", "0.05", ffmpeg=ffmpeg)


def edit(pipeline: Path, old: str, new: str) -> None:
    text = pipeline.read_text(encoding="utf-8")
    assert old in text
    pipeline.write_text(text.replace(old, new), encoding="utf-8")


def test_offline_demo_survives_edit_ctrl_c_and_force(tmp_path: Path) -> None:
    """run, edit, run, Ctrl-C mid-run, run, --force, run: exit 0, 0, 130, 0, 0, 0; no traceback."""
    folder = tmp_path / "lighthouse"
    shutil.copytree(DEMO, folder, ignore=shutil.ignore_patterns("out", ".rdpipe"))
    pipeline = folder / "lighthouse.yaml"
    outputs = DecodedOutputs(folder / "out" / "offline")

    code, summary = finish(start_demo_run(pipeline))
    assert (code, summary["submitted"], set(statuses(summary).values())) == (0, 4, {"done"})
    outputs.check()

    edit(pipeline, "lights the great lamp", "lights the old lamp")
    code, summary = finish(start_demo_run(pipeline))
    assert (code, summary["submitted"], summary["reused"]) == (0, 1, 3)
    assert statuses(summary)["lamp"] == "done"
    outputs.check()

    edit(pipeline, "storm-battered coast", "storm-lashed coast")
    edit(pipeline, "finds a small boat", "finds a lost boat")
    interrupted = start_demo_run(pipeline, ffmpeg=slow_ffmpeg(tmp_path, 1.0))
    wait_for_status(interrupted, "generating")
    press_ctrl_c(interrupted)
    code, summary = finish(interrupted)
    assert (code, summary) == (130, {})
    said = STOPPING.format(pipeline.name)  # run in its folder: `rdpipe run lighthouse.yaml`
    assert interrupted.error_text.endswith(said + "interrupted\n"), interrupted.error_text
    outputs.check()  # what earlier runs made is intact

    resumed = start_demo_run(pipeline)
    code, summary = finish(resumed)
    assert (code, summary["submitted"]) == (0, 2)
    assert statuses(summary) == dict.fromkeys(SECONDS, "done") | {
        "stairs": "cached",
        "lamp": "cached",
    }
    messages = [str(event.get("message", "")) for event in resumed.events()]
    assert any(RESUBMITTED.match(message) for message in messages), messages
    outputs.check()

    code, summary = finish(start_demo_run(pipeline, "--force", "lamp"))
    assert (code, summary["submitted"], statuses(summary)["lamp"]) == (0, 1, "done")
    outputs.check()

    code, summary = finish(start_demo_run(pipeline))
    assert (code, summary["submitted"], summary["reused"]) == (0, 0, 4)
    outputs.check()


def test_offline_a_submit_cut_off_before_its_answer_is_sent_again(
    tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """A submit journaled without an answer (the process was killed mid-POST) blocks an online
    run, but offline submits are free: the next offline run says so and sends it again."""
    pipeline = write(tmp_path / "film.yaml", pipeline_text({"a": "a lighthouse at dawn"}))
    plan = json.loads(rdpipe_cli("plan", str(pipeline), "--json").stdout)
    database = tmp_path / ".rdpipe" / "offline" / "state.db"
    with StateStore.open(database, pipeline="film", clock=time.time) as store:
        store.record_intent(key=plan["shots"][0]["key"], shot_id="a", take=1, request=REQUEST)

    result = rdpipe_cli("run", str(pipeline), "--offline", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        "shot a: a submit was interrupted before its answer was recorded; it is submitted again "
        "(free offline)"
    )
    assert [shot["status"] for shot in summary_of(result)["shots"]] == ["done"]

"""`rdpipe run` from file to video: durations, caching, reruns, edits, budget, state files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import av
import pytest
from click.testing import Result

from rdpipe.sim import SimServer
from tests.run.conftest import pipeline_text, submits, summary_of, write

EXAMPLES = Path(__file__).parents[2] / "pipelines"


def duration_of(path: Path) -> float:
    with av.open(str(path)) as container:
        assert container.duration is not None
        return container.duration / 1_000_000


def stream_kinds(path: Path) -> list[str]:
    with av.open(str(path)) as container:
        return [stream.type for stream in container.streams if stream.type in ("video", "audio")]


@pytest.mark.parametrize("example", ["lighthouse/lighthouse.yaml", "continuity/continuity.yaml"])
def test_examples_run_offline(
    example: str, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """An example runs --offline into a video whose length is the sum of its shots."""
    import shutil

    source = EXAMPLES / example
    folder = tmp_path / source.parent.name
    shutil.copytree(source.parent, folder, ignore=shutil.ignore_patterns("out", ".rdpipe"))
    result = rdpipe_cli("run", str(folder / source.name), "--offline", "--json")
    assert result.exit_code == 0, result.stderr
    summary = summary_of(result)
    plan = json.loads(rdpipe_cli("plan", str(folder / source.name), "--json").stdout)
    expected = sum(int(shot["request"]["seconds"]) for shot in plan["shots"])
    video = folder / summary["output"]  # relative to the pipeline's folder
    assert video.parent == folder / "out" / "offline"
    assert abs(duration_of(video) - expected) < 0.1
    assert [shot["status"] for shot in summary["shots"]] == ["done"] * len(plan["shots"])
    for shot in summary["shots"]:
        assert (folder / shot["clip"]).is_file()
    assert not (folder / f"{source.stem}.rdpipe.lock").exists(), "offline runs write no lock file"


def test_rerun_costs_nothing_and_edit_regenerates_one_shot(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """A rerun makes zero API requests; editing one prompt makes exactly one submit."""
    shots = {"a": "a red kite over dunes", "b": "a blue boat at dawn", "c": "a green field"}
    path = write(tmp_path / "film.yaml", pipeline_text(shots))
    first = rdpipe_cli("run", str(path), "--json")
    assert first.exit_code == 0, first.stderr
    assert submits(online) == 3
    online.clear_observations()

    again = rdpipe_cli("run", str(path), "--json")
    assert again.exit_code == 0, again.stderr
    assert online.counters() == {}
    assert summary_of(again)["reused"] == 3 and summary_of(again)["submitted"] == 0

    write(path, pipeline_text({**shots, "b": "a blue boat at dusk"}))
    edited = rdpipe_cli("run", str(path), "--json")
    assert edited.exit_code == 0, edited.stderr
    assert submits(online) == 1
    summary = summary_of(edited)
    assert [s["cached"] for s in summary["shots"]] == [True, False, True]
    assert len(list((tmp_path / "out" / "clips" / "b").glob("*.mp4"))) == 2, "earlier take kept"


def test_identical_shots_are_generated_once(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """Two shots with the same request in one run cost one submit and share the clip."""
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "same", "b": "same", "c": "other"}))
    result = rdpipe_cli("run", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert submits(online) == 2
    shots = summary_of(result)["shots"]
    assert shots[0]["clip"] == shots[1]["clip"]


def test_force_regenerates_a_chosen_shot(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """--force SHOT submits that shot again even though it is cached; unknown ids exit 2."""
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one", "b": "two"}))
    assert rdpipe_cli("run", str(path)).exit_code == 0
    online.clear_observations()
    assert rdpipe_cli("run", str(path), "--force", "b").exit_code == 0
    assert submits(online) == 1
    bad = rdpipe_cli("run", str(path), "--force", "zzz")
    assert bad.exit_code == 2
    assert "--force zzz: no such shot" in bad.stderr


def test_budget_guard_refuses_before_submitting(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """--max-seconds (or budget: in the file) below the plan's billed seconds sends nothing."""
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one", "b": "two"}))
    result = rdpipe_cli("run", str(path), "--max-seconds", "7")
    assert result.exit_code == 2
    assert "this run would bill 8 s of generation, above the budget of 7 s" in result.stderr
    write(path, pipeline_text({"a": "one", "b": "two"}, extra="budget: 4\n"))
    assert rdpipe_cli("run", str(path)).exit_code == 2
    assert submits(online) == 0


def test_failed_shot_reports_the_server_reason_and_others_go_on(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """A moderated shot fails with the server's reason after its retry; the rest finish; exit 1."""
    from rdpipe.sim import Faults

    online.faults = Faults(task_failure_rate=1.0)
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one"}))
    result = rdpipe_cli("run", str(path), "--json")
    assert result.exit_code == 1
    shot = summary_of(result)["shots"][0]
    assert shot["status"] == "failed"
    assert "OutputVideoSensitiveContentDetected" in shot["message"]
    assert submits(online) == 2, "one submit and one resubmit (retries: 1 by default)"
    assert summary_of(result)["output"] is None

    online.faults = Faults()
    write(path, pipeline_text({"a": "one", "b": "two"}))
    online.clear_observations()
    partial = rdpipe_cli("run", str(path), "--json", "--partial")
    assert partial.exit_code == 0
    assert submits(online) == 2


def test_lock_file_and_manifest(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """The lock file lists each shot's key, task, model and clip hash; secrets appear nowhere."""
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one", "b": "two"}))
    result = rdpipe_cli("run", str(path), "--json")
    assert result.exit_code == 0
    lock = (tmp_path / "film.rdpipe.lock").read_text()
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    for shot in manifest["shots"]:
        assert shot["task_id"] in lock and shot["key"] in lock
        clip = tmp_path / "out" / shot["clip"]
        import hashlib

        assert hashlib.sha256(clip.read_bytes()).hexdigest() in lock
    assert lock.index("- id: a") < lock.index("- id: b")
    before = (tmp_path / "film.rdpipe.lock").read_bytes()
    rdpipe_cli("run", str(path))
    assert (tmp_path / "film.rdpipe.lock").read_bytes() == before, "a no-op rerun changes nothing"
    for artefact in [tmp_path / "film.rdpipe.lock", tmp_path / "out" / "manifest.json"]:
        text = artefact.read_text()
        assert "sk-sim-test" not in text and "signature" not in text


def test_missing_clip_is_downloaded_again_without_paying(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """A deleted clip is fetched again from its paid task: no new submit."""
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one"}))
    summary = summary_of(rdpipe_cli("run", str(path), "--json"))
    (tmp_path / summary["shots"][0]["clip"]).unlink()
    online.clear_observations()
    again = rdpipe_cli("run", str(path), "--json")
    assert again.exit_code == 0, again.stderr
    assert submits(online) == 0
    assert (tmp_path / summary_of(again)["shots"][0]["clip"]).is_file()


def test_status_explains_each_shot(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """status shows cached, failed and to-generate shots with their reasons, sending nothing."""
    from rdpipe.sim import Faults

    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one"}))
    assert rdpipe_cli("run", str(path)).exit_code == 0
    online.faults = Faults(task_failure_rate=1.0)
    write(path, pipeline_text({"a": "one", "b": "two"}))
    assert rdpipe_cli("run", str(path)).exit_code == 1
    write(path, pipeline_text({"a": "one", "b": "two", "c": "three"}))
    online.clear_observations()
    result = rdpipe_cli("status", str(path), "--json")
    assert result.exit_code == 0
    assert online.counters() == {}
    shots = {s["id"]: s for s in json.loads(result.stdout)["shots"]}
    assert shots["a"]["status"] == "cached"
    assert shots["b"]["status"] == "failed"
    assert "OutputVideoSensitiveContentDetected" in shots["b"]["reason"]
    assert shots["c"]["status"] == "to generate"


def test_assemble_rebuilds_from_clips_on_disk(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """assemble rebuilds the video from cached clips without a request; a gap needs --partial."""
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one", "b": "two"}))
    assert rdpipe_cli("run", str(path)).exit_code == 0
    video = tmp_path / "out" / "film.mp4"
    video.unlink()
    online.clear_observations()
    result = rdpipe_cli("assemble", str(path))
    assert result.exit_code == 0, result.stderr
    assert online.counters() == {}
    assert abs(duration_of(video) - 8.0) < 0.1
    write(path, pipeline_text({"a": "one", "b": "two", "c": "new"}))
    gap = rdpipe_cli("assemble", str(path))
    assert gap.exit_code == 1
    assert "no clip yet for c" in gap.stderr
    assert rdpipe_cli("assemble", str(path), "--partial").exit_code == 0

"""Once a run's shots ran, its summary ends the output: ``--json``'s summary object is the last
line of stdout (the README's promise), whether or not a video was built, and whatever stopped
the run after its shots; the error, if any, goes to stderr after it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from rdpipe.sim import Faults, SimServer
from tests.run.conftest import pipeline_text, write

REFUSED = Faults(task_failure_rate=1.0, failure_code="InputTextSensitiveContentDetected")


def _json_lines(result: Result) -> list[dict[str, Any]]:
    """Every stdout line, each a JSON object (nothing else is printed there with --json)."""
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.parametrize("partial", [False, True], ids=["whole", "partial"])
def test_no_finished_shot_still_ends_with_the_summary(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result], partial: bool
) -> None:
    """Every shot refused: with or without --partial, the shot events, then the summary object
    (no video, both failed), exit 1; a note on stderr says why no video was built."""
    online.faults = REFUSED
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one", "b": "two"}))
    options = ("--partial",) if partial else ()

    result = rdpipe_cli("run", str(path), "--json", *options)

    assert result.exit_code == 1, result.stderr
    *events, summary = _json_lines(result)
    assert {event["event"] for event in events} == {"shot"}
    assert (summary["output"], summary["failed"]) == (None, 2)
    assert [shot["status"] for shot in summary["shots"]] == ["failed", "failed"]
    assert "video not built: no " in result.stderr
    assert "error:" not in result.stderr  # failed shots, not an error of the run


def test_partial_with_no_finished_shot_says_so_without_an_error(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """Plain output: the failed shots, the note and the summary line, as without --partial."""
    online.faults = REFUSED
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one"}))

    result = rdpipe_cli("run", str(path), "--partial")

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert (
        "video not built: no shot has a finished take; deal with the reasons above and rerun "
        "(nothing paid for is lost)"
    ) in lines
    assert lines[-1] == "film: 1 submitted, 0 resumed, 0 reused, 1 failed"
    assert result.stderr == ""


def _broken_ffmpeg(folder: Path) -> Path:
    script = folder / "broken-ffmpeg"
    script.write_text("#!/bin/sh\necho 'ffmpeg: broken on purpose' >&2\nexit 1\n")
    script.chmod(0o755)
    return script


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "plain"])
def test_an_assembly_that_fails_after_the_shots_ran_comes_after_the_summary(
    online: SimServer,
    tmp_path: Path,
    rdpipe_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
    as_json: bool,
) -> None:
    """ffmpeg fails joining the clips: the shots are done and paid for, so the summary is
    printed (no video), then the error, exit 1."""
    monkeypatch.setenv("RDPIPE_FFMPEG", str(_broken_ffmpeg(tmp_path)))
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one", "b": "two"}))

    result = rdpipe_cli("run", str(path), *(("--json",) if as_json else ()))

    assert result.exit_code == 1
    assert "error: " in result.stderr and "bug in rdpipe" not in result.stderr, result.stderr
    if as_json:
        *_, summary, error = _json_lines(result)  # the error document comes last
        assert (summary["kind"], error["kind"], error["error"]["exit_code"]) == (
            "run.summary", "error", 1,
        )  # fmt: skip
        assert error["error"]["message"] in result.stderr
        assert (summary["output"], summary["submitted"]) == (None, 2)
        assert [shot["status"] for shot in summary["shots"]] == ["done", "done"]
    else:
        assert result.stdout.splitlines()[-1] == "film: 2 submitted, 0 resumed, 0 reused, 0 failed"

"""What ``rdpipe run`` prints to a pipe: a line per change, none for a cached shot (issue 12).

Each run is a real ``rdpipe run --offline`` process whose stdout is a pipe, so the plain
(non-TTY) reporter is the one in use, exactly as in a log file or a CI job.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.cli_process import PIPELINE, environment, run_rdpipe, write_pipeline

TASK = r"task_\w{32}"
#: A run that generates polls from 0.05 s: the simulator's tasks end in a fraction of a second.
FAST_POLLS = ("--poll-interval", "0.05")


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project after one ``rdpipe run --offline`` of ``PIPELINE`` (exit 0), made once for the
    module; each test reruns a copy of it (:func:`project_after_run`)."""
    root = tmp_path_factory.mktemp("plain-first-run")
    project = root / "project"
    write_pipeline(project)
    env = environment(root / "cache")
    first = run_rdpipe("run", "film.yaml", "--offline", *FAST_POLLS, cwd=project, env=env)
    assert first.returncode == 0, first.stderr
    return project


def project_after_run(first_run: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """This test's copy of the run project, and the environment to rerun it in."""
    project = tmp_path / "project"
    shutil.copytree(first_run, project, symlinks=True)
    return project, environment(tmp_path / "cache")


def test_cached_rerun_prints_one_summary_line(first_run: Path, tmp_path: Path) -> None:
    """A rerun that changes nothing prints exactly the summary line, no line per cached shot."""
    project, env = project_after_run(first_run, tmp_path)

    rerun = run_rdpipe("run", "film.yaml", "--offline", cwd=project, env=env)

    video = project / "out" / "offline" / "film.mp4"
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout == f"film: 0 submitted, 0 resumed, 2 reused, 0 failed -> {video}\n"
    assert rerun.stderr == ""


STEP_LINE = re.compile(r"(normalising|joining): \d+ of \d+ .*")


def test_rerun_prints_only_the_shots_that_changed(first_run: Path, tmp_path: Path) -> None:
    """With one prompt edited, the plan line, that shot's phases and the summary; the cached shot
    is only counted."""
    project, env = project_after_run(first_run, tmp_path)
    write_pipeline(project, PIPELINE.replace("a blue boat", "a green boat"))

    rerun = run_rdpipe("run", "film.yaml", "--offline", *FAST_POLLS, cwd=project, env=env)

    video = project / "out" / "offline" / "film.mp4"
    assert rerun.returncode == 0, rerun.stderr
    expected = [
        re.escape(
            "film: 1 to generate (4 s on the offline simulator, free; at its prices: expected "
            "$0.39, pre-charge $0.39), 1 cached"
        ),
        r"b: submitting",
        rf"b: generating - task {TASK}",
        rf"b: downloading - task {TASK}",
        rf"b: done - task {TASK}",
        re.escape(f"film: 1 submitted, 0 resumed, 1 reused, 0 failed -> {video}"),
    ]
    # A long step (normalising, joining) says how far it is once it has taken a second: on a
    # loaded machine it may, so those lines are left out (tests/cli/test_step_progress.py).
    lines = [line for line in rerun.stdout.splitlines() if not STEP_LINE.fullmatch(line)]
    assert len(lines) == len(expected), rerun.stdout
    for line, pattern in zip(lines, expected, strict=True):
        assert re.fullmatch(pattern, line), (line, pattern)


def test_json_lines_stay_per_shot(first_run: Path, tmp_path: Path) -> None:
    """``--json`` still reports every shot of a cached rerun, one event each, then the summary."""
    project, env = project_after_run(first_run, tmp_path)

    rerun = run_rdpipe("run", "film.yaml", "--offline", "--json", cwd=project, env=env)

    assert rerun.returncode == 0, rerun.stderr
    events = [json.loads(line) for line in rerun.stdout.splitlines()]
    assert [(e["event"], e["id"], e["status"]) for e in events[:-1]] == [
        ("shot", "a", "cached"),
        ("shot", "b", "cached"),
    ]
    assert events[-1]["reused"] == 2


def test_a_rerun_settled_without_the_event_loop_prints_what_the_loop_prints(
    first_run: Path, tmp_path: Path
) -> None:
    """A rerun with nothing to do is settled without an event loop; one whose video must be
    joined again (its stamp removed) goes through the loop. Both print the same bytes, plain and
    ``--json``, exit the same, and leave the same manifest."""
    project, env = project_after_run(first_run, tmp_path)
    output = project / "out" / "offline"

    def rerun(*extra: str, joined_again: bool) -> tuple[int, str, str, dict[str, object]]:
        if joined_again:
            (output / ".cache" / "film.mp4.inputs").unlink()
        (output / "manifest.json").unlink()  # each run writes its own
        done = run_rdpipe("run", "film.yaml", "--offline", *extra, cwd=project, env=env)
        manifest = json.loads((output / "manifest.json").read_text())
        manifest.pop("updated_at")
        return done.returncode, done.stdout, done.stderr, manifest

    for extra in [(), ("--json",)]:
        in_loop = rerun(*extra, joined_again=True)
        settled = rerun(*extra, joined_again=False)
        assert settled == in_loop
        assert settled[0] == 0 and settled[1].count("\n") == (1 if not extra else 3)

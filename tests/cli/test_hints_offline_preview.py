"""After an offline run only, the online `review`, `status` and `cost` name the offline
preview's own command (issue 16), and a pipeline path starting with ``-`` is written so that
the pasted command reads it as a file. Each printed command is run as pasted (``bash -c``),
like ``tests/cli/test_hints_run.py`` does."""

from __future__ import annotations

from pathlib import Path

import pytest

from rdpipe.sim import SimServer
from tests.cli.test_hints_run import FILE, PIPELINE, QUOTED, hints, run_hint, shell


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """``tmp_path`` holding ``my films/film.yaml``, after an offline run of it."""
    (tmp_path / "my films").mkdir()
    (tmp_path / FILE).write_text(PIPELINE, encoding="utf-8")
    ran = shell(f"rdpipe run {QUOTED} --offline", tmp_path)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return tmp_path


def test_review_without_offline_names_the_preview_review(folder: Path, sim: SimServer) -> None:
    """No paid manifest: the error names the run and the preview's review; pasted, the latter
    writes the offline preview's page."""
    review = shell(f"rdpipe review {QUOTED} --no-open", folder, sim)
    assert review.returncode == 2
    assert review.stderr.splitlines() == [
        f"error: {folder}/my films/out/manifest.json: no manifest: this pipeline has not run yet",
        f"Run the pipeline first: `rdpipe run {QUOTED}`, then review it. The offline preview has "
        f"its own takes: `rdpipe review {QUOTED} --offline` reviews them (free).",
    ]
    said = run_hint(f"rdpipe review {QUOTED} --offline --no-open", folder)
    assert said.splitlines() == [f"Wrote {folder}/my films/out/offline/review.html"], said
    assert hints(review)[1] == f"rdpipe review {QUOTED} --offline"


def test_status_without_offline_names_the_preview_status(folder: Path, sim: SimServer) -> None:
    """Both shots to generate online, and a note names the preview's status; pasted, it shows
    both preview clips as cached."""
    status = shell(f"rdpipe status {QUOTED}", folder, sim)
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[-1] == (
        f"no paid clip yet; the offline preview has its own clips: `rdpipe status {QUOTED} "
        "--offline` shows them (free)"
    )
    (line,) = hints(status)
    said = run_hint(line, folder)
    rows = [row.split("│")[1:3] for row in said.splitlines() if row.startswith("│ ")]
    assert [[cell.strip() for cell in row] for row in rows] == [
        ["kite", "cached"], ["boat", "cached"]]  # fmt: skip
    assert hints(shell(f"rdpipe status {QUOTED} --offline", folder)) == []


def test_cost_without_offline_names_the_preview_cost(folder: Path, sim: SimServer) -> None:
    """No paid run: cost says so and names the preview's cost; pasted, it shows the preview's
    two tasks."""
    cost = shell(f"rdpipe cost {QUOTED}", folder, sim)
    assert cost.returncode == 0, cost.stderr
    assert cost.stdout.splitlines()[0] == (
        f"film: no run has submitted anything yet. The offline preview has its own tasks: "
        f"`rdpipe cost {QUOTED} --offline` shows them (free)."
    )
    (line,) = hints(cost)
    said = run_hint(line, folder)
    assert said.splitlines()[0].startswith("Last run ("), said
    shots = [row.split()[0] for row in said.splitlines() if row.strip()[:4] in ("kite", "boat")]
    assert shots == ["kite", "boat"], said


def test_a_pipeline_path_starting_with_a_dash_is_pasted_as_a_file(tmp_path: Path) -> None:
    """`assemble --offline -- -dash/film.yaml` before any run names `rdpipe run
    ./-dash/film.yaml --offline`; pasted, it runs the pipeline (no "No such option")."""
    (tmp_path / "-dash").mkdir()
    (tmp_path / "-dash" / "film.yaml").write_text(PIPELINE, encoding="utf-8")
    before = shell("rdpipe assemble --offline -- -dash/film.yaml", tmp_path)
    assert before.returncode == 1
    assert before.stderr.splitlines() == [
        "error: no clip yet for kite, boat",
        "Run `rdpipe run ./-dash/film.yaml --offline` first (free).",
    ]
    (run,) = hints(before)
    said = run_hint(run, tmp_path)
    assert said.splitlines()[-1] == (
        f"film: 2 submitted, 0 resumed, 0 reused, 0 failed -> {tmp_path}/-dash/out/offline/film.mp4"
    ), said

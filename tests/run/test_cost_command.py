"""``rdpipe cost``'s words where there is no bill to show: a file that is not a pipeline, a
state from before costs were recorded, and the offline previews, which keep no lock file."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from tests.run.conftest import pipeline_text, write


def test_cost_checks_its_file_as_status_does(
    tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """Invalid YAML and a file that is no pipeline: exit 2 with the file:line message."""
    bad = write(tmp_path / "bad.yaml", "a: [\n")
    result = rdpipe_cli("cost", str(bad))
    assert result.exit_code == 2 and result.stdout == ""
    assert "bad.yaml:2:1: invalid YAML: expected the node content" in result.stderr
    status = rdpipe_cli("status", str(bad))
    assert (status.exit_code, status.stderr) == (2, result.stderr)
    clip = write(tmp_path / "clip.mp4", "")
    result = rdpipe_cli("cost", str(clip))
    assert result.exit_code == 2 and "clip.mp4: shots: is required but missing" in result.stderr


def test_cost_usage_names_its_argument_file(rdpipe_cli: Callable[..., Result]) -> None:
    result = rdpipe_cli("cost", "--help")
    assert result.stdout.startswith("Usage: rdpipe cost [OPTIONS] FILE\n"), result.stdout


def test_offline_cost_says_offline_previews_keep_no_lock_file(
    tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "a kite"}))
    result = rdpipe_cli("cost", str(path), "--offline")
    assert (result.exit_code, result.stdout) == (
        0,
        "film: no run has submitted anything yet.\n\n"
        "Offline previews keep no lock file: it holds only paid takes.\n",
    ), result.stderr


def test_offline_cost_json_names_no_lock_file_the_paid_one_names_its_path(
    tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """After an offline run: ``cost --offline --json`` gives ``lock_file: null`` (no such file
    exists), as the text says; ``cost --json`` names where the paid runs' lock file goes."""
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "a kite"}))
    assert rdpipe_cli("run", str(path), "--offline", "--json").exit_code == 0
    offline = rdpipe_cli("cost", str(path), "--offline", "--json")
    assert offline.exit_code == 0, offline.stderr
    assert json.loads(offline.stdout)["lock_file"] is None
    assert not list(tmp_path.glob(".rdpipe/offline/*.rdpipe.lock"))
    paid = rdpipe_cli("cost", str(path), "--json")
    assert paid.exit_code == 0, paid.stderr
    assert json.loads(paid.stdout)["lock_file"] == "film.rdpipe.lock"


def test_a_run_from_before_costs_is_said_so_not_never_run(
    tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """Tasks an older rdpipe sent (no run recorded for them): said to carry no cost, no
    header-only table, and not "no run has submitted anything yet"."""
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "a kite", "b": "a boat"}))
    ran = rdpipe_cli("run", str(path), "--offline", "--json")
    assert ran.exit_code == 0, ran.stderr
    database = tmp_path / ".rdpipe" / "offline" / "state.db"
    with sqlite3.connect(database) as db:  # as an rdpipe before issue 15 left it
        db.execute("UPDATE intents SET run_id = NULL, precharge_quota = NULL")
        db.execute("UPDATE tasks SET settled_quota = NULL")
    db.close()
    result = rdpipe_cli("cost", str(path), "--offline")
    assert (result.exit_code, result.stdout) == (
        0,
        "film: the last run's tasks carry no cost (made before rdpipe recorded costs, or "
        "restored rather than submitted here).\n\n"
        "Offline previews keep no lock file: it holds only paid takes.\n",
    ), result.stderr

"""``rdpipe pick`` refuses a take the file would then refuse.

The first test runs the real CLI process (its exit code and streams as a shell sees them); the
others run the same typer app in-process (:func:`_pick`): pick only edits YAML, and a process
start-up per command would be most of their time.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rdpipe.cli import app
from tests.cli_process import environment, run_rdpipe

ONE_TAKE = """version: 1
name: film
model: doubao-seedance-2-0-480p
defaults: {seconds: 4}
shots:
  - id: arrival
    prompt: a train arrives
  - {id: coast, prompt: the coast, takes: 3}
  - {id: stairs, prompt: stairs, seeds: [7, 8]}
output: {path: out/film.mp4}
"""


def _pipeline(tmp_path: Path) -> Path:
    path = tmp_path / "film.yaml"
    path.write_text(ONE_TAKE, encoding="utf-8")
    return path


@pytest.fixture
def in_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path``, made the current folder (commands name ``film.yaml`` as a user would)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _rdpipe(*args: str) -> tuple[int, str, str]:
    """``rdpipe ARGS`` in-process, in the current folder, 200 columns wide: exit code, stdout,
    stderr."""
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def _pick(*args: str) -> tuple[int, str, str]:
    return _rdpipe("pick", "film.yaml", *args)


def test_a_take_beyond_a_one_take_shot_is_refused_and_the_file_is_untouched(
    tmp_path: Path,
) -> None:
    """`pick FILE arrival 9` on a shot of one take: exit 2, file, shot and range named."""
    pipeline = _pipeline(tmp_path)
    result = run_rdpipe(
        "pick", "film.yaml", "arrival", "9", cwd=tmp_path, env=environment(tmp_path)
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        2,
        "",
        "error: film.yaml: shot 'arrival' has no take 9; it has one take, so the only take is 1\n"
        "Use --clear to go back to the first take that succeeded.\n",
    )
    assert pipeline.read_text(encoding="utf-8") == ONE_TAKE


def test_takes_and_seeds_bound_the_pick(in_folder: Path) -> None:
    """takes: 3 allows 1..3 and seeds: [7, 8] allows 1..2; the valid range is named."""
    pipeline = _pipeline(in_folder)
    code, _, error = _pick("coast", "4")
    assert (code, error.splitlines()[0]) == (
        2,
        "error: film.yaml: shot 'coast' has no take 4; a take is between 1 and 3",
    )
    code, _, error = _pick("stairs", "3")
    assert (code, error.splitlines()[0]) == (
        2,
        "error: film.yaml: shot 'stairs' has no take 3; a take is between 1 and 2",
    )
    assert pipeline.read_text(encoding="utf-8") == ONE_TAKE


def test_a_take_in_range_is_written_and_the_file_still_loads(in_folder: Path) -> None:
    """The highest take of each shot is accepted, and `rdpipe validate` then says OK."""
    pipeline = _pipeline(in_folder)
    for shot, take in (("arrival", "1"), ("coast", "3"), ("stairs", "2")):
        assert _pick(shot, take)[0] == 0
    assert "  - {id: coast, prompt: the coast, takes: 3, pick: 3}\n" in pipeline.read_text()
    assert _rdpipe("validate", "film.yaml")[:2] == (0, "film.yaml: OK (3 shots)\n")


def test_a_take_and_clear_together_are_said_to_exclude_each_other(in_folder: Path) -> None:
    """`pick FILE arrival 1 --clear`: exit 2, says the two exclude each other, file untouched."""
    pipeline = _pipeline(in_folder)
    assert _pick("arrival", "1", "--clear") == (
        2,
        "",
        "error: a take number (1) and --clear exclude each other: give one of them\n"
        "For example: rdpipe pick film.yaml arrival 2 (choose take 2), or "
        "rdpipe pick film.yaml arrival --clear\n",
    )
    assert pipeline.read_text(encoding="utf-8") == ONE_TAKE


def test_takes_set_by_an_included_file_are_not_refused(in_folder: Path) -> None:
    """A shot whose takes come from an included file's defaults: pick cannot count them from
    the main file, so it writes the pick and the file then validates (the load counts them)."""
    (in_folder / "kit.yaml").write_text("defaults: {takes: 3}\n", encoding="utf-8")
    pipeline = in_folder / "film.yaml"
    pipeline.write_text(
        "version: 1\nname: film\ninclude: [kit.yaml]\nmodel: doubao-seedance-2-0-480p\n"
        "shots:\n  - {id: a, prompt: a red kite}\n",
        encoding="utf-8",
    )
    code, _, error = _pick("a", "3")
    assert code == 0, error
    assert "pick: 3" in pipeline.read_text(encoding="utf-8")
    assert _rdpipe("validate", "film.yaml")[:2] == (0, "film.yaml: OK (1 shot)\n")

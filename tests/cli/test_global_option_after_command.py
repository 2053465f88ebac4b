"""rdpipe's own options (-q/--quiet, -v/--verbose, --version) given after the command name:
click's usage error, then one line saying where the option goes, with the command to paste."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tests.cli_process import PIPELINE, environment, run_rdpipe, write_pipeline


@pytest.mark.parametrize("option", ["-q", "-v", "--verbose"])
def test_a_global_option_after_the_command_says_where_it_goes(tmp_path: Path, option: str) -> None:
    """Exit 2; stderr is click's usage error and the line with the option moved, the file's
    name shell-quoted; nothing on stdout."""
    (tmp_path / "my film.yaml").write_text(PIPELINE, encoding="utf-8")
    result = run_rdpipe(
        "run", "my film.yaml", "--offline", option, cwd=tmp_path, env=environment(tmp_path)
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "Usage: rdpipe run [OPTIONS] FILE\n"
        "Try 'rdpipe run -h' for help.\n"
        "\n"
        f"Error: No such option: {option}\n"
        f"{option} is an option of rdpipe itself: put it before the command, as in "
        f"`rdpipe {option} run 'my film.yaml' --offline`\n"
    )


def test_the_suggested_command_runs(tmp_path: Path) -> None:
    """The command between the backquotes, pasted into a shell, runs the pipeline quietly."""
    write_pipeline(tmp_path)
    env = environment(tmp_path)
    refused = run_rdpipe("run", "film.yaml", "--offline", "-q", cwd=tmp_path, env=env)
    assert refused.returncode == 2
    suggested = shlex.split(refused.stderr.rstrip("\n").rsplit("`", 2)[1])
    assert suggested == ["rdpipe", "-q", "run", "film.yaml", "--offline"]
    result = run_rdpipe(*suggested[1:], cwd=tmp_path, env=env)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (
        f"film: 2 submitted, 0 resumed, 0 reused, 0 failed -> {tmp_path}/out/offline/film.mp4\n"
    )


def test_an_option_of_the_command_itself_gets_no_such_line(tmp_path: Path) -> None:
    """An unknown option that is not rdpipe's own: click's error alone."""
    write_pipeline(tmp_path)
    result = run_rdpipe("validate", "film.yaml", "-z", cwd=tmp_path, env=environment(tmp_path))
    assert result.returncode == 2
    assert result.stderr.endswith("\nError: No such option: -z\n")

"""`rdpipe run FILE` online without a usable RELAYDANCE_API_KEY (the step after `rdpipe init`)
stops with the key's paragraph alone, exit 2, before any read of prices or models, any note or
plan line, and before any request reaches a server (the simulator counts them)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from rdpipe.sim import SimServer
from tests.cli_process import PIPELINE, environment, rdpipe_command
from tests.conftest import SIM_API_KEY


def _run(
    folder: Path, sim: SimServer, key: str | None, *options: str
) -> subprocess.CompletedProcess[str]:
    keyed = {} if key is None else {"RELAYDANCE_API_KEY": key}
    env = environment(folder / ".cache", {"RELAYDANCE_BASE_URL": sim.base_url, **keyed,
                                         "NO_COLOR": "1", "COLUMNS": "200"})  # fmt: skip
    return subprocess.run(
        rdpipe_command("run", "film.yaml", *options), cwd=folder, env=env, capture_output=True,
        text=True, timeout=180,
    )  # fmt: skip


def test_no_key_is_said_first_and_nothing_is_sent(tmp_path: Path, sim: SimServer) -> None:
    (tmp_path / "film.yaml").write_text(PIPELINE, encoding="utf-8")
    result = _run(tmp_path, sim, None)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: RELAYDANCE_API_KEY is not set, so rdpipe cannot talk to RelayDance.",
        "Set it in your shell (export RELAYDANCE_API_KEY=sk-...), or run with --offline to use "
        "the built-in simulator.",
    ]
    assert sim.requests() == []


def test_a_key_with_a_space_is_refused_before_any_read(tmp_path: Path, sim: SimServer) -> None:
    (tmp_path / "film.yaml").write_text(PIPELINE, encoding="utf-8")
    result = _run(tmp_path, sim, "sk-abc def")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[0] == (
        "error: RELAYDANCE_API_KEY is not a usable API key: it contains a space at character 7. "
        "An API key is one word of printable ASCII characters (keys look like sk-...); nothing "
        "was sent, and the key is not shown here."
    )
    assert sim.requests() == []


def test_a_rerun_with_nothing_to_send_needs_no_key(tmp_path: Path, sim: SimServer) -> None:
    """Once every clip is made, a rerun without the key sends nothing and ends as before."""
    (tmp_path / "film.yaml").write_text(PIPELINE, encoding="utf-8")
    first = _run(tmp_path, sim, SIM_API_KEY, "--poll-interval", "0.05")  # not 7.5 s
    assert first.returncode == 0, first.stderr
    sim.clear_observations()
    again = _run(tmp_path, sim, None)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1] == (
        f"film: 0 submitted, 0 resumed, 2 reused, 0 failed -> {tmp_path}/out/film.mp4"
    )
    assert sim.requests() == []

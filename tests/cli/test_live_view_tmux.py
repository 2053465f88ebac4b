"""The live view of a 40-shot run in a real 80x24 terminal (tmux): the overall bar and the
counts stay on screen while more shots are in flight than rows, and the join shows its step."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli_process import environment, rdpipe_command, write_pipeline

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

SHOTS = "\n".join(f"  - {{id: s{index:02d}, prompt: shot {index} of a long film}}"
                  for index in range(40))  # fmt: skip
FILM = f"""version: 1
name: film
model: doubao-seedance-2-0-480p
defaults: {{seconds: 4, ratio: '16:9'}}
shots:
{SHOTS}
output: {{path: out/film.mp4}}
"""


def test_a_40_shot_run_keeps_its_header_in_an_80x24_terminal(tmp_path: Path) -> None:
    folder = tmp_path / "work"
    write_pipeline(folder, FILM)
    env = environment(tmp_path / "cache")
    command = " ".join(shlex.quote(part) for part in rdpipe_command(
        "run", "film.yaml", "--offline", "-j", "40"))  # fmt: skip
    session = f"rdpipe-{tmp_path.name}"[:40]
    exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items()
                       if name in ("XDG_CACHE_HOME", "PATH", "HOME"))  # fmt: skip
    script = f"cd {shlex.quote(str(folder))} && env {exports} {command}; sleep 60"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", script],
                   check=True)  # fmt: skip
    screens: list[list[str]] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            shown = subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                                   capture_output=True, text=True, check=True).stdout  # fmt: skip
            screens.append(shown.splitlines())
            if "film: 40 submitted" in shown:
                break
            time.sleep(0.3)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)
    crowded = [screen for screen in screens if any(re.fullmatch(r"\+\d+ more in flight", line)
                                                   for line in screen)]  # fmt: skip
    assert crowded, "\n".join(screens[-1])
    for screen in crowded:
        bar = [index for index, line in enumerate(screen) if re.match(r"shots [━─]+ \d+/40 ", line)]
        assert bar, "\n".join(screen)
        counts = re.fullmatch(
            r"\d+ done · \d+ reused · \d+ failed · (\d+) running"
            r"(?: · \d+ downloading)? · \d+ waiting",
            screen[bar[0] + 1],
        )
        assert counts and int(counts[1]) <= 40, screen[bar[0] + 1]  # never above -j
        assert screen[bar[0] + 2].split() == ["shot", "state", "elapsed", "progress", "task", "/",
                                              "note"]  # fmt: skip
        assert len(screen) <= 24 and not any(line.rstrip().endswith("...") for line in screen)
    assert any(line.startswith("film: 40 submitted") for line in screens[-1])

"""On an 80-column terminal rdpipe's notes, advice and summary break between words, never
inside one (a terminal left alone cuts "fi / nals" and "tra / iler.draft.mp4"); a path wider
than the line is left for the terminal to break; a pipe gets each message on one line."""

from __future__ import annotations

import io
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from rdpipe.cli.context import _console
from tests.cli.test_step_progress import _on_a_terminal
from tests.cli_process import environment, rdpipe_command, write_pipeline

#: One drafted shot, and a vertical cut that regenerates it: a drafts run reframes it instead
#: and says so, then says how to pick, then names both videos.
FILM = """version: 1
name: film
model: doubao-seedance-2-0-720p
defaults: {seconds: 4, ratio: '16:9', draft: true}
shots:
  - {id: harbour, prompt: a harbour at dawn}
outputs:
  - {name: master, size: 640x360, contact_sheet: false}
  - {name: vertical, size: 360x640, aspect: regenerate, contact_sheet: false}
"""


@pytest.fixture
def short_folder() -> Iterator[Path]:
    """A folder whose path is always 14 characters long (/tmp/ and 9 more), so the lines
    naming it are the same on every machine."""
    folder = Path(tempfile.mkdtemp(prefix="w", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_drafts_run_breaks_its_notes_between_words(short_folder: Path, tmp_path: Path) -> None:
    """The exact lines after the run's progress, at 80 columns: the reframing note, the pick
    advice and the summary each break at a space, the paths whole on their own lines."""
    write_pipeline(short_folder, FILM)
    env = {**environment(tmp_path / "cache"), "COLUMNS": "80", "LINES": "24", "TERM": "xterm"}
    screen = _on_a_terminal(rdpipe_command("run", "film.yaml", "--offline", "--drafts"),
                            short_folder, env)  # fmt: skip
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen).replace("\r", "")
    lines = plain.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("vertical: harbour"))
    out = short_folder / "out" / "offline"
    assert lines[start:] == [
        "vertical: harbour has no clip regenerated at 9:16 yet (it is generated with the",
        "finals): reframed instead",
        "harbour awaits a pick of its draft takes: `rdpipe review film.yaml --offline`",
        "shows them.",
        "`rdpipe pick film.yaml harbour 1` picks the only draft take of harbour.",
        "Then `rdpipe run film.yaml --offline` renders the finals.",
        "film: 1 submitted, 0 resumed, 0 reused, 0 failed ->",
        f"{out / 'master.draft.mp4'},",
        f"{out / 'vertical.draft.mp4'}",
        "",
    ]
    assert all(len(line) <= 80 for line in lines[start:])


def _printed(text: str, *, terminal: bool) -> str:
    stream = io.StringIO()
    environ = {"COLUMNS": "40", **({"TTY_COMPATIBLE": "1"} if terminal else {})}
    _console(stream, environ).print(text, style="yellow")
    return re.sub(r"\x1b\[[0-9;]*m", "", stream.getvalue())


def test_a_terminal_line_breaks_at_spaces_and_leaves_a_long_path_whole() -> None:
    """At 40 columns a sentence breaks before the word that would cross the edge; a path
    wider than the line stays after its word (the terminal breaks it), and the words after
    it go on from the column the terminal leaves them at."""
    path = "/srv/films/" + "x" * 40 + ".mp4"  # 55 characters
    text = f"the cut is written beside its timeline file: {path} and its captions go there too"
    assert _printed(text, terminal=True) == (
        f"the cut is written beside its timeline\nfile: {path} and its captions\ngo there too\n"
    )


def test_a_pipe_gets_each_message_on_one_line() -> None:
    """Written to a pipe the same text is one line, however narrow COLUMNS says it is."""
    text = "a sentence of more than forty characters, said on a single line"
    assert _printed(text, terminal=False) == text + "\n"

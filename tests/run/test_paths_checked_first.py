"""A run checks every path it will write before it sends anything (issue: files in the way found
only after paying).

A file where a folder of the run goes (a shot's clip folder, ``clips/``, ``.cache/``) or a
folder where one of its files goes (caption files, the contact sheet, the manifest...) used to
be found after every shot was submitted and paid for, sometimes as a "bug in rdpipe" crash; now
the run stops first, exit 2, naming the path, with nothing sent.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from rdpipe.prepare.pipeline import prepare_pipeline
from rdpipe.session.workspace import Workspace
from rdpipe.sim import SimServer
from tests.run.conftest import submits, write

CAPTIONED = """version: 1
name: film
model: doubao-seedance-2-0-480p
defaults: {seconds: 4, ratio: '16:9'}
shots:
  - {id: coast, prompt: a stormy coast, caption: The coast.}
  - {id: lamp, prompt: a lamp being lit, caption: The lamp., takes: 2}
output: {path: out/film.mp4}
"""
NOTHING_SENT = "then run the same command again; nothing was sent.\n"
FILE_IN_THE_WAY = (
    "a file is in the way of a folder on that path. Remove or rename the file that stands where "
    "a folder should be"
)
FOLDER_IN_THE_WAY = "a folder is in the way of the file. Remove or rename that folder"


@pytest.mark.parametrize(
    ("in_the_way", "kind"),
    [
        ("out/clips/coast", "file"),  # a shot's clip folder: was a FileExistsError crash
        ("out/clips/lamp", "file"),
        ("out/clips", "file"),
        ("out/.cache", "file"),
        ("out", "file"),
        (".rdpipe", "file"),
        ("out/film.srt", "folder"),
        ("out/film.vtt", "folder"),
        ("out/film.contact.png", "folder"),
        ("out/manifest.json", "folder"),
        ("out/film.mp4", "folder"),
        ("film.rdpipe.lock", "folder"),
    ],
)
def test_a_path_in_the_way_stops_the_run_before_anything_is_sent(
    online: SimServer,
    tmp_path: Path,
    rdpipe_cli: Callable[..., Result],
    in_the_way: str,
    kind: str,
) -> None:
    """Exit 2 and one paragraph naming the path, no submit (it used to be 4 paid submits)."""
    path = write(tmp_path / "film.yaml", CAPTIONED)
    target = tmp_path / in_the_way
    if kind == "file":
        write(target, "in the way")
    else:
        target.mkdir(parents=True)

    result = rdpipe_cli("run", str(path))

    cause = FILE_IN_THE_WAY if kind == "file" else FOLDER_IN_THE_WAY
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"error: rdpipe cannot write {target}: {cause}, {NOTHING_SENT}"
    assert submits(online) == 0


@pytest.mark.parametrize(
    "not_written", ["out/film.srt", "out/film.contact.png"], ids=["no captions", "no sheet"]
)
def test_a_folder_where_nothing_is_written_does_not_stop_the_run(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result], not_written: str
) -> None:
    """Only what the output spec asks for is checked: without captions a folder named like
    the .srt file, with ``contact_sheet: false`` one named like the sheet, is left alone."""
    text = CAPTIONED
    if not_written.endswith(".srt"):
        text = text.replace(", caption: The coast.", "").replace(", caption: The lamp.", "")
    else:
        text = text.replace("output: {path: out/film.mp4}", "output: {path: out/film.mp4, "
                            "contact_sheet: false}")  # fmt: skip
    path = write(tmp_path / "film.yaml", text)
    (tmp_path / not_written).mkdir(parents=True)

    result = rdpipe_cli("run", str(path))

    assert result.exit_code == 0, result.stderr
    assert (tmp_path / not_written).is_dir()


def test_every_path_a_run_writes_is_one_it_checked(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """After a whole run (captions, a contact sheet, two takes), everything it made is a file
    the check names, a folder it names (or one above it), or lies directly in such a folder:
    a new output added later without its check fails here. The relay's price list is not
    kept on disk (session.pricing): no ``pricing/`` folder appears."""
    path = write(tmp_path / "film.yaml", CAPTIONED)
    before = set(tmp_path.rglob("*"))
    assert rdpipe_cli("run", str(path)).exit_code == 0

    prepared = prepare_pipeline(path)
    workspace = Workspace.for_pipeline(prepared.loaded, offline=False)
    folders = set(workspace.written_folders(prepared))
    files = set(workspace.written_files(prepared))
    above = {parent for folder in folders for parent in folder.parents}
    made = set(tmp_path.rglob("*")) - before
    assert not (workspace.state.state_dir / "pricing").exists()
    unchecked = [
        made_path
        for made_path in sorted(made)
        if not (
            made_path in files
            or made_path in folders
            or made_path in above
            or made_path.parent in folders
        )
    ]
    assert unchecked == []
    assert {p for p in files if not p.exists()} == set(), "each file checked was written"

"""``rdpipe pick`` edits the file a shot is written in: an included file, the target of a
symbolic link; a missing file is said to be missing. Run as a user runs it, from the folder."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rdpipe.cli import app
from rdpipe.hints import Invocation
from rdpipe.yaml_edit import read_picks

MAIN = """\
version: 1
name: inc
include: [kit/shots.yaml]
model: doubao-seedance-2-0-480p
defaults: {seconds: 4, takes: 3}
shots:
  - {id: own, prompt: "written in main"}
output:
  path: out/inc.mp4
"""
KIT = """\
# the kit's shots
shots:
  - id: included   # from the kit
    prompt: "a shot from the kit"
"""


def invoke(*args: str) -> tuple[int, str]:
    """Run rdpipe with ``args``; the exit code and everything it printed."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """main.yaml including kit/shots.yaml, as the working directory."""
    (tmp_path / "kit").mkdir()
    (tmp_path / "main.yaml").write_text(MAIN, encoding="utf-8")
    (tmp_path / "kit" / "shots.yaml").write_text(KIT, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_shot_from_an_included_file_is_picked_in_that_file(folder: Path) -> None:
    """`pick main.yaml included 3` writes pick: 3 in kit/shots.yaml (the defaults' takes: 3 of
    main.yaml bound it), says which file, and leaves main.yaml alone; read_picks sees it."""
    code, output = invoke("pick", "main.yaml", "included", "3")
    assert code == 0, output
    assert output == (
        "included: take 3 (was the first take that succeeded) in kit/shots.yaml "
        "(included by main.yaml)\n"
        "Nothing is regenerated. No video was made yet: run `rdpipe run main.yaml` to make it "
        "with this pick.\n"
    )
    assert (folder / "kit" / "shots.yaml").read_text() == KIT.replace(
        '    prompt: "a shot from the kit"\n',
        '    prompt: "a shot from the kit"\n    pick: 3\n',
    )
    assert (folder / "main.yaml").read_text() == MAIN
    assert read_picks(Path("main.yaml")) == {"included": 3, "own": None}
    code, output = invoke("pick", "main.yaml", "included", "4")
    assert code == 2
    assert "kit/shots.yaml: shot 'included' has no take 4; a take is between 1 and 3" in output


def test_an_unknown_shot_names_the_file_and_its_includes(folder: Path) -> None:
    """An id in neither file: exit 2, both files named."""
    code, output = invoke("pick", "main.yaml", "nope", "1")
    assert code == 2
    assert output.startswith(
        "error: main.yaml: no shot with id 'nope' in this file nor in the files it includes "
        "(kit/shots.yaml)\n"
    )


def test_a_symlinked_pipeline_file_stays_a_link_and_its_target_is_edited(folder: Path) -> None:
    """Through link.yaml -> main.yaml: the link is still a link, main.yaml has the pick."""
    os.symlink("main.yaml", folder / "link.yaml")
    code, output = invoke("pick", "link.yaml", "own", "2")
    assert code == 0, output
    assert (folder / "link.yaml").is_symlink()
    assert os.readlink(folder / "link.yaml") == "main.yaml"
    assert (folder / "main.yaml").read_text() == MAIN.replace(
        '"written in main"}', '"written in main", pick: 2}'
    )


def test_a_missing_file_is_said_to_be_missing(folder: Path) -> None:
    """No "fix the file" for a file that is not there: exit 2, one paragraph."""
    code, output = invoke("pick", "gone.yaml", "own", "1")
    assert code == 2
    assert output == (
        "error: gone.yaml: no such file: cannot set a pick in a file that does not exist\n"
        "Check the path of the pipeline file (it is relative to the current folder).\n"
    )


def test_a_command_for_a_path_through_a_symlinked_folder_works_when_pasted(
    folder: Path,
) -> None:
    """`outlink/../main.yaml` where outlink -> deep/down is deep/main.yaml to the kernel; the
    lexical `main.yaml` is another file. The command names deep/main.yaml and, pasted, edits it."""
    (folder / "deep" / "down").mkdir(parents=True)
    (folder / "deep" / "main.yaml").write_text(MAIN.replace("kit/", "../kit/"), encoding="utf-8")
    os.symlink("deep/down", folder / "outlink")
    given = Path("outlink/../main.yaml")  # physically deep/main.yaml
    command = Invocation.start(given).command("pick", "own", "2")
    assert command == "rdpipe pick deep/main.yaml own 2"
    code, output = invoke(*shlex.split(command)[1:])
    assert code == 0, output
    assert "pick: 2" in (folder / "deep" / "main.yaml").read_text()
    assert (folder / "main.yaml").read_text() == MAIN


def test_a_pick_in_the_included_file_itself_does_not_suggest_running_it(folder: Path) -> None:
    """`pick kit/shots.yaml included 2`: written there; the file is no pipeline on its own, so
    the hint does not say to run it (that fails) but to go through the pipeline including it."""
    code, output = invoke("pick", "kit/shots.yaml", "included", "1")
    assert code == 0, output
    assert output == (
        "included: take 1 (was the first take that succeeded) in kit/shots.yaml\n"
        "Nothing is regenerated. kit/shots.yaml does not load as a pipeline on its own "
        "(`rdpipe validate kit/shots.yaml` says why): if another pipeline includes it, assemble "
        "or run that one, or pick through it (`rdpipe pick MAIN.yaml SHOT TAKE` edits the "
        "included file).\n"
    )

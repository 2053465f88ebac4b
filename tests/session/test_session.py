"""The session as status and a run open it: a plan read without writing, and paths refused early."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from rdpipe.plan import Action
from rdpipe.prepare.pipeline import prepare_pipeline
from rdpipe.session.session import UnknownShot, read_plan
from rdpipe.session.settings import RunSettings
from rdpipe.session.workspace import Workspace
from tests.cli_process import PIPELINE, write_pipeline


def test_before_any_run_the_plan_generates_every_shot_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    """read_plan (status) on a pipeline never run: every shot to generate, no file created."""
    path = write_pipeline(tmp_path)
    before = sorted(tmp_path.rglob("*"))

    plan = read_plan(prepare_pipeline(path), RunSettings())

    assert [(job.shot.id, job.action) for job in plan.jobs] == [
        ("a", Action.GENERATE),
        ("b", Action.GENERATE),
    ]
    assert sorted(tmp_path.rglob("*")) == before


def test_forcing_a_shot_the_pipeline_lacks_names_the_shots_it_has(tmp_path: Path) -> None:
    """--force with an unknown id is refused with the list of ids, before any state is read."""
    prepared = prepare_pipeline(write_pipeline(tmp_path))

    with pytest.raises(UnknownShot, match="--force zzz: no such shot; the shots are a, b"):
        read_plan(prepared, RunSettings(force=("zzz",)))


def test_forcing_an_unknown_shot_names_each_shot_once_whatever_its_takes(tmp_path: Path) -> None:
    """Shots of three and two takes are each named once (not "a, a, a, b, b")."""
    text = PIPELINE.replace("prompt: a red kite}", "prompt: a red kite, takes: 3}").replace(
        "prompt: a blue boat}", "prompt: a blue boat, takes: 2}"
    )
    prepared = prepare_pipeline(write_pipeline(tmp_path, text))
    assert len(prepared.shots) == 5

    with pytest.raises(UnknownShot) as raised:
        read_plan(prepared, RunSettings(force=("zzz",)))

    assert str(raised.value) == "--force zzz: no such shot; the shots are a, b"


def test_a_folder_where_the_manifest_goes_is_the_error_writing_it_would_be(
    tmp_path: Path,
) -> None:
    """check_writable raises EISDIR naming the manifest's path, as the late write would."""
    prepared = prepare_pipeline(write_pipeline(tmp_path))
    workspace = Workspace.for_pipeline(prepared.loaded, offline=True)
    workspace.manifest.mkdir(parents=True)

    with pytest.raises(IsADirectoryError) as raised:
        workspace.check_writable(prepared)

    assert (raised.value.errno, raised.value.filename) == (errno.EISDIR, str(workspace.manifest))


def test_a_file_where_the_output_folder_goes_is_refused(tmp_path: Path) -> None:
    """A file in the way of ``out/``: ENOTDIR naming the output folder."""
    prepared = prepare_pipeline(write_pipeline(tmp_path))
    workspace = Workspace.for_pipeline(prepared.loaded, offline=False)
    workspace.output_dir.write_text("not a folder", encoding="utf-8")

    with pytest.raises(NotADirectoryError) as raised:
        workspace.check_writable(prepared)

    assert raised.value.filename == str(workspace.output_dir)

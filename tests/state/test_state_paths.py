"""Where a pipeline's state files live, and the state directory's .gitignore."""

from __future__ import annotations

from pathlib import Path

from rdpipe.state import StatePaths, prepare_state_dir


def test_state_files_of_a_pipeline(tmp_path: Path) -> None:
    """A pipeline file's state sits in .rdpipe beside it; its lock file sits beside it too."""
    paths = StatePaths.for_pipeline(tmp_path / "lighthouse.yaml")
    assert paths == StatePaths(
        pipeline="lighthouse",
        state_dir=tmp_path / ".rdpipe",
        database=tmp_path / ".rdpipe" / "state.db",
        run_lock=tmp_path / ".rdpipe" / "lighthouse.run.lock",
        lock_file=tmp_path / "lighthouse.rdpipe.lock",
    )


def test_offline_previews_keep_their_state_apart(tmp_path: Path) -> None:
    """An offline preview's state, guard and lock file sit in .rdpipe/offline, never beside the
    paid run's."""
    offline = tmp_path / ".rdpipe" / "offline"
    paths = StatePaths.for_pipeline(tmp_path / "lighthouse.yaml", offline=True)
    assert paths == StatePaths(
        pipeline="lighthouse",
        state_dir=offline,
        database=offline / "state.db",
        run_lock=offline / "lighthouse.run.lock",
        lock_file=offline / "lighthouse.rdpipe.lock",
    )


def test_state_dir_is_ignored_by_git(tmp_path: Path) -> None:
    """The state directory gets a .gitignore of '*', and a user's edit to it is kept."""
    state_dir = tmp_path / ".rdpipe"
    prepare_state_dir(state_dir)
    ignore = state_dir / ".gitignore"
    assert ignore.read_text().splitlines()[-1] == "*"
    ignore.write_text("*\n!keep\n")
    prepare_state_dir(state_dir)
    assert ignore.read_text() == "*\n!keep\n"

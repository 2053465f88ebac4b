"""Where a pipeline's state lives: ``<pipeline dir>/.rdpipe/``, shared by the pipelines there."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rdpipe.files import make_ignored_folder, write_atomically

STATE_DIR_NAME = ".rdpipe"
#: The folder of caches in a pipeline's output directory (clip digests, media verdicts, the
#: assembly's probes and pieces).
CACHE_DIR_NAME = ".cache"
_STATE_NOTE = "rdpipe run state: local to this machine."


@dataclass(frozen=True)
class StatePaths:
    """The state files of one pipeline file ``<dir>/<name>.yaml``; ``pipeline`` is ``<name>``.

    ``run_lock`` is the run guard's file (:class:`~._guard.RunGuard`), ``lock_file`` the
    committed lock file beside the pipeline file.
    """

    pipeline: str
    state_dir: Path
    database: Path
    run_lock: Path
    lock_file: Path

    @classmethod
    def for_pipeline(cls, pipeline_file: Path, *, offline: bool = False) -> StatePaths:
        """The state of ``pipeline_file``; ``offline`` previews keep theirs apart, lock file
        included, in ``.rdpipe/offline/`` (their clips are not the paid ones)."""
        state_dir = pipeline_file.parent / STATE_DIR_NAME
        if offline:
            state_dir = state_dir / "offline"
        name = pipeline_file.stem
        return cls(
            pipeline=name,
            state_dir=state_dir,
            database=state_dir / "state.db",
            run_lock=state_dir / f"{name}.run.lock",
            lock_file=(state_dir if offline else pipeline_file.parent) / f"{name}.rdpipe.lock",
        )


def prepare_state_dir(state_dir: Path) -> None:
    """Create the state directory with a ``.gitignore`` of ``*``, so git never picks it up.

    Unlike the output folders (:func:`~rdpipe.files.make_ignored_folder`), the state folder is
    rdpipe's whatever made it: its ``.gitignore`` comes back when it is missing, and one the
    user edited is kept.
    """
    if make_ignored_folder(state_dir, note=_STATE_NOTE):
        return
    gitignore = state_dir / ".gitignore"
    if not gitignore.exists():
        write_atomically(gitignore, f"# {_STATE_NOTE}\n*\n".encode())

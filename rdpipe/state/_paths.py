"""Where a pipeline's state lives: ``<pipeline dir>/.rdpipe/``, shared by the pipelines there."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rdpipe.files import write_atomically

STATE_DIR_NAME = ".rdpipe"


@dataclass(frozen=True)
class StatePaths:
    """The state files of one pipeline file ``<dir>/<name>.yaml``; ``pipeline`` is ``<name>``."""

    pipeline: str
    state_dir: Path
    database: Path
    run_lock: Path
    lock_file: Path

    @classmethod
    def for_pipeline(cls, pipeline_file: Path) -> StatePaths:
        state_dir = pipeline_file.parent / STATE_DIR_NAME
        name = pipeline_file.stem
        return cls(
            pipeline=name,
            state_dir=state_dir,
            database=state_dir / "state.db",
            run_lock=state_dir / f"{name}.run.lock",
            lock_file=pipeline_file.with_name(f"{name}.rdpipe.lock"),
        )


def prepare_state_dir(state_dir: Path) -> None:
    """Create the state directory with a ``.gitignore`` of ``*``, so git never picks it up."""
    state_dir.mkdir(parents=True, exist_ok=True)
    gitignore = state_dir / ".gitignore"
    if not gitignore.exists():
        write_atomically(gitignore, b"# rdpipe run state: local to this machine.\n*\n")

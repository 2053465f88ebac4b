"""Where one pipeline's run writes: its outputs, its clips and its state.

Offline previews never mix with paid clips: they live in ``<output dir>/offline/`` with a
separate state database, and write no lock file.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rdpipe.files import on_read_only_filesystem
from rdpipe.model.output import contact_sheet_path
from rdpipe.state import CACHE_DIR_NAME, StatePaths

if TYPE_CHECKING:
    from rdpipe.load.loader import LoadedPipeline


@dataclass(frozen=True)
class Workspace:
    """The paths of one pipeline's run (``video`` is the storyboard video), online or offline."""

    output_dir: Path
    video: Path
    state: StatePaths
    offline: bool

    @classmethod
    def for_pipeline(cls, loaded: LoadedPipeline, *, offline: bool) -> Workspace:
        path = loaded.path
        relative = Path(loaded.pipeline.output.path)
        output_dir = (path.parent / relative).parent
        if offline:
            output_dir = output_dir / "offline"
        state = StatePaths.for_pipeline(path, offline=offline)
        return cls(output_dir, output_dir / relative.name, state, offline)

    @property
    def manifest(self) -> Path:
        return self.output_dir / "manifest.json"

    @property
    def cache_dir(self) -> Path:
        """The caches of the clip store and the assembly (the store's ``cache_dir`` too)."""
        return self.output_dir / CACHE_DIR_NAME

    @property
    def contact_sheet(self) -> Path:
        """Where the assembly writes the video's contact sheet, when it writes one."""
        return contact_sheet_path(self.video)

    def check_writable(self) -> None:
        """Refuse a run now, before anything is sent (and before the state folder is made),
        when a write it makes would fail.

        The run makes the state folder and the output folder and writes in them; it writes
        the lock file, the manifest and the video last. A file at one of those folders or
        above it, a folder where one of those files goes, or a folder this user cannot write
        or make raises the :class:`OSError` the write would raise (``ENOTDIR`` naming the file
        in the way, ``EISDIR`` naming the folder, ``EROFS`` or ``EACCES`` naming the folder
        that cannot be made or written in); the CLI says it in one paragraph.
        """
        for folder in (self.state.state_dir, self.state.lock_file.parent, self.output_dir):
            _check_folder(folder)
        for path in (self.state.lock_file, self.manifest, self.video):
            if path.is_dir():
                raise _os_error(errno.EISDIR, path)


def _check_folder(folder: Path) -> None:
    """Raise the :class:`OSError` that making ``folder`` (and its parents), or writing in it,
    would raise: ``ENOTDIR`` for a file (or a dangling link) at it or above it, ``EACCES`` or
    ``EROFS`` for a folder it would be made in, or that it is, that cannot be written."""
    for path in (*reversed(folder.parents), folder):
        if not os.path.lexists(path):
            _check_can_write(path.parent, naming=path)  # mkdir would fail making ``path``
            return
        if not path.is_dir():
            raise _os_error(errno.ENOTDIR, path)
    _check_can_write(folder, naming=folder)


def _check_can_write(folder: Path, *, naming: Path) -> None:
    if not os.access(folder, os.W_OK | os.X_OK):
        code = errno.EROFS if on_read_only_filesystem(folder) else errno.EACCES
        raise _os_error(code, naming)


def _os_error(code: int, path: Path) -> OSError:
    """The error the system gives for ``code`` at ``path`` (``OSError`` picks the subclass)."""
    return OSError(code, os.strerror(code), str(path))

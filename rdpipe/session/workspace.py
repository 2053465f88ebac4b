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
        """Refuse a run now, before anything is sent, when its last writes would fail.

        The lock file, the manifest and the video are written last. A folder where one of
        them goes, or an output folder this user cannot write, raises the :class:`OSError`
        that writing would raise (``EISDIR``, ``ENOTDIR``, ``EROFS`` or ``EACCES``, naming the
        path); the CLI says it in one paragraph.
        """
        for path in (self.state.lock_file, self.manifest, self.video):
            if path.is_dir():
                raise _os_error(errno.EISDIR, path)
        existing = next(p for p in (self.output_dir, *self.output_dir.parents) if p.exists())
        if not existing.is_dir():
            raise _os_error(errno.ENOTDIR, self.output_dir)
        if not os.access(existing, os.W_OK | os.X_OK):
            code = errno.EROFS if on_read_only_filesystem(existing) else errno.EACCES
            raise _os_error(code, existing)


def _os_error(code: int, path: Path) -> OSError:
    """The error the system gives for ``code`` at ``path`` (``OSError`` picks the subclass)."""
    return OSError(code, os.strerror(code), str(path))

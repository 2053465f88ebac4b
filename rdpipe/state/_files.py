"""Durable file writes: fsync the bytes, rename into place, fsync the directory."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def fsync_file(path: Path) -> None:
    """Flush a file's bytes to stable storage."""
    with path.open("rb") as stream:
        os.fsync(stream.fileno())


def fsync_directory(directory: Path) -> None:
    """Make renames and new names in ``directory`` durable (POSIX needs the directory synced)."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_atomically(path: Path, data: bytes) -> bool:
    """Replace ``path`` with ``data`` via a temp file beside it; returns ``False`` if unchanged.

    An unchanged file is not touched at all, so its mtime stays and git sees nothing.
    """
    with contextlib.suppress(FileNotFoundError):
        if path.read_bytes() == data:
            return False
    descriptor, temp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    fsync_directory(path.parent)
    return True

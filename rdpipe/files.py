"""Atomic, durable file writes: the one way rdpipe replaces a file.

Write a temporary file beside the target, fsync it, rename it into place, fsync the directory:
a reader sees the old file or the new one, never half of one, even after a crash. A write that
fails names the file it was writing (:class:`FileWriteFailed`), also where the system names
none (a write or fsync through an open descriptor on a full disk).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class FileWriteFailed(OSError):
    """An ``OSError`` the system raised without a file name, now naming the file being written.

    ``errno`` and ``strerror`` are the system's; ``path`` (also ``filename``) is the file the
    failing code was writing, as the user knows it (the target, not its temporary sibling).
    """

    def __init__(self, path: Path, error: OSError) -> None:
        super().__init__(error.errno, error.strerror, os.fspath(path))
        self.path = path


@contextlib.contextmanager
def writing_to(path: Path) -> Iterator[None]:
    """Raise an ``OSError`` without a file name from the block as :class:`FileWriteFailed`.

    Errors that name a file already, or carry no ``errno``, pass unchanged.
    """
    try:
        yield
    except OSError as error:
        if error.filename is not None or error.errno is None:
            raise
        raise FileWriteFailed(path, error) from error


def fsync_file(path: Path) -> None:
    """Flush a file's bytes to stable storage."""
    with writing_to(path), path.open("rb") as stream:
        os.fsync(stream.fileno())


def fsync_directory(directory: Path) -> None:
    """Make renames and new names in ``directory`` durable (POSIX needs the directory synced)."""
    with writing_to(directory):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def write_atomically(path: Path, data: bytes, *, durable: bool = True) -> bool:
    """Replace ``path`` with ``data`` via a temp file beside it; returns ``False`` if unchanged.

    An unchanged file is not touched at all, so its mtime stays and git sees nothing. The file
    keeps its permissions (a new one gets 0o644). ``durable=False`` skips the fsyncs, for files
    rewritten often whose loss costs nothing (progress snapshots).
    """
    try:
        if path.read_bytes() == data:
            return False
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o644
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with writing_to(path), os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            if durable:
                os.fsync(stream.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    if durable:
        fsync_directory(path.parent)
    return True


def read_cache_section(path: Path, version: int, section: str) -> dict[str, Any]:
    """The mapping under ``section`` of a JSON cache file written with ``version``; ``{}`` when
    the file is missing, unreadable, of another version or shaped otherwise (a cache may be lost).
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(document, dict) or document.get("version") != version:
        return {}
    found = document.get(section)
    return found if isinstance(found, dict) else {}


def on_read_only_filesystem(folder: Path) -> bool:
    """Whether ``folder`` is on a read-only mount (``False`` if that cannot be told)."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False

"""Atomic, durable file writes: the one way rdpipe replaces a file.

Write a temporary file beside the target, fsync it, rename it into place, fsync the directory:
a reader sees the old file or the new one, never half of one, even after a crash. A write that
fails names the file it was writing (:class:`FileWriteFailed`), also where the system names
none (a write or fsync through an open descriptor on a full disk).

Folders of generated files are made the same way (:func:`make_ignored_folder`): under a
temporary name with their ``.gitignore`` already inside, then renamed into place.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import uuid
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
    """Make renames and new names in ``directory`` durable (POSIX needs the directory synced).

    Nothing to do on Windows, which cannot open a directory as a file: NTFS journals its
    names itself.
    """
    if os.name == "nt":
        return
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


#: The ``.gitignore`` of a folder rdpipe makes: ``*`` ignores everything in it, itself included.
GENERATED_NOTE = "Made by rdpipe: everything in this folder is generated, so git ignores it."


def make_ignored_folder(folder: Path, *, note: str = GENERATED_NOTE) -> bool:
    """Make ``folder`` for files rdpipe generates, with a ``.gitignore`` of ``*`` inside, if it
    is missing; returns whether it was made now. Each missing folder above it is made the same
    way (with the default note); ``note`` is the comment line of ``folder``'s own file.

    The rule (issue 13 §5): rdpipe writes a ``.gitignore`` only into a folder it makes itself,
    at the moment it makes it, so the folder holds nothing else yet. A folder that exists is
    never touched (one ``stat``: a rerun costs nothing more), whoever made it and whatever it
    holds: a user's folder (the pipeline's own, a shared ``renders/``), a user's
    ``.gitignore``, and a folder an older rdpipe made, which the user may already ignore or
    track. The pipeline file, its lock file (beside it) and its references exist before a run,
    so a folder holding them, or above them, is never one rdpipe makes, and never ignored.

    Atomic: the folder is made under a temporary name beside it, its ``.gitignore`` written
    and fsynced inside, then renamed into place, so it never appears without the file (a
    killed run leaves at most a hidden ``.<name>.<random>.tmp`` folder that git ignores). A
    folder another process made meanwhile is kept as it is. Raises the ``OSError`` of making
    it, naming ``folder`` (``NotADirectoryError`` for a file in the way, ``PermissionError``).
    """
    if folder.is_dir():
        return False
    make_ignored_folder(folder.parent)
    temp = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        os.mkdir(temp)
    except OSError as error:
        raise OSError(error.errno, error.strerror, os.fspath(folder)) from error
    try:
        _write_new(temp / ".gitignore", f"# {note}\n*\n".encode())
        os.rename(temp, folder)
    except OSError as error:
        shutil.rmtree(temp, ignore_errors=True)
        if folder.is_dir():
            return False  # another process made it first
        raise OSError(error.errno, error.strerror, os.fspath(folder)) from error
    fsync_directory(folder.parent)
    return True


def _write_new(path: Path, data: bytes) -> None:
    """Create ``path`` (it must not exist) holding ``data``, fsynced."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with writing_to(path), os.fdopen(descriptor, "wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())


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

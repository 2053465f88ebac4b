"""Moving one clip's bytes between this disk and the store, and a media file's to it (issue
14): streamed, verified, atomic.

Both directions stream a few MiB at a time (1 MiB from disk and on file systems; 8 MiB a GET
and a 5 MiB upload part on object stores), so memory stays flat whatever the clip's size, and
both hash what they move:

- a download is written beside its destination and renamed into place only when its sha256
  matches the name it is stored under; a damaged one leaves nothing behind here. One bad read
  does not condemn the object (a flaky proxy or a bit flip on this machine damages the read,
  not the store's copy, and the store's may be a team's only copy of a paid clip, its task
  expired on the server): it is read a second time, hashing only. Only when that read hashes
  wrong too, and the object did not change meanwhile (a repair racing the reads), is it moved
  aside to ``damaged/<sha256>-<epoch>.mp4``, never deleted, so that the next push of the clip
  uploads a good copy instead of finding one of its size in place;
- an upload goes to ``tmp/<random>.mp4`` and is moved to its final name only once it is whole,
  its sha256 is the expected one and its size the file's; after the move the final object's
  size is checked again. A media file goes the same way (``tmp/<random>.<ext>``), checked
  against its md5, the name it is published under.

Why a temporary name on every back-end, object stores included: fsspec's writers complete an
upload when they are closed, also when an error unwinds through them, so writing straight to
the final key could publish a truncated clip; and a ``kill -9`` mid-upload must leave nothing
under a final name (issue 13). The move costs a rename on file systems and a server-side copy
on object stores: the clip's bytes cross the network once. What a killed upload leaves in
``tmp/`` is never read; an object store's lifecycle rule on ``tmp/`` can expire it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

from rdpipe.files import fsync_directory, writing_to

from .backends import CHUNK_SIZE, Backend, StoredObject
from .errors import (
    LocalClipMismatch,
    LocalMediaMismatch,
    RemoteClipCorrupt,
    RemoteClipMissing,
    RemoteError,
    RemoteUnavailable,
)
from .layout import damaged_path, temporary_path

#: Called after each chunk with (bytes done, total bytes or ``None`` when unknown).
Progress = Callable[[int, int | None], None]


def download_clip(
    backend: Backend,
    source: str,
    dest: Path,
    *,
    sha256: str,
    progress: Progress | None,
    clock: Callable[[], float],
) -> None:
    """Copy the store's ``source`` to ``dest`` if its bytes hash to ``sha256``.

    ``progress`` hears ``(0, size)`` first, then each chunk. Raises :class:`RemoteClipMissing`
    when there is no such object, :class:`RemoteClipCorrupt` when the bytes hash otherwise (the
    object read again, and moved aside at ``clock()`` epoch seconds only if it proves damaged:
    see the module's docstring), :class:`RemoteUnavailable` when the store fails, and
    ``OSError`` (naming ``dest``) when the local write fails; in every case ``dest`` is left as
    it was.
    """
    seen = backend.look(source, "read the clip's size")
    if seen is None:
        raise RemoteClipMissing(backend.url, sha256)
    total = seen.size
    dest.parent.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    temporary = Path(name)
    try:
        with (
            writing_to(dest),
            os.fdopen(descriptor, "wb") as target,
            contextlib.closing(backend.read_chunks(source, "download the clip")) as chunks,
        ):
            digest = _copy(chunks, target.write, total, progress)
            target.flush()
            os.fsync(target.fileno())
        if digest != sha256:
            raise _damaged(backend, source, seen, sha256=sha256, actual=digest, clock=clock)
        os.chmod(temporary, 0o644)
        os.replace(temporary, dest)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_directory(dest.parent)


def _damaged(
    backend: Backend,
    source: str,
    seen: StoredObject,
    *,
    sha256: str,
    actual: str,
    clock: Callable[[], float],
) -> RemoteClipCorrupt:
    """The error for a read of ``source`` (as ``seen``) that hashed to ``actual``: after a
    second read, hashing only, and the object moved aside if that one hashes wrong too."""

    def left(problem: str, *, whole: bool = False) -> RemoteClipCorrupt:
        return RemoteClipCorrupt(backend.url, sha256, actual, source, problem=problem, whole=whole)

    try:
        changed = _changed(backend, source, seen)
        if changed is None:
            if _hash(backend, source) == sha256:
                return left("a second read hashed right", whole=True)
            changed = _changed(backend, source, seen)
        if changed is not None:
            return left(changed)
        target = backend.path(damaged_path(sha256, clock()))
        with backend.guard("move the damaged clip aside", target):
            backend.move(source, target)
    except RemoteUnavailable as error:
        return left(error.detail)
    return RemoteClipCorrupt(backend.url, sha256, actual, source, moved_to=target)


def _changed(backend: Backend, source: str, seen: StoredObject) -> str | None:
    """How ``source`` differs from the object read (``seen``); ``None``: it is the same."""
    now = backend.look(source, "look at the damaged clip again")
    if now is None:
        return "it is no longer there (another run moved it aside)"
    return None if now == seen else "a new copy arrived while it was read"


def _hash(backend: Backend, source: str) -> str:
    """The sha256 (hex) of ``source``'s bytes as read now, streamed and kept nowhere."""
    digest = hashlib.sha256()
    with contextlib.closing(backend.read_chunks(source, "read the damaged clip again")) as chunks:
        for chunk in chunks:
            digest.update(chunk)
    return digest.hexdigest()


def upload_clip(
    backend: Backend, path: Path, target: str, *, sha256: str, size: int, progress: Progress | None
) -> None:
    """Put the local clip ``path`` (``size`` bytes hashing to ``sha256``) at ``target``;
    ``progress`` hears ``(0, size)`` first, then each chunk.

    Raises :class:`LocalClipMismatch` when the file's bytes hash otherwise (nothing is
    published), :class:`RemoteUnavailable` when the store fails or the object arrives with
    another size, and ``OSError`` when ``path`` cannot be read.
    """

    def mismatch(actual: str) -> RemoteError:
        return LocalClipMismatch(str(path), "sha256", sha256, actual)

    upload = _Upload("clip", ".mp4", size, "sha256", sha256, mismatch)
    _upload(backend, _file_chunks(path), target, upload, progress)


def upload_media(
    backend: Backend, source: Path | bytes, target: str, *, md5: str, size: int, suffix: str
) -> None:
    """Put ``source`` (a local file, streamed from disk, or bytes; ``size`` bytes hashing to
    ``md5``) at ``target``, as :func:`upload_clip` puts a clip: ``suffix`` ends its temporary
    name (``".png"``).

    The md5 is computed on the bytes as they are sent, so a file that changes meanwhile is
    never published under the md5 it was read with: :class:`LocalMediaMismatch`. Raises
    :class:`RemoteUnavailable` when the store fails, ``OSError`` when the file cannot be read.
    """
    shown = str(source) if isinstance(source, Path) else "the bytes given"

    def mismatch(actual: str) -> RemoteError:
        return LocalMediaMismatch(shown, md5, actual)

    chunks = _file_chunks(source) if isinstance(source, Path) else _byte_chunks(source)
    _upload(backend, chunks, target, _Upload("media file", suffix, size, "md5", md5, mismatch))


@dataclass(frozen=True)
class _Upload:
    """What one upload must deliver: ``size`` bytes whose ``algorithm`` (a :mod:`hashlib`
    name) digest is ``expected`` (hex), else ``mismatch(actual)`` is raised. ``noun`` names the
    file in messages (``"clip"``); ``suffix`` ends its temporary name."""

    noun: str
    suffix: str
    size: int
    algorithm: str
    expected: str
    mismatch: Callable[[str], RemoteError]


def _upload(
    backend: Backend,
    chunks: Generator[bytes, None, None],
    target: str,
    upload: _Upload,
    progress: Progress | None = None,
) -> None:
    """``chunks`` to ``target`` through a temporary name, verified (the module's docstring)."""
    temporary = backend.path(temporary_path(upload.suffix))
    try:
        digest = _send(backend, chunks, temporary, upload, progress)
        if digest != upload.expected:
            raise upload.mismatch(digest)
        _check_size(backend, temporary, upload)
        with backend.guard(f"move the uploaded {upload.noun} into place", target):
            backend.move(temporary, target)
    except BaseException:
        backend.discard(temporary)
        raise
    try:
        _check_size(backend, target, upload)
    except RemoteUnavailable:
        backend.discard(target)
        raise


def _send(
    backend: Backend,
    chunks: Generator[bytes, None, None],
    temporary: str,
    upload: _Upload,
    progress: Progress | None,
) -> str:
    action = f"upload the {upload.noun}"
    with backend.guard(action, temporary):
        backend.make_folder_for(temporary)
        stream = backend.fs.open(temporary, "wb", **backend.kind.write_options)

    def write(chunk: bytes) -> None:
        with backend.guard(action, temporary):
            stream.write(chunk)

    try:
        with contextlib.closing(chunks):
            digest = _copy(chunks, write, upload.size, progress, upload.algorithm)
    finally:
        with backend.guard(action, temporary):
            stream.close()
    return digest


def _file_chunks(path: Path) -> Generator[bytes, None, None]:
    """The bytes of ``path``, read ``CHUNK_SIZE`` at a time; the file is opened on the first
    read and closed with the generator."""
    with path.open("rb") as source:
        yield from iter(lambda: source.read(CHUNK_SIZE), b"")


def _byte_chunks(data: bytes) -> Generator[bytes, None, None]:
    """``data`` in pieces of ``CHUNK_SIZE`` bytes, as a file would be read."""
    for start in range(0, len(data), CHUNK_SIZE):
        yield data[start : start + CHUNK_SIZE]


def _copy(
    chunks: Iterator[bytes],
    write: Callable[[bytes], object],
    total: int | None,
    progress: Progress | None,
    algorithm: str = "sha256",
) -> str:
    """Pass each chunk to ``write``; returns the ``algorithm`` digest (hex) of all of them.
    ``progress`` hears ``(0, total)`` before the first chunk, so a bar shows the size from the
    start."""
    digest = hashlib.new(algorithm, usedforsecurity=False)  # a content name, not a secret
    done = 0
    if progress is not None:
        progress(0, total)
    for chunk in chunks:
        write(chunk)
        digest.update(chunk)
        done += len(chunk)
        if progress is not None:
            progress(done, total)
    return digest.hexdigest()


def _check_size(backend: Backend, path: str, upload: _Upload) -> None:
    found = backend.size_of(path, f"check the uploaded {upload.noun}'s size")
    if found != upload.size:
        reason = f"it holds {found} bytes, not the {upload.size} that were sent"
        raise RemoteUnavailable(backend.url, f"verify the uploaded {upload.noun}", path, reason)

"""The clip store: downloaded clips moved into content-addressed places, and checked before use.

A clip's place is ``clips/<shot_id>/<take>-<key[:12]>.mp4`` under the output directory, so a
changed shot (a new key) never overwrites the clip of an earlier version. A clip already at the
place is never overwritten either: a different clip of the same key and take goes beside it as
``<take>-<key[:12]>-2.mp4``, and so on, because every clip was paid for.
"""

from __future__ import annotations

import errno
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from rdpipe.files import fsync_directory, fsync_file

from ._records import ClipFile

ClipProblem = Literal["missing", "size", "sha256"]

_CHUNK = 1 << 20
_KEY_PREFIX = 12


@dataclass(frozen=True)
class ClipCheck:
    """The outcome of :meth:`ClipStore.verify`; ``problem`` is ``None`` when the clip is sound."""

    path: Path
    problem: ClipProblem | None
    detail: str

    @property
    def ok(self) -> bool:
        return self.problem is None


def clip_place(shot_id: str, take: int, key: str) -> str:
    """The relative POSIX path where the clip of ``shot_id``/``take`` with ``key`` belongs."""
    if not shot_id or shot_id in (".", "..") or "/" in shot_id or "\\" in shot_id:
        raise ValueError(f"shot id {shot_id!r} cannot be used as a directory name")
    if take < 1 or len(key) < _KEY_PREFIX:
        raise ValueError(f"need a take >= 1 and a key of {_KEY_PREFIX}+ characters")
    return f"clips/{shot_id}/{take}-{key[:_KEY_PREFIX]}.mp4"


def hash_file(path: Path) -> str:
    """The hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class ClipStore:
    """Clips under one output directory; every path it takes or returns is relative to it."""

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir

    def resolve(self, relative: str) -> Path:
        """The absolute path of a relative clip path, refusing paths that escape the store."""
        pure = PurePosixPath(relative)
        if pure.is_absolute() or ".." in pure.parts:
            raise ValueError(f"clip path {relative!r} must stay inside {self.output_dir}")
        return self.output_dir.joinpath(*pure.parts)

    def partial_path(self, relative: str) -> Path:
        """Where to download the clip meant for ``relative``: a ``.part`` file beside it."""
        target = self.resolve(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target.with_name(target.name + ".part")

    def adopt(self, partial: Path, relative: str, *, expected_size: int | None = None) -> ClipFile:
        """Move a finished download into its place atomically and return what was stored.

        The file is fsynced, hashed and linked into place (never over an existing file), then the
        directory is fsynced. An identical clip already there is reused. Raises ``ValueError``
        if ``expected_size`` is given and the download is shorter or longer.
        """
        size = partial.stat().st_size
        if expected_size is not None and size != expected_size:
            raise ValueError(f"{partial} has {size} bytes, expected {expected_size}")
        fsync_file(partial)
        sha256 = hash_file(partial)
        for candidate in _candidates(relative):
            target = self.resolve(candidate)
            target.parent.mkdir(parents=True, exist_ok=True)
            if _link_new(partial, target):
                break
            if target.stat().st_size == size and hash_file(target) == sha256:
                break  # the same clip is already in place
        else:
            raise FileExistsError(f"no free place for {relative}: 999 different clips exist")
        partial.unlink(missing_ok=True)
        fsync_directory(target.parent)
        return ClipFile(path=candidate, size=size, sha256=sha256)

    def verify(self, clip: ClipFile, *, check_hash: bool = True) -> ClipCheck:
        """Check that a recorded clip is still on disk with its size (and hash) unchanged."""
        path = self.resolve(clip.path)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return ClipCheck(path, "missing", f"{clip.path} is missing")
        if size != clip.size:
            return ClipCheck(path, "size", f"{clip.path} has {size} bytes, expected {clip.size}")
        if check_hash and hash_file(path) != clip.sha256:
            return ClipCheck(path, "sha256", f"{clip.path} changed since it was downloaded")
        return ClipCheck(path, None, f"{clip.path} is intact")


def _candidates(relative: str) -> list[str]:
    stem, _, suffix = relative.rpartition(".")
    return [relative] + [f"{stem}-{number}.{suffix}" for number in range(2, 1000)]


def _link_new(source: Path, target: Path) -> bool:
    """Create ``target`` as ``source``'s bytes unless it exists; atomic where links work."""
    try:
        os.link(source, target)
        return True
    except FileExistsError:
        return False
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
    # Filesystems without hard links (some FUSE and SMB mounts): check, then rename.
    if target.exists():
        return False
    os.rename(source, target)
    return True

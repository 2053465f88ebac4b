"""The clip store: downloaded clips moved into content-addressed places, and checked before use.

A clip's place is ``clips/<shot_id>/<take>-<key[:12]>.mp4`` under the output directory, so a
changed shot (a new key) never overwrites the clip of an earlier version. A clip already at the
place is never overwritten either: a different clip of the same key and take goes beside it as
``<take>-<key[:12]>-2.mp4``, and so on, because every clip was paid for. The one exception is
a recorded clip found damaged on disk: the same bytes downloaded again (the same SHA-256) take
its place back.

A clip is sound when its size and hash are as recorded and its media is whole (issue 11 §3):
the store asks ``media_check`` once per content and keeps the answer in :class:`MediaVerdicts`.
A clip file is read and hashed again only when its state on disk changed since it was last
found as recorded (:class:`KnownDigests` says which damage that still catches).

The store alone names files under ``clips/``. A download arrives through it in two calls:
:meth:`ClipStore.receive` gives the scheduler an :class:`IncomingClip` (the temporary file
``clips/<shot_id>/.incoming-<task id>.mp4`` the client writes, and the place it is meant for),
and :meth:`ClipStore.adopt` moves that file atomically into its place and returns the
:class:`StoredClip` that the run carries to the manifest and the join. A recorded clip found
sound comes back from :meth:`ClipStore.verify` as the same value.
"""

from __future__ import annotations

import errno
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from rdpipe.files import fsync_directory, fsync_file, make_ignored_folder

from ._digests import KnownDigests
from ._paths import CACHE_DIR_NAME
from ._records import ClipFile
from ._verdicts import MediaVerdict, MediaVerdicts

ClipProblem = Literal["missing", "size", "sha256", "incomplete"]

#: Says what a clip file's media lacks, or ``None`` when it is whole (the assembly stage has one).
MediaCheck = Callable[[Path], str | None]

_CHUNK = 1 << 20
#: A download arrives as ``clips/<shot_id>/.incoming-<task id>.mp4`` (the store's name space).
_INCOMING_PREFIX = ".incoming-"
_KEY_PREFIX = 12
#: The folder of every shot's clips, under the output directory.
_CLIPS_DIR = "clips"


@dataclass(frozen=True)
class StoredClip:
    """A clip in the store: what the state records of it, and where it is on this disk.

    ``relative`` is the POSIX path under the output directory that the manifest and the lock
    file name; ``path`` is the same file, absolute, for the join and the ``--json`` summary.
    """

    relative: str
    path: Path
    size: int  # bytes
    sha256: str  # hex

    @property
    def file(self) -> ClipFile:
        """The record of this clip, as the state keeps it and :meth:`ClipStore.verify` checks."""
        return ClipFile(path=self.relative, size=self.size, sha256=self.sha256)

    @property
    def last_frame(self) -> Path:
        """Where this clip's last frame is kept as a PNG, beside it (for shots continuing it)."""
        return self.path.with_name(f"{self.path.stem}-last-frame.png")


@dataclass(frozen=True)
class IncomingClip:
    """A clip on its way into the store: the temporary file its download writes, and its place.

    Made by :meth:`ClipStore.receive` only; the downloader writes ``path`` and nothing else,
    and :meth:`ClipStore.adopt` moves it into ``place`` (relative to the output directory).
    """

    path: Path
    place: str
    task_id: str


@dataclass(frozen=True)
class ClipCheck:
    """The outcome of :meth:`ClipStore.verify`; ``problem`` is ``None`` when the clip is sound.

    ``clip`` is the clip checked, located in the store (sound or not).
    """

    clip: StoredClip
    problem: ClipProblem | None
    detail: str

    @property
    def ok(self) -> bool:
        return self.problem is None


def clip_folder(shot_id: str) -> str:
    """The relative POSIX path of the folder that holds every clip of ``shot_id`` (each take's,
    each key's, their downloads and last frames)."""
    if not shot_id or shot_id in (".", "..") or "/" in shot_id or "\\" in shot_id:
        raise ValueError(f"shot id {shot_id!r} cannot be used as a directory name")
    return f"{_CLIPS_DIR}/{shot_id}"


def clip_place(shot_id: str, take: int, key: str) -> str:
    """The relative POSIX path where the clip of ``shot_id``/``take`` with ``key`` belongs."""
    folder = clip_folder(shot_id)
    if take < 1 or len(key) < _KEY_PREFIX:
        raise ValueError(f"need a take >= 1 and a key of {_KEY_PREFIX}+ characters")
    return f"{folder}/{take}-{key[:_KEY_PREFIX]}.mp4"


def hash_file(path: Path) -> str:
    """The hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class ClipStore:
    """Clips under one output directory; every path it records or takes is relative to it.

    What it hands out (:class:`IncomingClip`, :class:`StoredClip`) also carries the absolute
    path, so no caller joins a clip's path to the output directory itself.

    ``clock``: seconds on the filesystem's clock (``time.time``), to tell files changed
    moments ago, whose state is not trusted yet, from settled ones.
    """

    def __init__(
        self,
        output_dir: Path,
        *,
        media_check: MediaCheck | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.output_dir = output_dir
        cache_dir = output_dir / CACHE_DIR_NAME
        self.verdicts = MediaVerdicts(cache_dir)
        self.digests = KnownDigests(cache_dir, clock=clock)
        self._media_check = media_check

    def resolve(self, relative: str) -> Path:
        """The absolute path of a relative clip path, refusing paths that escape the store."""
        pure = PurePosixPath(relative)
        if pure.is_absolute() or ".." in pure.parts:
            raise ValueError(f"clip path {relative!r} must stay inside {self.output_dir}")
        return self.output_dir.joinpath(*pure.parts)

    def stored(self, clip: ClipFile) -> StoredClip:
        """The recorded clip ``clip`` located in this store (its file is not checked)."""
        return StoredClip(clip.path, self.resolve(clip.path), clip.size, clip.sha256)

    def receive(self, shot_id: str, take: int, key: str, task_id: str) -> IncomingClip:
        """Where the download of ``task_id``'s clip (``shot_id``, ``take``, ``key``) arrives.

        Creates the shot's folder (blocks: call it in a worker thread); ``clips/``, when it
        makes it, gets a ``.gitignore`` of ``*`` (:func:`~rdpipe.files.make_ignored_folder`),
        and the shots' folders in it hold their clips only. The file is temporary until
        :meth:`adopt` moves it into its place; one a stopped run left is removed by
        :meth:`remove_stale_downloads`.
        """
        place = clip_place(shot_id, take, key)
        target = self.resolve(place)
        make_ignored_folder(self.output_dir / _CLIPS_DIR)
        target.parent.mkdir(exist_ok=True)
        incoming = target.with_name(f"{_INCOMING_PREFIX}{task_id}.mp4")
        return IncomingClip(incoming, place, task_id)

    def discard(self, incoming: IncomingClip) -> None:
        """Delete what arrived for ``incoming`` (a download found unusable); no error if none."""
        incoming.path.unlink(missing_ok=True)

    def adopt(self, incoming: IncomingClip, *, restores: ClipFile | None = None) -> StoredClip:
        """Move a finished download into its place atomically and return the clip stored.

        The file is fsynced, hashed and linked into place (never over an existing file), then the
        directory is fsynced. An identical clip already there is reused. A download with the
        hash of ``restores`` (a recorded clip found damaged) replaces that clip's file. Blocks:
        call it in a worker thread.
        """
        partial = incoming.path
        size = partial.stat().st_size
        fsync_file(partial)
        sha256 = hash_file(partial)
        if restores is not None and (restores.size, restores.sha256) == (size, sha256):
            target = self.resolve(restores.path)
            os.replace(partial, target)
            fsync_directory(target.parent)
            return self.stored(restores)
        for candidate in _candidates(incoming.place):
            target = self.resolve(candidate)
            target.parent.mkdir(parents=True, exist_ok=True)
            if _link_new(partial, target):
                break
            if target.stat().st_size == size and hash_file(target) == sha256:
                break  # the same clip is already in place
        else:
            raise FileExistsError(f"no free place for {incoming.place}: 999 different clips exist")
        partial.unlink(missing_ok=True)
        fsync_directory(target.parent)
        return StoredClip(candidate, target, size, sha256)

    def verify(self, clip: ClipFile, *, check_hash: bool = True) -> ClipCheck:
        """Check that a recorded clip is still on disk with its size (and hash) unchanged.

        With ``check_hash``, its media must also be whole, as far as the store knows (it asks
        its ``media_check`` about contents it has no verdict on). The file is hashed unless its
        state on disk is the one it last had when found with the recorded hash (``digests``).
        """
        stored = self.stored(clip)
        path = stored.path
        try:
            stat = path.stat()
        except FileNotFoundError:
            return ClipCheck(stored, "missing", f"{clip.path} is missing")
        if stat.st_size != clip.size:
            found = f"{clip.path} has {stat.st_size} bytes, expected {clip.size}"
            return ClipCheck(stored, "size", found)
        if not check_hash:
            return ClipCheck(stored, None, f"{clip.path} is intact")
        if not self.digests.matches(clip.path, stat, clip.sha256):
            if hash_file(path) != clip.sha256:
                return ClipCheck(stored, "sha256", f"{clip.path} changed since it was downloaded")
            self.digests.remember(clip.path, stat, clip.sha256)
        problem = self.media_problem(path, clip.sha256)
        if problem is not None:
            return ClipCheck(stored, "incomplete", f"{clip.path} is incomplete: {problem}")
        return ClipCheck(stored, None, f"{clip.path} is intact")

    def media_problem(self, path: Path, sha256: str) -> str | None:
        """What the media of ``path`` (whose hash is ``sha256``) lacks; ``None``: whole or unknown.

        Asked of ``media_check`` once per content; without one, only known verdicts count.
        """
        verdict = self.verdicts.recall(sha256)
        if verdict is None and self._media_check is not None:
            verdict = MediaVerdict(self._media_check(path))
            self.verdicts.remember(sha256, verdict)
        return None if verdict is None else verdict.problem

    def remove_stale_downloads(self) -> None:
        """Delete the downloads a stopped run left half-way (``clips/*/.incoming-*``).

        Call it holding the :class:`RunGuard`, so no download can be under way. A clip is paid
        for, so what they held is downloaded again from its task when needed, never resubmitted.
        (Files an older rdpipe left there, ``.incoming-<task id>.mp4.part``, go too.)
        """
        for path in self.output_dir.glob(f"{_CLIPS_DIR}/*/{_INCOMING_PREFIX}*"):
            if path.is_file():
                path.unlink(missing_ok=True)

    def note_whole(self, sha256: str) -> None:
        """Record that the content with this hash was checked and found whole (appends a line to
        the verdicts' file: blocks, call it in a worker thread)."""
        self.verdicts.remember(sha256, MediaVerdict())


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

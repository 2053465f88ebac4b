"""The SHA-256 of each clip file as last read, by the file's state: unchanged files are not read.

Checking a recorded clip once meant hashing it on every rerun: 100 clips of 4 MB are 0.4 GB
read and hashed before a rerun that sends nothing could say so. Like DVC's state database and
git's index, the clip store keeps, for every clip it hashed and found as recorded, the file's
state (inode, size, modification and status-change times in nanoseconds) with the digest; a
file whose state is unchanged has that digest without being read.

What a changed state catches: any write through the filesystem (it moves the modification and
the status-change time; no program can set the status-change time back, so restoring the
modification time with ``touch -r`` is seen too), truncation or growth (the size), a file
replaced by another (the inode), deletion. What it cannot catch: bytes that change beneath the
filesystem (a failing disk, a write to the raw device), which hashing on every run would.

A write within the same clock tick as the recorded times could leave them unchanged (git's
"racily clean" entries), so a state is only recorded once the file has been left alone for
:data:`SETTLED` seconds; until then the file is hashed each time. Only a digest equal to the
expected one is trusted: any other answer is hashed again.

The states live in ``<output dir>/.cache/clip-digests.jsonl``, one JSON line appended per state
recorded (``[path, inode, size, mtime_ns, ctime_ns, sha256]``), the last line of a path winning
(:class:`~._lines.JsonLines`: a cache, rewritten whole once crowded with stale lines).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ._lines import JsonLines

#: Seconds a file must have been left alone before its state stands for its bytes.
SETTLED = 5.0
#: The file of the states, in the output directory's cache folder.
FILE_NAME = "clip-digests.jsonl"
_FileState = tuple[int, int, int, int]  # inode, size, mtime_ns, ctime_ns
_Entry = tuple[_FileState, str]  # a file's state and its digest


def file_state(stat: os.stat_result) -> _FileState:
    """What identifies one version of a file's bytes, as far as the filesystem tells."""
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


class KnownDigests:
    """Digests of clip files by relative path and file state, in one append-only file.

    Thread-safe (clips are adopted and checked in worker threads). ``clock`` gives the time in
    seconds of the same clock as the filesystem's (``time.time``). The file is read on first use.
    """

    def __init__(self, cache_dir: Path, *, clock: Callable[[], float] = time.time) -> None:
        self._file = JsonLines(cache_dir / FILE_NAME)
        self._clock = clock
        self._lock = threading.Lock()
        self._known: dict[str, _Entry] | None = None

    def matches(self, relative: str, stat: os.stat_result, sha256: str) -> bool:
        """Whether the file at ``relative``, in state ``stat``, is known to hash to ``sha256``."""
        with self._lock:
            found = self._loaded().get(relative)
        return found is not None and found == (file_state(stat), sha256)

    def remember(self, relative: str, stat: os.stat_result, sha256: str) -> None:
        """Note that the file at ``relative`` in state ``stat`` hashed to ``sha256``.

        Nothing is noted for a file changed less than :data:`SETTLED` seconds ago.
        """
        changed = max(stat.st_mtime_ns, stat.st_ctime_ns) / 1e9
        if self._clock() - changed < SETTLED:
            return
        entry = (file_state(stat), sha256)
        with self._lock:
            known = self._loaded()
            if known.get(relative) == entry:
                return
            known[relative] = entry

            def everything() -> list[object]:
                return [_line(path, known[path]) for path in sorted(known)]

            self._file.add(_line(relative, entry), live=len(known), everything=everything)

    def _loaded(self) -> dict[str, _Entry]:
        if self._known is None:
            self._known = {}
            for value in self._file.read():
                parsed = _parse(value)
                if parsed is not None:
                    self._known[parsed[0]] = parsed[1]
        return self._known


def _line(relative: str, entry: _Entry) -> list[object]:
    state, sha256 = entry
    return [relative, *state, sha256]


def _parse(value: object) -> tuple[str, _Entry] | None:
    if not isinstance(value, list) or len(value) != 6:
        return None
    relative, inode, size, mtime, ctime, sha256 = value
    numbers = (inode, size, mtime, ctime)
    if not (isinstance(relative, str) and isinstance(sha256, str)):
        return None
    if not all(isinstance(number, int) and not isinstance(number, bool) for number in numbers):
        return None
    return relative, ((inode, size, mtime, ctime), sha256)

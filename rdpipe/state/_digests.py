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
recorded (``[path, inode, size, mtime_ns, ctime_ns, sha256]``), the last line of a path winning;
the file is rewritten whole once it holds more stale lines than live ones. It is a cache: a
missing, unreadable or torn line counts as no state, and on a read-only checkout states are
kept in memory only.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from rdpipe.files import write_atomically

#: Seconds a file must have been left alone before its state stands for its bytes.
SETTLED = 5.0
_FileState = tuple[int, int, int, int]  # inode, size, mtime_ns, ctime_ns


def file_state(stat: os.stat_result) -> _FileState:
    """What identifies one version of a file's bytes, as far as the filesystem tells."""
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


class KnownDigests:
    """Digests of clip files by relative path and file state, in one append-only file.

    Thread-safe (clips are adopted and checked in worker threads). ``clock`` gives the time in
    seconds of the same clock as the filesystem's (``time.time``).
    """

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._known: dict[str, tuple[_FileState, str]] | None = None
        self._lines = 0
        self._torn = False  # the file ends inside a line (a killed run's): end it first

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
            self._lines += 1
            # A cache: on a read-only checkout the state is kept for this process only.
            with suppress(OSError):
                if self._lines > 2 * len(known) + 64:
                    self._rewrite(known)
                else:
                    self._append(relative, entry)

    def _loaded(self) -> dict[str, tuple[_FileState, str]]:
        if self._known is None:
            text = _text(self.path)
            self._known, self._lines = _parse_lines(text)
            self._torn = not text.endswith("\n") and text != ""
        return self._known

    def _append(self, relative: str, entry: tuple[_FileState, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = ("\n" if self._torn else "") + _line(relative, entry)
        # One write() on an O_APPEND file: lines of concurrent runs never interleave.
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(descriptor, line.encode())
        finally:
            os.close(descriptor)
        self._torn = False

    def _rewrite(self, known: dict[str, tuple[_FileState, str]]) -> None:
        text = "".join(_line(relative, entry) for relative, entry in sorted(known.items()))
        write_atomically(self.path, text.encode(), durable=False)
        self._lines, self._torn = len(known), False


def _line(relative: str, entry: tuple[_FileState, str]) -> str:
    state, sha256 = entry
    return json.dumps([relative, *state, sha256], ensure_ascii=False) + "\n"


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return ""


def _parse_lines(text: str) -> tuple[dict[str, tuple[_FileState, str]], int]:
    """The states in ``text`` (the last line of each path winning), and its count of lines."""
    lines = text.splitlines()
    known: dict[str, tuple[_FileState, str]] = {}
    for line in lines:
        with suppress(ValueError):
            parsed = _parse(json.loads(line))
            if parsed is not None:
                known[parsed[0]] = parsed[1]
    return known, len(lines)


def _parse(value: object) -> tuple[str, tuple[_FileState, str]] | None:
    if not isinstance(value, list) or len(value) != 6:
        return None
    relative, inode, size, mtime, ctime, sha256 = value
    numbers = (inode, size, mtime, ctime)
    if not (isinstance(relative, str) and isinstance(sha256, str)):
        return None
    if not all(isinstance(number, int) and not isinstance(number, bool) for number in numbers):
        return None
    return relative, ((inode, size, mtime, ctime), sha256)

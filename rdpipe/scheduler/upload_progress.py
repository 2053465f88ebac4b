"""How far a local file's upload has gone, said as the shot's note (issue 16 §2).

A reference video may be a gigabyte: its ``PUT`` takes minutes on a home line. The note of the
shot waiting on it says the bytes sent of the total and the time left, at most every
:data:`EVERY` seconds and every tenth of the file, so a pipe gets about ten lines, not one per
chunk, and the live view a figure that moves.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rdpipe.progress_steps import clock_time

#: Seconds between two notes of one upload, at least.
EVERY = 1.0
#: Share of the file sent between two notes, at least.
STEP = 0.1


class UploadProgress:
    """The ``on_progress(bytes sent so far)`` callback of one upload, saying it through ``note``.

    ``shown`` names the file as written; ``size`` is its length in bytes. The first note
    (``uploading clips/walk.mp4 (1.2 GB)``) is said by the caller; this one adds
    ``uploading clips/walk.mp4: 20% of 1.2 GB, 0:00:12 left`` as bytes go, and the
    last at 100%. A retry that starts again from zero is said from zero. ``clock`` gives
    seconds (monotonic).
    """

    def __init__(
        self,
        shown: str,
        size: int,
        note: Callable[[str], None],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._shown = shown
        self._size = size
        self._note = note
        self._clock = clock
        self._start = clock()
        self._said_at = self._start
        self._said_bytes = 0

    def __call__(self, sent: int) -> None:
        now = self._clock()
        if sent < self._said_bytes:  # sent again from the start (a retry)
            self._start, self._said_at, self._said_bytes = now, now, 0
        last = sent >= self._size
        moved = sent - self._said_bytes >= STEP * self._size
        if not last and not (moved and now - self._said_at >= EVERY):
            return
        if last and self._said_bytes >= self._size:
            return
        self._said_at, self._said_bytes = now, sent
        self._note(self.text(sent, now - self._start))

    def text(self, sent: int, elapsed: float) -> str:
        """``uploading a.mp4: 20% of 1.2 GB, 0:00:12 left``; at the end ``uploaded
        a.mp4 (1.2 GB) in 0:00:15``."""
        from rich.filesize import decimal

        total = decimal(self._size)
        if sent >= self._size:
            return f"uploaded {self._shown} ({total}) in {clock_time(round(elapsed))}"
        share = sent / self._size if self._size else 1.0
        left = elapsed * (self._size - sent) / sent if sent else None
        tail = "" if left is None else f", {clock_time(round(left))} left"
        return f"uploading {self._shown}: {share:.0%} of {total}{tail}"

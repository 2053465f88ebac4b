"""Which clips this machine has pushed to which shared clip store (issue 13 §2).

A run pushes each clip as it is stored, and before it generates anything pushes the clips of
its plan that were never pushed (a push a stopped run did not finish, a store set up after the
clips were made). Knowing what was pushed spares a run that changes nothing a look at the
store. ``rdpipe push`` asks the store itself, so a store emptied by hand is filled again.

Kept in ``.rdpipe/pushed.jsonl``, one line ``[store URL, sha256]`` appended per push
(:class:`~._lines.JsonLines`: a cache; a lost line only means one more look at the store).
"""

from __future__ import annotations

import threading
from pathlib import Path

from ._lines import JsonLines

FILE_NAME = "pushed.jsonl"


class PushedClips:
    """The (store URL, clip sha256) pairs pushed from this machine; thread-safe."""

    def __init__(self, state_dir: Path) -> None:
        self._file = JsonLines(state_dir / FILE_NAME)
        self._lock = threading.Lock()
        self._pushed = {
            (value[0], value[1])
            for value in self._file.read()
            if isinstance(value, list)
            and len(value) == 2
            and all(isinstance(part, str) for part in value)
        }

    def __contains__(self, pushed: tuple[str, str]) -> bool:
        """Whether the clip ``pushed[1]`` (sha256) was pushed to the store ``pushed[0]``."""
        with self._lock:
            return pushed in self._pushed

    def note(self, store: str, sha256: str) -> None:
        """Remember that the clip ``sha256`` is in the store ``store`` (appends one line)."""
        with self._lock:
            if (store, sha256) in self._pushed:
                return
            self._pushed.add((store, sha256))
            self._file.add([store, sha256], live=len(self._pushed), everything=self._lines)

    def _lines(self) -> list[object]:
        return [list(pair) for pair in sorted(self._pushed)]

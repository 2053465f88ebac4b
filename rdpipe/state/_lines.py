"""A cache kept as JSON lines: one line appended per new entry, the last line of a key winning.

Adding an entry costs one ``write()`` on an ``O_APPEND`` file, whatever the file holds, so a
run that learns 1,000 entries writes 1,000 short lines (rewriting a JSON document whole after
each would write half a million). Concurrent runs' lines never interleave; the file is rewritten
whole (beside its final name, then renamed) once it holds more stale lines than live ones.

It is a cache: a missing or unreadable file, and a torn or malformed line (a killed run's),
count as no entry; one that cannot be written (a read-only checkout) keeps its entries in
memory only. Not thread-safe: its owners (:class:`~._digests.KnownDigests`,
:class:`~._verdicts.MediaVerdicts`) hold a lock around it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from contextlib import suppress
from pathlib import Path

from rdpipe.files import make_ignored_folder, write_atomically

#: Stale lines tolerated beyond the live ones before the file is rewritten whole.
_SLACK = 64


class JsonLines:
    """The lines of one cache file: read once, then appended to (or rewritten when crowded)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lines = 0
        self._torn = False  # the file ends inside a line (a killed run's): end it first

    def read(self) -> list[object]:
        """Every line that parses as JSON, in file order; ``[]`` when there is no file."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, ValueError):
            text = ""
        lines = text.splitlines()
        self._lines, self._torn = len(lines), text != "" and not text.endswith("\n")
        values = []
        for line in lines:
            with suppress(ValueError):
                values.append(json.loads(line))
        return values

    def add(self, value: object, *, live: int, everything: Callable[[], Iterable[object]]) -> None:
        """Append ``value`` as a line; or, past ``live`` entries with too many stale lines, write
        ``everything()`` (each live entry, ``value`` among them) alone.

        Errors are swallowed: the entry is then kept by the caller's memory only.
        """
        with suppress(OSError):
            self._lines += 1
            if self._lines > 2 * live + _SLACK:
                self.rewrite(everything())
            else:
                self._append(value)

    def _append(self, value: object) -> None:
        make_ignored_folder(self.path.parent)  # a cache folder (.cache/): git ignores it
        line = ("\n" if self._torn else "") + _line(value)
        # One write() on an O_APPEND file: lines of concurrent runs never interleave.
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(descriptor, line.encode())
        finally:
            os.close(descriptor)
        self._torn = False

    def rewrite(self, live: Iterable[object]) -> None:
        """Replace the file by ``live``, one line each; raises the ``OSError`` of a failed write."""
        lines = [_line(value) for value in live]
        write_atomically(self.path, "".join(lines).encode(), durable=False)
        self._lines, self._torn = len(lines), False


def _line(value: object) -> str:
    return json.dumps(value, ensure_ascii=False) + "\n"

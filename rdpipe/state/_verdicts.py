"""Which clip contents were found whole, by SHA-256: a clip's media is checked once per content.

Checking that a clip is whole (every packet its index promises is in the file, its end decodes)
costs a fraction of a second; the verdict depends only on the bytes, so it is kept under their
digest and never computed again for the same content. A copy of a clip, or the same clip
downloaded again, shares its verdict.

The verdicts live in ``<output dir>/.cache/media-verdicts.jsonl``, one JSON line appended per
verdict (``[version, sha256, problem]``, ``problem`` ``null`` for a whole clip): a run that
downloads 1,000 clips appends 1,000 short lines instead of rewriting a growing file 1,000 times
(:class:`~._lines.JsonLines`: a cache; a killed run loses at most the line it was writing).
Verdicts an older rdpipe kept in ``media.json`` beside it are taken over once.
"""

from __future__ import annotations

import threading
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from rdpipe.files import read_cache_section

from ._lines import JsonLines

#: The file of the verdicts, in the output directory's cache folder.
FILE_NAME = "media-verdicts.jsonl"
_LEGACY_NAME = "media.json"  # an older rdpipe's, rewritten whole after every verdict
_VERSION = 1  # bump when the check changes what it finds


@dataclass(frozen=True)
class MediaVerdict:
    """Whether one content's media was found whole; ``problem`` says what is missing if not."""

    problem: str | None = None

    @property
    def whole(self) -> bool:
        return self.problem is None


class MediaVerdicts:
    """Verdicts on clip contents, keyed by SHA-256 (hex), kept in ``cache_dir``; thread-safe.

    The file is read when the verdicts are opened (blocking); :meth:`remember` appends a line.
    """

    def __init__(self, cache_dir: Path) -> None:
        self._file = JsonLines(cache_dir / FILE_NAME)
        self._lock = threading.Lock()
        self._verdicts = _parse(self._file.read())
        if not self._verdicts:
            self._take_over(cache_dir / _LEGACY_NAME)

    def recall(self, sha256: str) -> MediaVerdict | None:
        """The verdict on the content with this digest, or ``None`` if it was never checked."""
        with self._lock:
            if sha256 not in self._verdicts:
                return None
            return MediaVerdict(self._verdicts[sha256])

    def remember(self, sha256: str, verdict: MediaVerdict) -> None:
        """Keep ``verdict`` for the content with this digest, on disk at once (one line)."""
        with self._lock:
            if sha256 in self._verdicts and self._verdicts[sha256] == verdict.problem:
                return
            self._verdicts[sha256] = verdict.problem
            self._file.add(
                [_VERSION, sha256, verdict.problem],
                live=len(self._verdicts),
                everything=self._lines,
            )

    def _lines(self) -> list[object]:
        return [[_VERSION, sha256, problem] for sha256, problem in sorted(self._verdicts.items())]

    def _take_over(self, legacy: Path) -> None:
        """Adopt an older rdpipe's ``media.json`` (once: it is removed when copied)."""
        found = read_cache_section(legacy, _VERSION, "sha256")
        self._verdicts = {
            k: v for k, v in found.items() if isinstance(k, str) and isinstance(v, str | None)
        }
        if self._verdicts:
            with suppress(OSError):
                self._file.rewrite(self._lines())
                legacy.unlink()


def _parse(values: list[object]) -> dict[str, str | None]:
    """The verdicts of the file's lines, the last of a digest winning; other versions ignored."""
    verdicts: dict[str, str | None] = {}
    for value in values:
        if isinstance(value, list) and len(value) == 3 and value[0] == _VERSION:
            _, sha256, problem = value
            if isinstance(sha256, str) and isinstance(problem, str | None):
                verdicts[sha256] = problem
    return verdicts

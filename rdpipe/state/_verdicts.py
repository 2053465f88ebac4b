"""Which clip contents were found whole, by SHA-256: a clip's media is checked once per content.

Checking that a clip is whole (every packet its index promises is in the file, its end decodes)
costs a fraction of a second; the verdict depends only on the bytes, so it is kept under their
digest in one small JSON file (``<output dir>/.cache/media.json``) and never computed again for
the same content. A copy of a clip, or the same clip downloaded again, shares its verdict.

The file is rewritten whole after each new verdict (beside its final name, then renamed), merged
with what another process may have written meanwhile; an unreadable file counts as empty, and
one that cannot be written (a read-only checkout) only keeps its verdicts in memory.
"""

from __future__ import annotations

import json
import threading
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from rdpipe.files import read_cache_section, write_atomically

_VERSION = 1  # bump when the check changes what it finds


@dataclass(frozen=True)
class MediaVerdict:
    """Whether one content's media was found whole; ``problem`` says what is missing if not."""

    problem: str | None = None

    @property
    def whole(self) -> bool:
        return self.problem is None


class MediaVerdicts:
    """Verdicts on clip contents, keyed by SHA-256 (hex), in one JSON file; thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._verdicts = _load(path)

    def recall(self, sha256: str) -> MediaVerdict | None:
        """The verdict on the content with this digest, or ``None`` if it was never checked."""
        with self._lock:
            if sha256 not in self._verdicts:
                return None
            return MediaVerdict(self._verdicts[sha256])

    def remember(self, sha256: str, verdict: MediaVerdict) -> None:
        """Keep ``verdict`` for the content with this digest, on disk at once."""
        with self._lock:
            if sha256 in self._verdicts and self._verdicts[sha256] == verdict.problem:
                return
            self._verdicts = {**_load(self.path), **self._verdicts, sha256: verdict.problem}
            document = {"version": _VERSION, "sha256": self._verdicts}
            data = json.dumps(document, indent=0, sort_keys=True).encode()
            # A cache: on a read-only checkout the verdict is kept for this process only.
            with suppress(OSError):
                write_atomically(self.path, data, durable=False)


def _load(path: Path) -> dict[str, str | None]:
    verdicts = read_cache_section(path, _VERSION, "sha256")
    return {k: v for k, v in verdicts.items() if isinstance(k, str) and isinstance(v, str | None)}

"""Join files with the concat demuxer, and check what came out.

Only the video is copied from the clips (copy path) or the normalised pieces; the sound is
encoded once from sample-exact PCM. The copy join is checked for timestamps going backwards
or jumping, which make it fall back to normalising.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rdpipe.assemble.argv import TIMESTAMP_WARNINGS


def format_concat_list(entries: Sequence[tuple[Path, float]]) -> str:
    """An ffconcat script: each file with the duration after which the next one starts."""
    lines = ["ffconcat version 1.0"]
    for path, seconds in entries:
        quoted = str(path.resolve()).replace("'", "'\\''")
        lines += [f"file '{quoted}'", f"duration {seconds:.6f}"]
    return "\n".join(lines) + "\n"


def timestamp_warnings(stderr: str) -> list[str]:
    """Lines of ffmpeg output that report timestamps going backwards or jumping."""
    return [line for line in stderr.splitlines() if any(w in line for w in TIMESTAMP_WARNINGS)]

"""Join files with the concat demuxer, and check what came out.

AAC audio is copied too, from the clips on the copy path and from the normalised pieces. Each
AAC file starts with encoder priming packets (negative timestamps) that the concat demuxer
places over the end of the previous file: ffmpeg then warns "Non-monotonic DTS" and every later
file's sound slips by a frame of audio. Dropping the priming packets of every file but the
first (the ``noise`` bitstream filter's ``drop`` expression) keeps each file's sound where its
picture is.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rdpipe.assemble.argv import TIMESTAMP_WARNINGS
from rdpipe.assemble.probe import ClipInfo

_WINDOWS_PER_FILTER = 64


def format_concat_list(entries: Sequence[tuple[Path, float]]) -> str:
    """An ffconcat script: each file with the duration after which the next one starts."""
    lines = ["ffconcat version 1.0"]
    for path, seconds in entries:
        quoted = str(path.resolve()).replace("'", "'\\''")
        lines += [f"file '{quoted}'", f"duration {seconds:.6f}"]
    return "\n".join(lines) + "\n"


def build_priming_drop_bsf(infos: Sequence[ClipInfo]) -> str | None:
    """``noise`` bitstream filters dropping the priming packets of the files after the first.

    Packets are picked by their index in the joined stream, not by timestamp: a normalised
    piece's priming lands on the last packet of the piece before it, at the same time.
    ffmpeg cannot parse an expression of much more than a hundred terms, so the windows are
    split over a chain of filters, each counting only the packets the ones before it let by.
    """
    windows: list[tuple[int, int]] = []
    first = 0
    for index, info in enumerate(infos):
        audio = info.audio
        if audio is None:
            continue
        if index > 0 and audio.priming_packets:
            windows.append((first, first + audio.priming_packets - 1))
        first += audio.packets
    filters: list[str] = []
    dropped = 0
    for start in range(0, len(windows), _WINDOWS_PER_FILTER):
        chunk = windows[start : start + _WINDOWS_PER_FILTER]
        terms = [f"between(n\\,{low - dropped}\\,{high - dropped})" for low, high in chunk]
        filters.append("noise=drop='" + "+".join(terms) + "'")
        dropped += sum(high - low + 1 for low, high in chunk)
    return ",".join(filters) or None


def timestamp_warnings(stderr: str) -> list[str]:
    """Lines of ffmpeg output that report timestamps going backwards or jumping."""
    return [line for line in stderr.splitlines() if any(w in line for w in TIMESTAMP_WARNINGS)]

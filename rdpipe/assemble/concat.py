"""Join files with the concat demuxer, and check what came out.

On the copy path the clips' AAC audio is copied too. Each AAC clip starts with encoder priming
packets (negative timestamps) that the concat demuxer places over the end of the previous clip:
ffmpeg then warns "Non-monotonic DTS" and every later clip's sound slips by a frame of audio.
Dropping the priming packets of every clip but the first (the ``noise`` bitstream filter's
``drop`` expression, which sees output timestamps) keeps each clip's sound where its picture is.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rdpipe.assemble.argv import TIMESTAMP_WARNINGS
from rdpipe.assemble.probe import ClipInfo


def format_concat_list(entries: Sequence[tuple[Path, float]]) -> str:
    """An ffconcat script: each file with the duration after which the next one starts."""
    lines = ["ffconcat version 1.0"]
    for path, seconds in entries:
        quoted = str(path.resolve()).replace("'", "'\\''")
        lines += [f"file '{quoted}'", f"duration {seconds:.6f}"]
    return "\n".join(lines) + "\n"


def build_priming_drop_bsf(infos: Sequence[ClipInfo]) -> str | None:
    """``noise`` bitstream filter dropping the priming packets of clips after the first."""
    windows: list[str] = []
    offset = 0.0
    for index, info in enumerate(infos):
        audio = info.audio
        if index > 0 and audio is not None and audio.first_pts < 0:
            # The concat demuxer shifts each file so that its earliest timestamp lands on
            # the sum of the previous files' durations.
            shift = round((offset - info.start_time) / audio.time_base)
            # AAC packets are 1024 samples long: a 512-tick margin absorbs rounding.
            low = shift + audio.first_pts - 512
            high = shift - 512
            windows.append(f"between(pts\\,{low}\\,{high})")
        offset += round(info.container_duration, 6)
    if not windows:
        return None
    return "noise=drop='" + "+".join(windows) + "'"


def timestamp_warnings(stderr: str) -> list[str]:
    """Lines of ffmpeg output that report timestamps going backwards or jumping."""
    return [line for line in stderr.splitlines() if any(w in line for w in TIMESTAMP_WARNINGS)]

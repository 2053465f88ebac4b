"""Text files made from the plan's spans: ffmetadata chapters, SubRip and WebVTT captions."""

from __future__ import annotations

from collections.abc import Sequence

from rdpipe.assemble.join_plan import Span


def format_ffmetadata(chapters: Sequence[Span]) -> str:
    """Chapters in ffmpeg's metadata format, in milliseconds."""
    lines = [";FFMETADATA1"]
    for chapter in chapters:
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={round(chapter.start * 1000)}",
            f"END={round(chapter.end * 1000)}",
            f"title={_escape(chapter.title)}",
        ]
    return "\n".join(lines) + "\n"


def format_srt(cues: Sequence[Span]) -> str:
    """Captions as SubRip: numbered cues, ``00:00:01,500`` timestamps."""
    blocks = [
        f"{number}\n{_clock(cue.start, ',')} --> {_clock(cue.end, ',')}\n{cue.title.strip()}\n"
        for number, cue in enumerate(cues, start=1)
    ]
    return "\n".join(blocks)


def format_vtt(cues: Sequence[Span]) -> str:
    """Captions as WebVTT: a header, then ``00:00:01.500`` timestamps."""
    blocks = [
        f"{_clock(cue.start, '.')} --> {_clock(cue.end, '.')}\n{cue.title.strip()}\n"
        for cue in cues
    ]
    return "\n".join(["WEBVTT\n", *blocks])


def _clock(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{whole:02d}{separator}{millis:03d}"


def _escape(text: str) -> str:
    for special in ("\\", "=", ";", "#", "\n"):
        text = text.replace(special, "\\" + special)
    return text

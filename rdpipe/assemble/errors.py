"""Errors of the assembly stage; each names the shot or the ffmpeg step it is about."""

from __future__ import annotations

import re
from pathlib import Path

from rdpipe.errors import RdpipeError
from rdpipe.hints import Command, Suggestion


class ClipMissing(RdpipeError):
    """A shot's clip is not on disk."""

    def __init__(self, shot_id: str, path: Path) -> None:
        self.shot_id = shot_id
        self.path = path
        super().__init__(
            f"shot {shot_id!r}: clip not found: {path}",
            suggestion=Suggestion.of(
                "run", "Run `{0}` to generate it, or check the shot's clip path."
            ),
        )


class ClipCorrupt(RdpipeError):
    """A shot's clip exists but cannot be read as a video."""

    def __init__(self, shot_id: str, path: Path, reason: str) -> None:
        self.shot_id = shot_id
        self.path = path
        self.reason = reason
        super().__init__(
            f"shot {shot_id!r}: clip is not a readable video: {path} ({reason})",
            suggestion=Suggestion.of(
                "run", "Delete the file and run `{0}` again to download it anew."
            ),
        )


class ClipIncomplete(RdpipeError):
    """A shot's clip is a video with part of its media missing (a download cut short, a full disk).

    Its header may still promise the whole length: joined as it is, the video would be short
    and break up where the file ends (issue 11 §3).
    """

    def __init__(self, shot_id: str, path: Path, problem: str) -> None:
        self.shot_id = shot_id
        self.path = path
        self.problem = problem
        super().__init__(
            f"shot {shot_id!r}: clip is incomplete: {path} has {problem}",
            suggestion=Suggestion(
                "`{0}` or `{1}` downloads a clip rdpipe generated again from its task (no new "
                "charge); replace any other clip with a whole copy.",
                (Command("assemble"), Command("run")),
            ),
        )


class FfmpegFailed(RdpipeError):
    """An ffmpeg run exited with an error: one paragraph with what it was doing and why.

    Never ffmpeg's output as it is (issue 11): an input it could not open is named with
    ffmpeg's reason, anything else gets ffmpeg's last line without its filtergraph text.
    ``tail`` keeps the last lines of its output.
    """

    def __init__(self, step: str, returncode: int, tail: list[str]) -> None:
        self.step = step
        self.returncode = returncode
        self.tail = tail
        super().__init__(f"ffmpeg failed while {step} (exit status {returncode}): {_reason(tail)}")


def _reason(tail: list[str]) -> str:
    """ffmpeg's reason in one sentence, from the last lines it printed."""
    lines = [_LOG_PREFIX.sub("", line).strip() for line in tail if line.strip()]
    opened = [m for line in lines if (m := _OPENING.fullmatch(line))]
    if opened:
        why = next((m.group(1) for line in lines if (m := _OPEN_REASON.fullmatch(line))), "")
        return f"it could not read {opened[-1].group(1)}" + (f" ({why})" if why else "")
    if not lines:
        return "it printed nothing"
    # A summary ("Error binding filtergraph inputs/outputs") follows the line that says why.
    said = lines[-2:] if len(lines) > 1 and lines[-1].startswith("Error") else lines[-1:]
    text = "; ".join(_GRAPH_TEXT.sub("in the filtergraph", line).rstrip(".") for line in said)
    return text if len(text) <= 300 else text[:297] + "..."


_LOG_PREFIX = re.compile(r"^\[[^\]]* @ 0x[0-9a-f]+\] ")
_OPENING = re.compile(r"Error opening input file (.+?)\.?")
_OPEN_REASON = re.compile(r"Error opening input files?: (.+)")
_GRAPH_TEXT = re.compile(r"in filtergraph description .*?(?= matches| is | does |$)")


class AssemblyInvalid(RdpipeError):
    """The clips and the ``output:`` block cannot make a video (e.g. a crossfade too long)."""

    def __init__(self, problem: str, *, shot_id: str | None = None) -> None:
        self.shot_id = shot_id
        where = f"shot {shot_id!r}: " if shot_id is not None else ""
        super().__init__(f"{where}{problem}")

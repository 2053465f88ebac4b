"""Errors of the assembly stage; each names the shot or the ffmpeg step it is about."""

from __future__ import annotations

from pathlib import Path

from rdpipe.errors import RdpipeError


class ClipMissing(RdpipeError):
    """A shot's clip is not on disk."""

    def __init__(self, shot_id: str, path: Path) -> None:
        self.shot_id = shot_id
        self.path = path
        super().__init__(
            f"shot {shot_id!r}: clip not found: {path}",
            hint="Run `rdpipe run` to generate it, or check the shot's clip path.",
        )


class ClipCorrupt(RdpipeError):
    """A shot's clip exists but cannot be read as a video."""

    def __init__(self, shot_id: str, path: Path, reason: str) -> None:
        self.shot_id = shot_id
        self.path = path
        self.reason = reason
        super().__init__(
            f"shot {shot_id!r}: clip is not a readable video: {path} ({reason})",
            hint="Delete the file and run `rdpipe run` again to download it anew.",
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
            hint="`rdpipe assemble` or `rdpipe run` downloads a clip rdpipe generated again from "
            "its task (no new charge); replace any other clip with a whole copy.",
        )


class FfmpegFailed(RdpipeError):
    """An ffmpeg run exited with an error; the message carries its last lines of output."""

    def __init__(self, step: str, returncode: int, tail: list[str]) -> None:
        self.step = step
        self.returncode = returncode
        self.tail = tail
        shown = "\n".join(f"  {line}" for line in tail) or "  (no output)"
        super().__init__(f"ffmpeg failed while {step} (exit status {returncode}):\n{shown}")


class AssemblyInvalid(RdpipeError):
    """The clips and the ``output:`` block cannot make a video (e.g. a crossfade too long)."""

    def __init__(self, problem: str, *, shot_id: str | None = None) -> None:
        self.shot_id = shot_id
        where = f"shot {shot_id!r}: " if shot_id is not None else ""
        super().__init__(f"{where}{problem}")

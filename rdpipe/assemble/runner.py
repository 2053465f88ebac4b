"""The one place that starts ffmpeg: run an argv, return its warnings, or raise with its tail."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

import anyio

from rdpipe.assemble.errors import FfmpegFailed

TAIL_LINES = 12


async def run_ffmpeg(argv: Sequence[str], *, step: str) -> str:
    """Run ffmpeg to completion; return its stderr (warnings) or raise :class:`FfmpegFailed`.

    ``step`` says what the run was for ("normalising shot 'intro'") in the error message.
    """
    result = await anyio.run_process(
        list(argv), check=False, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
    )
    stderr = result.stderr.decode("utf-8", errors="replace")
    if result.returncode != 0:
        lines = [line for line in stderr.splitlines() if line.strip()]
        raise FfmpegFailed(step, result.returncode, lines[-TAIL_LINES:])
    return stderr

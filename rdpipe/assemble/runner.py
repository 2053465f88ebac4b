"""The one place that starts ffmpeg: run an argv, return its warnings, or raise with its tail."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

import anyio
from anyio.streams.text import TextReceiveStream

from rdpipe.assemble.errors import FfmpegFailed
from rdpipe.progress_steps import StepCounter

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


async def run_ffmpeg_measured(
    argv: Sequence[str], *, step: str, seconds: float, counter: StepCounter
) -> str:
    """:func:`run_ffmpeg`, telling ``counter`` the seconds of output written so far (whole
    seconds of ``seconds``), read from ffmpeg's ``-progress pipe:1`` lines (``out_time_us``).
    """
    command = [argv[0], "-progress", "pipe:1", "-nostats", *argv[1:]]
    errors = bytearray()
    counter.start()
    async with await anyio.open_process(command, stdin=subprocess.DEVNULL) as process:
        assert process.stdout is not None and process.stderr is not None
        stdout, stderr_stream = process.stdout, process.stderr

        async def read_errors() -> None:
            async for chunk in stderr_stream:
                errors.extend(chunk)

        async with anyio.create_task_group() as group:
            group.start_soon(read_errors)
            async for line in TextReceiveStream(stdout):
                for written in _out_seconds(line):
                    counter.set(min(int(written), int(seconds)))
        returncode = await process.wait()
    text = errors.decode("utf-8", errors="replace")
    if returncode != 0:
        lines = [line for line in text.splitlines() if line.strip()]
        raise FfmpegFailed(step, returncode, lines[-TAIL_LINES:])
    counter.set(int(seconds))
    return text


def _out_seconds(chunk: str) -> list[float]:
    """The seconds written in each ``out_time_us=`` line of a chunk of ffmpeg's progress."""
    found = []
    for line in chunk.splitlines():
        name, _, value = line.partition("=")
        if name.strip() == "out_time_us" and value.strip().lstrip("-").isdigit():
            found.append(max(0, int(value.strip())) / 1_000_000)
    return found

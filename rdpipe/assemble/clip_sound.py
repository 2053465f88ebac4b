"""The copy path's sound: every clip's sound cut to its picture, in one raw PCM file.

AAC copied clip by clip cannot be cut to a picture (every AAC file ends on a whole frame of
samples), so the copy join encodes the sound once from this file (see
:mod:`rdpipe.assemble.argv`, issue 11).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from functools import partial
from itertools import accumulate
from pathlib import Path

import anyio.to_thread

from rdpipe.assemble.argv import build_sound_argv
from rdpipe.assemble.join import JoinOptions
from rdpipe.assemble.join_plan import ClipPiece
from rdpipe.assemble.parallel import run_all
from rdpipe.assemble.runner import run_ffmpeg
from rdpipe.assemble.target import SAMPLE_RATE
from rdpipe.files import writing_to
from rdpipe.model.timeline import exact, round_half_up

_SOUND_BATCH = 64  # clips one ffmpeg reads the sound of at once


async def write_clip_sound(options: JoinOptions, clips: Sequence[ClipPiece]) -> Path:
    """The whole clips' sound as one raw PCM file in the work folder, each clip exactly the
    samples its picture lasts (rounded so the running total never drifts).

    Batches of clips are read by one ffmpeg each, ``options.concurrency`` at a time (one
    ffmpeg reading hundreds of files holds them all open at once), and their files appended
    in order.
    """
    samples = _slot_samples([clip.info.video_duration for clip in clips])
    size = min(_SOUND_BATCH, -(-len(clips) // max(1, options.concurrency)))
    batches = [range(first, min(first + size, len(clips))) for first in range(0, len(clips), size)]
    parts = [options.work / f"sound-{number}.pcm" for number in range(len(batches))]

    async def _read(batch: range, part: Path) -> None:
        argv = build_sound_argv(options.ffmpeg, [(clips[i].info, samples[i]) for i in batch], part)
        first, last = clips[batch[0]].shot_id, clips[batch[-1]].shot_id
        names = f"{first!r}" + (f" to {last!r}" if len(batch) > 1 else "")
        await run_ffmpeg(argv, step=f"reading the sound of shot {names}")

    jobs = [partial(_read, batch, part) for batch, part in zip(batches, parts, strict=True)]
    await run_all(jobs, limit=options.concurrency)
    if len(parts) == 1:
        return parts[0]
    sound = options.work / "sound.pcm"
    await anyio.to_thread.run_sync(_append_files, parts, sound)
    return sound


def _slot_samples(lengths: Sequence[float]) -> list[int]:
    """Samples of each clip's slot, rounded so the running total never drifts."""
    ends = [round_half_up(exact(end) * SAMPLE_RATE) for end in accumulate(lengths)]
    return [end - start for start, end in zip([0, *ends[:-1]], ends, strict=True)]


def _append_files(parts: Sequence[Path], dest: Path) -> None:
    """Append ``parts`` into ``dest`` in order, removing each once copied. Blocking."""
    with writing_to(dest), dest.open("wb") as out:  # a full disk names no file
        for part in parts:
            with part.open("rb") as source:
                shutil.copyfileobj(source, out, 1 << 20)
            part.unlink()

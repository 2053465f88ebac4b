"""The files written beside the video: SubRip and WebVTT captions, and the contact sheet."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import anyio.to_thread

from rdpipe.assemble.chapters import format_srt, format_vtt
from rdpipe.assemble.contact_sheet import SheetEntry, write_contact_sheet
from rdpipe.assemble.join_plan import ClipInput, JoinPlan
from rdpipe.assemble.probe import ClipInfo
from rdpipe.files import write_atomically
from rdpipe.model.output import OutputSpec, caption_path, contact_sheet_path
from rdpipe.progress_steps import StepListener
from rdpipe.text import FontChain

_CAPTION_FORMATS = {"srt": format_srt, "vtt": format_vtt}


async def write_sidecars(
    plan: JoinPlan,
    clips: Sequence[ClipInput],
    infos: Sequence[ClipInfo],
    *,
    spec: OutputSpec,
    output: Path,
    fonts: FontChain,
    progress: StepListener | None = None,
) -> tuple[Path, ...]:
    """Write the caption files ``output.captions.sidecars`` asks for (when a shot has a
    caption) and the contact sheet (``output.contact_sheet``) beside ``output``; their paths.

    ``infos[i]`` describes ``clips[i]``. Files are written in worker threads. ``progress``
    hears the contact sheet's step (:func:`write_contact_sheet`).
    """
    written: list[Path] = []
    if plan.cues:
        for suffix in spec.captions.sidecars:
            text = _CAPTION_FORMATS[suffix](plan.cues)
            path = caption_path(output, suffix)
            await anyio.to_thread.run_sync(write_atomically, path, text.encode("utf-8"))
            written.append(path)
    if spec.contact_sheet:
        entries = [
            SheetEntry(c.shot_id, c.path, _middle(c, i), c.prompt)
            for c, i in zip(clips, infos, strict=True)
        ]
        sheet = contact_sheet_path(output)
        written.append(await write_contact_sheet(entries, sheet, fonts=fonts, progress=progress))
    return tuple(written)


def _middle(clip: ClipInput, info: ClipInfo) -> float:
    """Seconds into the clip of the middle of what the video shows of it."""
    start = clip.trim.start if clip.trim else 0.0
    end = clip.trim.end if clip.trim and clip.trim.end else info.video_duration
    return (start + min(end, info.video_duration)) / 2

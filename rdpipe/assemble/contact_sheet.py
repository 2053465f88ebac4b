"""A PNG grid with one frame of every shot, its id and the start of its prompt."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread
from PIL import Image, ImageDraw, ImageOps

from rdpipe.assemble.frames import grab_frame
from rdpipe.progress_steps import StepCounter, StepListener
from rdpipe.text import FontChain, Typesetter, draw_block, layout_text

_THUMB_WIDTH = 320
_COLUMNS = 4
_PROMPT_CHARS = 180  # more than two lines hold


@dataclass(frozen=True)
class SheetEntry:
    """One cell of the sheet: where to take the frame from and what to write under it."""

    shot_id: str
    clip: Path
    at: float
    prompt: str


async def write_contact_sheet(
    entries: Sequence[SheetEntry],
    dest: Path,
    *,
    fonts: FontChain,
    progress: StepListener | None = None,
) -> Path:
    """Grab a frame of every shot and lay them out in a grid, written beside the video.

    ``progress`` hears the step "contact sheet" in shots: one more per frame grabbed, the last
    once the sheet is drawn and written (120 shots take several seconds)."""
    counter = StepCounter(progress, "contact sheet", len(entries), "shots")
    counter.start()
    frames: list[Image.Image] = []
    for entry in entries:
        frames.append(await grab_frame(entry.clip, entry.at, shot_id=entry.shot_id))
        counter.set(min(len(frames), len(entries) - 1))  # the last piece is the drawing
    written = await anyio.to_thread.run_sync(_draw, entries, frames, dest, fonts)
    counter.set(len(entries))
    return written


def _draw(
    entries: Sequence[SheetEntry], frames: Sequence[Image.Image], dest: Path, fonts: FontChain
) -> Path:
    ratio = frames[0].height / max(1, frames[0].width)
    thumb = (_THUMB_WIDTH, max(2, round(_THUMB_WIDTH * min(ratio, 1.8))))
    columns = min(_COLUMNS, len(entries))
    rows = math.ceil(len(entries) / columns)
    title, prompt_text = Typesetter(fonts, 16), Typesetter(fonts, 12)
    cell = (thumb[0] + 16, thumb[1] + 74)
    sheet = Image.new("RGB", (columns * cell[0] + 16, rows * cell[1] + 16), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    for index, (entry, frame) in enumerate(zip(entries, frames, strict=True)):
        x = 16 + (index % columns) * cell[0]
        y = 16 + (index // columns) * cell[1]
        sheet.paste(ImageOps.pad(frame.convert("RGB"), thumb, color=(0, 0, 0)), (x, y))
        heading = layout_text(entry.shot_id, title, thumb[0], max_lines=1)
        draw_block(draw, heading, (x, y + thumb[1] + 6), fill=(255, 255, 255), width=thumb[0])
        # Whitespace collapsed and a generous cut; the layout ends what does not fit with "…"
        # (textwrap.shorten would keep nothing of a prompt written without spaces).
        prompt = " ".join(entry.prompt.split())[:_PROMPT_CHARS]
        lines = layout_text(prompt, prompt_text, thumb[0], max_lines=2)
        draw_block(draw, lines, (x, y + thumb[1] + 28), fill=(190, 190, 190), width=thumb[0])
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.stem}.partial.png")
    sheet.save(partial, format="PNG")
    partial.replace(dest)
    return dest

"""A PNG grid with one frame of every shot, its id and the start of its prompt."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread
from PIL import Image, ImageDraw, ImageFont, ImageOps

from rdpipe.assemble.frames import grab_frame

_THUMB_WIDTH = 320
_COLUMNS = 4
_PROMPT_CHARS = 90


@dataclass(frozen=True)
class SheetEntry:
    """One cell of the sheet: where to take the frame from and what to write under it."""

    shot_id: str
    clip: Path
    at: float
    prompt: str


async def write_contact_sheet(entries: Sequence[SheetEntry], dest: Path) -> Path:
    """Grab a frame of every shot and lay them out in a grid, written beside the video."""
    frames = [await grab_frame(e.clip, e.at, shot_id=e.shot_id) for e in entries]
    return await anyio.to_thread.run_sync(_draw, entries, frames, dest)


def _draw(entries: Sequence[SheetEntry], frames: Sequence[Image.Image], dest: Path) -> Path:
    ratio = frames[0].height / max(1, frames[0].width)
    thumb = (_THUMB_WIDTH, max(2, round(_THUMB_WIDTH * min(ratio, 1.8))))
    columns = min(_COLUMNS, len(entries))
    rows = math.ceil(len(entries) / columns)
    title_font = ImageFont.load_default(size=16)
    prompt_font = ImageFont.load_default(size=12)
    cell = (thumb[0] + 16, thumb[1] + 74)
    sheet = Image.new("RGB", (columns * cell[0] + 16, rows * cell[1] + 16), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    for index, (entry, frame) in enumerate(zip(entries, frames, strict=True)):
        x = 16 + (index % columns) * cell[0]
        y = 16 + (index // columns) * cell[1]
        sheet.paste(ImageOps.pad(frame.convert("RGB"), thumb, color=(0, 0, 0)), (x, y))
        draw.text((x, y + thumb[1] + 6), entry.shot_id, font=title_font, fill=(255, 255, 255))
        prompt = textwrap.shorten(entry.prompt, _PROMPT_CHARS, placeholder="…") or " "
        lines = textwrap.wrap(prompt, 48)[:2]
        draw.multiline_text((x, y + thumb[1] + 28), "\n".join(lines), font=prompt_font,
                            fill=(190, 190, 190))  # fmt: skip
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.stem}.partial.png")
    sheet.save(partial, format="PNG")
    partial.replace(dest)
    return dest

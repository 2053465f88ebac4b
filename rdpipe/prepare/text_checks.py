"""The text rule of ``validate``: every character rdpipe will draw has a font that draws it.

Cards are always drawn, captions when they are burned in; a character no font of the chain
has (``output.font``, the bundled Noto fonts, then the installed fonts) would come out as a
box, so it is an error named with its code point. The contact sheet shows the start of each
prompt: a prompt it cannot draw is only a warning, since the prompt itself is fine to send.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rdpipe.load.loader import LoadedPipeline
from rdpipe.load.yaml_source import DataPath
from rdpipe.render import RenderedShot
from rdpipe.templates import Problem

if TYPE_CHECKING:
    from rdpipe.text import FontChain, SystemFonts

#: Characters the bundled Noto Sans always has: text made only of them needs no font loaded,
#: which keeps ``validate``, ``plan`` and cached reruns from reading fonts (or running fc-list).
_ALWAYS_DRAWN = frozenset(map(chr, range(0x20, 0x7F))) | {"\n", "\t"}


def check_text(
    loaded: LoadedPipeline, shots: Sequence[RenderedShot], *, system: SystemFonts | None = None
) -> tuple[list[Problem], list[Problem]]:
    """Errors (cards, burned captions, ``output.font``) and warnings (contact sheet prompts).

    ``system`` is the installed fonts to count on; by default what fontconfig finds, asked only
    when some text needs more than plain ASCII.
    """
    output = loaded.pipeline.output
    where: DataPath = ("output", "font")
    texts = [card.text for card in (output.title_card, output.end_card) if card is not None]
    texts += [shot.caption or "" for shot in shots] + [shot.request.prompt for shot in shots]
    if output.font is None and all(set(text) <= _ALWAYS_DRAWN for text in texts):
        return [], []
    from rdpipe.text import FontUnavailable, load_font_chain, system_fonts

    try:
        chain = load_font_chain(
            output.font, loaded.base_dir(where), system=system or system_fonts()
        )
    except FontUnavailable as error:
        return [Problem(where, f"{error.message}. {error.hint}")], []
    errors: list[Problem] = []
    for name, card in (("title_card", output.title_card), ("end_card", output.end_card)):
        if card is not None:
            errors.extend(_undrawable(chain, card.text, ("output", name, "text"), "cannot draw"))
    warnings: list[Problem] = []
    for index, shot in _first_takes(shots):
        if output.captions.burn_in and shot.caption:
            path: DataPath = ("shots", index, "caption")
            errors.extend(_undrawable(chain, shot.caption, path, "cannot draw"))
        prompt = shot.request.prompt
        if output.contact_sheet and prompt:
            path = ("shots", index, "prompt")
            warnings.extend(_undrawable(chain, prompt, path, "the contact sheet cannot show"))
    return errors, warnings


def describe_characters(characters: Sequence[str]) -> str:
    """``'X' (U+XXXX)`` for each character; control characters by code point only."""
    return ", ".join(_describe(char) for char in characters)


def _undrawable(chain: FontChain, text: str, path: DataPath, verb: str) -> list[Problem]:
    missing = chain.missing(text)
    if not missing:
        return []
    them = "it" if len(missing) == 1 else "them"
    return [
        Problem(
            path,
            f"{verb} {describe_characters(missing)}: no font has {them} (output.font, the "
            "bundled Noto fonts, the installed fonts); remove or replace "
            f"{them}, or name a font that has {them} in output.font",
        )
    ]


def _first_takes(shots: Sequence[RenderedShot]) -> list[tuple[int, RenderedShot]]:
    """One rendered shot per shot of the file (takes share their caption and prompt)."""
    first: dict[int, RenderedShot] = {}
    for shot in shots:
        first.setdefault(shot.index, shot)
    return sorted(first.items())


def _describe(char: str) -> str:
    code = f"U+{ord(char):04X}"
    if unicodedata.category(char) in ("Cc", "Cs"):
        return code
    return f"'{char}' ({code})"

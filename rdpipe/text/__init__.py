"""Text in any script for the pictures rdpipe draws: cards, burned captions, contact sheets.

:func:`load_font_chain` finds the fonts (``output.font``, the bundled Noto fonts, the system's
through fontconfig), :meth:`FontChain.missing` names what none of them can draw (``validate``
refuses it), and :func:`layout_text` / :func:`draw_block` wrap by rendered width and draw,
right-to-left scripts in visual order.
"""

from __future__ import annotations

from rdpipe.text.chain import FontChain, bundled_faces, ignorable, load_font_chain
from rdpipe.text.errors import FontUnavailable
from rdpipe.text.faces import Face
from rdpipe.text.layout import (
    Line,
    Run,
    TextBlock,
    Typesetter,
    compose_line,
    draw_block,
    layout_text,
    wrap_paragraph,
)
from rdpipe.text.system import Fontconfig, NoSystemFonts, SystemFonts, system_fonts

__all__ = [
    "Face",
    "FontChain",
    "FontUnavailable",
    "Fontconfig",
    "Line",
    "NoSystemFonts",
    "Run",
    "SystemFonts",
    "TextBlock",
    "Typesetter",
    "bundled_faces",
    "compose_line",
    "draw_block",
    "ignorable",
    "layout_text",
    "load_font_chain",
    "system_fonts",
    "wrap_paragraph",
]

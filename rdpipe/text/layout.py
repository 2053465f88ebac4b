"""Lay text out in lines no wider than a width in pixels, in any script, and draw it.

Steps, for each paragraph of the text:

1. Break into lines at UAX #14 line-break opportunities (uniseg), measuring each candidate line
   as it will be drawn; a word wider than the line is cut between grapheme clusters.
2. Put each line in visual order with the Unicode bidirectional algorithm (python-bidi),
   Arabic letters first joined into their contextual forms (arabic-reshaper), so Arabic and
   Hebrew read right to left with numbers and Latin words inside them left to right.
3. Split the visual line into runs of one font each (:class:`FontChain`), and draw the runs
   left to right on a common baseline.

Right-to-left runs are drawn with Pillow's basic layout, already in visual order; other runs
use Raqm (HarfBuzz shaping and kerning) where Pillow has it, which needs the system's FriBiDi
library. Without it they use the basic layout too: every script the bundled fonts cover still
reads correctly, only kerning and complex scripts (Devanagari, Thai) lose their shaping.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import arabic_reshaper
from bidi.algorithm import get_base_level, get_display
from PIL import ImageDraw, ImageFont, features
from uniseg.graphemecluster import grapheme_clusters
from uniseg.linebreak import line_break_units

from rdpipe.text.chain import FontChain, ignorable
from rdpipe.text.faces import Face

Align = Literal["center", "start"]
_RTL_CLASSES = ("R", "AL", "AN")
_ELLIPSIS = "…"
_RESHAPER = arabic_reshaper.ArabicReshaper(configuration={"delete_harakat": False})


@dataclass(frozen=True)
class Typesetter:
    """A font chain at one size; ``shaping`` uses Raqm for left-to-right runs."""

    chain: FontChain
    size: int
    shaping: bool = field(default_factory=lambda: bool(features.check("raqm")))


@dataclass(frozen=True)
class Run:
    """Characters drawn with one font, already in visual order; ``width`` in pixels."""

    text: str
    font: ImageFont.FreeTypeFont
    shaped: bool
    width: float


@dataclass(frozen=True)
class Line:
    """One line in visual order; ``rtl`` when its paragraph reads right to left."""

    runs: tuple[Run, ...]
    rtl: bool

    @property
    def width(self) -> float:
        return sum(run.width for run in self.runs)


@dataclass(frozen=True)
class TextBlock:
    """Lines laid out for drawing; ``ascent``/``descent`` in pixels, per line."""

    lines: tuple[Line, ...]
    ascent: int
    descent: int

    @property
    def line_height(self) -> int:
        return self.ascent + self.descent

    @property
    def width(self) -> float:
        return max((line.width for line in self.lines), default=0.0)

    @property
    def height(self) -> int:
        return self.line_height * len(self.lines)


def layout_text(
    text: str, setter: Typesetter, max_width: float, *, max_lines: int | None = None
) -> TextBlock:
    """``text`` in lines at most ``max_width`` pixels wide (its own line breaks kept).

    With ``max_lines``, later lines are dropped and the last kept one ends in an ellipsis.
    """
    setter = Typesetter(setter.chain.for_text(text), setter.size, setter.shaping)
    logical: list[tuple[str, bool]] = []
    for paragraph in text.splitlines() or [""]:
        rtl = _reads_right_to_left(paragraph)
        logical.extend((line, rtl) for line in wrap_paragraph(paragraph, setter, max_width))
    if max_lines is not None and len(logical) > max_lines:
        logical = logical[:max_lines]
        last, rtl = logical[-1]
        logical[-1] = (_with_ellipsis(last, setter, rtl, max_width), rtl)
    return _block([compose_line(line, setter, rtl=rtl) for line, rtl in logical], setter)


def wrap_paragraph(paragraph: str, setter: Typesetter, max_width: float) -> list[str]:
    """Logical lines of one paragraph, each no wider than ``max_width`` when drawn."""
    rtl = _reads_right_to_left(paragraph)
    lines: list[str] = []
    current = ""
    for unit in line_break_units(paragraph):
        candidate = current + unit
        if current and _width(candidate, setter, rtl) > max_width:
            lines.append(current.rstrip())
            candidate = unit
        current = candidate
        while _width(current, setter, rtl) > max_width:
            head, current = _split_to_fit(current, setter, rtl, max_width)
            lines.append(head)
    lines.append(current.rstrip())
    return lines


def compose_line(logical: str, setter: Typesetter, *, rtl: bool) -> Line:
    """One logical line in visual order, as runs of one font each."""
    text = logical.rstrip().replace("\t", " ")
    if any(unicodedata.bidirectional(c) in _RTL_CLASSES for c in text):
        visual = get_display(_RESHAPER.reshape(text), base_dir="R" if rtl else "L")
        text = _marks_after_bases(visual)
    return Line(tuple(_runs(text, setter)), rtl)


def draw_block(
    draw: ImageDraw.ImageDraw,
    block: TextBlock,
    xy: tuple[float, float],
    *,
    anchor: str = "la",
    align: Align = "start",
    fill: object,
    stroke_width: int = 0,
    stroke_fill: object = None,
    width: float | None = None,
) -> None:
    """Draw ``block`` with the point ``anchor`` (as Pillow's: ``l m r`` then ``a m d``) at ``xy``.

    The block is ``width`` pixels wide (by default its longest line); ``start`` aligns each
    line left in it, or right when its paragraph reads right to left.
    """
    wide = block.width if width is None else width
    left = xy[0] - {"l": 0.0, "m": wide / 2, "r": wide}[anchor[0]]
    top = xy[1] - {"a": 0.0, "m": block.height / 2, "d": float(block.height)}[anchor[1]]
    for number, line in enumerate(block.lines):
        spare = wide - line.width
        x = left + (spare / 2 if align == "center" else spare if line.rtl else 0.0)
        baseline = top + block.ascent + number * block.line_height
        for run in line.runs:
            pen = _Pen(draw, baseline, fill, stroke_width, stroke_fill)
            if run.shaped:
                pen.write(x, run.text, run.font, direction="ltr")
            else:
                _draw_clusters(pen, x, run)
            x += run.width


@dataclass(frozen=True)
class _Pen:
    draw: ImageDraw.ImageDraw
    baseline: float
    fill: object
    stroke_width: int
    stroke_fill: object

    def write(
        self, x: float, text: str, font: ImageFont.FreeTypeFont, direction: str | None = None
    ) -> None:
        self.draw.text(
            (x, self.baseline), text, font=font, fill=self.fill, anchor="ls",  # type: ignore[arg-type]
            stroke_width=self.stroke_width, stroke_fill=self.stroke_fill,  # type: ignore[arg-type]
            direction=direction,
        )  # fmt: skip


def _draw_clusters(pen: _Pen, x: float, run: Run) -> None:
    """Draw a run without shaping: combining marks centred over the character they follow.

    The basic layout puts a mark where the pen stands, after its base; fonts that position
    marks with OpenType anchors (Heebo's Hebrew points, Arabic vowel signs) need them moved.
    """
    if not any(unicodedata.category(c) in ("Mn", "Me") for c in run.text):
        pen.write(x, run.text, run.font)
        return
    for cluster in _mark_clusters(run.text):
        base, marks = cluster[0], cluster[1:]
        advance = run.font.getlength(base)
        pen.write(x, base, run.font)
        for mark in marks:
            left, _top, right, _bottom = run.font.getbbox(mark, anchor="ls")
            pen.write(x + advance / 2 - (left + right) / 2, mark, run.font)
        x += run.font.getlength(cluster)


def _runs(visual: str, setter: Typesetter) -> Iterable[Run]:
    groups: list[tuple[Face, list[str]]] = []
    previous: Face | None = None
    for char in visual:
        if ignorable(char) and unicodedata.category(char) != "Zs":
            continue  # format controls and variation selectors have no glyph
        face = setter.chain.face_for(char, after=previous)
        if face is None and unicodedata.category(char) == "Zs":
            char, face = " ", setter.chain.face_for(" ", after=previous)  # a space no font has
        face = face or setter.chain.primary
        if groups and groups[-1][0] == face:
            groups[-1][1].append(char)
        else:
            groups.append((face, [char]))
        previous = face
    for face, chars in groups:
        text = "".join(chars)
        shaped = setter.shaping and not any(
            unicodedata.bidirectional(c) in _RTL_CLASSES for c in text
        )
        font = setter.chain.font(face, setter.size, shaped=shaped)
        yield Run(text, font, shaped, font.getlength(text))


def _mark_clusters(text: str) -> list[str]:
    """A base character with the combining marks after it, for each base."""
    clusters: list[str] = []
    for char in text:
        if clusters and unicodedata.category(char) in ("Mn", "Me"):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def _marks_after_bases(visual: str) -> str:
    """Put combining marks back after their base where bidi reversed them (rule L3)."""
    out: list[str] = []
    marks: list[str] = []
    for char in visual:
        if unicodedata.category(char) in ("Mn", "Me"):
            marks.append(char)
            continue
        if marks and unicodedata.bidirectional(char) in ("R", "AL"):
            out.append(char)
            out.extend(marks)
        else:
            out.extend(marks)
            out.append(char)
        marks = []
    out.extend(marks)
    return "".join(out)


def _width(logical: str, setter: Typesetter, rtl: bool) -> float:
    return compose_line(logical, setter, rtl=rtl).width


def _split_to_fit(text: str, setter: Typesetter, rtl: bool, max_width: float) -> tuple[str, str]:
    """The longest head of ``text`` (at least one cluster) that fits, and the rest."""
    clusters = list(grapheme_clusters(text))
    cut = 1
    while cut < len(clusters) and _width("".join(clusters[: cut + 1]), setter, rtl) <= max_width:
        cut += 1
    return "".join(clusters[:cut]), "".join(clusters[cut:]).lstrip()


def _with_ellipsis(logical: str, setter: Typesetter, rtl: bool, max_width: float) -> str:
    """``logical`` cut between clusters so that it fits with an ellipsis after it."""
    clusters = list(grapheme_clusters(logical.rstrip()))
    while clusters and _width("".join(clusters) + _ELLIPSIS, setter, rtl) > max_width:
        clusters.pop()
    return "".join(clusters).rstrip() + _ELLIPSIS


def _reads_right_to_left(paragraph: str) -> bool:
    return bool(paragraph.strip()) and get_base_level(paragraph) == 1


def _block(lines: Sequence[Line], setter: Typesetter) -> TextBlock:
    # Lines are spaced by the first font's metrics alone: Noto Sans Arabic's make room for
    # stacked vowel marks (2.1 em a line), which would set Latin and CJK lines far apart.
    chain = setter.chain
    ascent, descent = chain.font(chain.primary, setter.size, shaped=False).getmetrics()
    return TextBlock(tuple(lines), ascent, descent)

"""Font faces: a file, the face's index in a collection, and the characters it maps.

Which characters a face has comes from its ``cmap`` table, read with fontTools once per file
and process. Pillow fonts are opened per size and layout engine, also once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont, TTLibError
from PIL import ImageFont

from rdpipe.text.errors import FontUnavailable

#: File suffixes read as font files (FreeType reads all of them; fontTools the cmap).
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")


@dataclass(frozen=True)
class Face:
    """One face of a font file; ``name`` is what messages call it."""

    name: str
    path: Path
    index: int = 0

    def covers(self, char: str) -> bool:
        """Whether the face maps ``char`` (one code point) to a glyph of its own."""
        return ord(char) in self._codepoints

    @cached_property
    def _codepoints(self) -> frozenset[int]:
        return codepoints(self.path, self.index)

    def font(self, size: int, *, shaped: bool) -> ImageFont.FreeTypeFont:
        """The Pillow font at ``size`` pixels; ``shaped`` asks for Raqm (HarfBuzz) layout."""
        return _font(self.path, self.index, size, shaped)

    def identity(self) -> list[object]:
        """What tells this face apart in a cache key: the file, its size and the face index."""
        return [self.name, self.path.name, _file_size(self.path), self.index]


def open_face(name: str, path: Path, index: int = 0) -> Face:
    """A face whose file opens, maps characters and has outlines, or FontUnavailable."""
    try:
        codepoints(path, index)
        outlined = has_outlines(path, index)
    except (OSError, TTLibError, KeyError, AssertionError) as error:
        reason = f"{path} is not a font file rdpipe can read ({error})"
        raise FontUnavailable(name, reason) from error
    if not outlined:
        reason = f"{path} has no outlines, only bitmaps of one size (such as colour emoji fonts)"
        raise FontUnavailable(name, reason)
    return Face(name, path, index)


@lru_cache(maxsize=64)
def has_outlines(path: Path, index: int) -> bool:
    """Whether the face's glyphs are outlines (TrueType or CFF), drawable at any size.

    FreeType refuses other sizes of a bitmap-only font (Noto Color Emoji's CBDT strikes).
    """
    with path.open("rb") as handle, TTFont(handle, fontNumber=index, lazy=True) as font:
        return any(table in font for table in ("glyf", "CFF ", "CFF2"))


@lru_cache(maxsize=64)
def codepoints(path: Path, index: int) -> frozenset[int]:
    """Code points the face maps, from its best Unicode ``cmap`` subtable."""
    with path.open("rb") as handle, TTFont(handle, fontNumber=index, lazy=True) as font:
        best = font.getBestCmap()
    return frozenset(best or ())


@lru_cache(maxsize=64)
def _font(path: Path, index: int, size: int, shaped: bool) -> ImageFont.FreeTypeFont:
    engine = ImageFont.Layout.RAQM if shaped else ImageFont.Layout.BASIC
    return ImageFont.truetype(str(path), size, index=index, layout_engine=engine)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1

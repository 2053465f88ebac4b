"""Font faces: a file, the face's index in a collection, and the characters it maps.

Which characters a face has comes from its ``cmap`` table, and whether it has outlines from
its table directory, both read with fontTools in one opening of the file. What has been
read is kept by a :class:`FontFiles`, which a font chain (or the installed fonts) holds for as
long as it lives: a long-lived server that builds a new chain per job reads a font file edited
in between again, and a chain reads each file once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TypeVar

from fontTools.ttLib import TTFont, TTLibError
from PIL import ImageFont

from rdpipe.text.errors import FontUnavailable

#: File suffixes read as font files (FreeType reads all of them; fontTools the cmap).
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True)
class Face:
    """One face of a font file; ``name`` is what messages call it."""

    name: str
    path: Path
    index: int = 0

    def font(self, size: int, *, shaped: bool) -> ImageFont.FreeTypeFont:
        """A new Pillow font at ``size`` pixels; ``shaped`` asks for Raqm (HarfBuzz) layout.

        Opening reads the file: :meth:`FontFiles.font` keeps the fonts it opens.
        """
        engine = ImageFont.Layout.RAQM if shaped else ImageFont.Layout.BASIC
        return ImageFont.truetype(str(self.path), size, index=self.index, layout_engine=engine)

    def identity(self) -> list[object]:
        """What tells this face apart in a cache key: the file, its size and the face index."""
        return [self.name, self.path.name, _file_size(self.path), self.index]


class FaceFile(NamedTuple):
    """What one face's file says of it: the code points it maps, and whether its glyphs are
    outlines (TrueType or CFF), drawable at any size."""

    codepoints: frozenset[int]
    outlined: bool


class FontFiles:
    """What has been read from font files: each face's :class:`FaceFile`, and Pillow fonts by
    size and layout engine, each read or opened once.

    Keyed by file path and face index, so equal faces built anew (a chain's CJK face for each
    text's language) share what was read. Not bound in size: one chain uses a few faces at a
    few sizes. Safe to share between threads (an assembly draws cards and captions in
    several), each file still read once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faces: dict[tuple[Path, int], FaceFile] = {}
        self._fonts: dict[tuple[Path, int, int, bool], ImageFont.FreeTypeFont] = {}

    def covers(self, face: Face, char: str) -> bool:
        """Whether ``face`` maps ``char`` (one code point) to a glyph of its own."""
        return ord(char) in self.face_file(face.path, face.index).codepoints

    def face_file(self, path: Path, index: int) -> FaceFile:
        """What the face's file says of it (:func:`read_face`); OSError or TTLibError."""
        return self._kept(self._faces, (path, index), lambda: read_face(path, index))

    def font(self, face: Face, size: int, *, shaped: bool) -> ImageFont.FreeTypeFont:
        """The Pillow font of ``face`` at ``size`` pixels (:meth:`Face.font`), opened once."""
        key = (face.path, face.index, size, shaped)
        return self._kept(self._fonts, key, lambda: face.font(size, shaped=shaped))

    def open_face(self, name: str, path: Path, index: int = 0) -> Face:
        """A face whose file opens, maps characters and has outlines, or FontUnavailable."""
        try:
            outlined = self.face_file(path, index).outlined
        except (OSError, TTLibError, KeyError, AssertionError) as error:
            reason = f"{path} is not a font file rdpipe can read ({error})"
            raise FontUnavailable(name, reason) from error
        if not outlined:
            reason = (
                f"{path} has no outlines, only bitmaps of one size (such as colour emoji fonts)"
            )
            raise FontUnavailable(name, reason)
        return Face(name, path, index)

    def _kept(self, store: dict[K, V], key: K, read: Callable[[], V]) -> V:
        """``store[key]``, read first if missing; a failed read stores nothing."""
        with self._lock:
            if key not in store:
                store[key] = read()
            return store[key]


def read_face(path: Path, index: int) -> FaceFile:
    """The face's code points, from its best Unicode ``cmap`` subtable, and whether it has
    outline tables (FreeType refuses other sizes of a bitmap-only font, such as Noto Color
    Emoji's CBDT strikes). Raises OSError, TTLibError, KeyError or AssertionError for a file
    fontTools cannot read."""
    with path.open("rb") as handle, TTFont(handle, fontNumber=index, lazy=True) as font:
        best = font.getBestCmap()
        outlined = any(table in font for table in ("glyf", "CFF ", "CFF2"))
    return FaceFile(frozenset(best or ()), outlined)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1

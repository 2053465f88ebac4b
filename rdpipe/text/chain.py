"""The font chain: which font draws each character of a text, and which none can draw.

Characters take the first face of the chain that has them: ``output.font`` if set, then the
bundled Noto fonts (Latin, Greek and Cyrillic; Arabic; Hebrew; Chinese, Japanese and Korean),
then whatever installed font fontconfig finds for that character. A combining mark, or a
space or punctuation between words, stays in the face of the character before it when that
face has it, so a word is never drawn in two fonts for no reason.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import fontpkg
import noto_cjk_sans_otc
from PIL import ImageFont

from rdpipe.text.errors import FontUnavailable
from rdpipe.text.faces import FONT_SUFFIXES, Face, FontFiles
from rdpipe.text.system import NoSystemFonts, SystemFonts

#: Faces of the bundled Noto Sans CJK collection, by the language whose glyph forms they use.
_CJK_FACES = {"JP": 0, "KR": 1, "SC": 2, "TC": 3, "HK": 4}
_CJK_DEFAULT = "SC"
#: Variation selectors pick a glyph form; they have no glyph of their own.
_SELECTORS = (range(0xFE00, 0xFE10), range(0xE0100, 0xE01F0))


@dataclass(frozen=True)
class FontChain:
    """Faces tried in order for each character, then the installed fonts.

    ``files`` keeps what the chain read from its font files, for as long as the chain lives
    (chains made from it by :meth:`for_text` share it).
    """

    faces: tuple[Face, ...]
    system: SystemFonts
    files: FontFiles = field(default_factory=FontFiles, compare=False, repr=False)

    @property
    def primary(self) -> Face:
        """The face whose metrics set the line height."""
        return self.faces[0]

    def face_for(self, char: str, *, after: Face | None = None) -> Face | None:
        """The face that draws ``char``; ``after`` (the previous character's) wins if it can."""
        if after is not None and _sticky(char) and self.files.covers(after, char):
            return after
        for face in self.faces:
            if self.files.covers(face, char):
                return face
        return self.system.covering(char)

    def font(self, face: Face, size: int, *, shaped: bool) -> ImageFont.FreeTypeFont:
        """The Pillow font that draws ``face`` at ``size`` pixels, opened once per chain."""
        return self.files.font(face, size, shaped=shaped)

    def missing(self, text: str) -> list[str]:
        """The characters of ``text`` no face can draw, each once, in order of appearance."""
        found = [c for c in dict.fromkeys(text) if not ignorable(c) and self.face_for(c) is None]
        return found

    def for_text(self, text: str) -> FontChain:
        """This chain with the bundled CJK face matching the text's language (kana: Japanese,
        Hangul: Korean, otherwise Simplified Chinese), since Han characters differ in form."""
        language = _cjk_language(text)
        if language == _CJK_DEFAULT:
            return self
        faces = tuple(_cjk_face(language) if _is_bundled_cjk(f) else f for f in self.faces)
        return replace(self, faces=faces)

    def identity(self) -> list[object]:
        """What a rendered picture depends on, for cache keys."""
        return [face.identity() for face in self.faces]


def ignorable(char: str) -> bool:
    """Whether ``char`` needs no glyph: white space, format controls, variation selectors."""
    if char in "\t\n\r" or unicodedata.category(char) in ("Zs", "Zl", "Zp", "Cf"):
        return True
    return any(ord(char) in selectors for selectors in _SELECTORS)


def bundled_faces() -> tuple[Face, ...]:
    """The fonts rdpipe installs with itself (see the README's dependency notes)."""
    return (
        Face("Noto Sans", fontpkg.path("noto-sans")),
        Face("Noto Sans Arabic", fontpkg.path("noto-sans-arabic")),
        Face("Heebo", fontpkg.path("heebo")),
        _cjk_face(_CJK_DEFAULT),
    )


def load_font_chain(
    font: str | None, base_dir: Path, *, system: SystemFonts | None = None
) -> FontChain:
    """The chain for ``output.font`` (a file relative to ``base_dir``, or a family name)."""
    system = system if system is not None else NoSystemFonts()
    bundled = bundled_faces()
    files = FontFiles()
    if font is None:
        return FontChain(bundled, system, files)
    chosen = _chosen_face(font, base_dir, system, bundled, files)
    return FontChain((chosen, *(f for f in bundled if f != chosen)), system, files)


def _chosen_face(
    font: str, base_dir: Path, system: SystemFonts, bundled: tuple[Face, ...], files: FontFiles
) -> Face:
    if font.casefold().endswith(FONT_SUFFIXES) or "/" in font or "\\" in font:
        path = base_dir / font
        if not path.is_file():
            raise FontUnavailable(font, f"no such font file: {path}")
        return files.open_face(font, path)
    for face in (*bundled, *(_cjk_face(language) for language in _CJK_FACES)):
        if face.name.casefold() == font.casefold():
            return face
    found = system.family(font)
    if found is None:
        where = "installed" if not isinstance(system, NoSystemFonts) else "bundled"
        raise FontUnavailable(font, f"no {where} font family has this name")
    return files.open_face(font, found.path, found.index)


def _sticky(char: str) -> bool:
    """Marks join their base; spaces and punctuation stay with the word before them."""
    return unicodedata.category(char)[0] in "MPZ" or char in "\u200c\u200d" or ignorable(char)


def _cjk_face(language: str) -> Face:
    path = Path(str(noto_cjk_sans_otc.FONT_PATH))
    return Face(f"Noto Sans CJK {language}", path, _CJK_FACES[language])


def _is_bundled_cjk(face: Face) -> bool:
    return face.path == Path(str(noto_cjk_sans_otc.FONT_PATH))


def _cjk_language(text: str) -> str:
    for code in _codes(text):
        if 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF:
            return "JP"
        if 0xAC00 <= code <= 0xD7A3 or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
            return "KR"
    return _CJK_DEFAULT


def _codes(text: str) -> Iterator[int]:
    return (ord(c) for c in text)

"""The font chain: ``output.font`` first, then the bundled Noto fonts, then installed fonts."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

import rdpipe.text
from rdpipe.text import (
    Face,
    FontChain,
    Fontconfig,
    FontUnavailable,
    NoSystemFonts,
    load_font_chain,
    system_fonts,
)
from rdpipe.text.faces import read_face

BUNDLED = ["Noto Sans", "Noto Sans Arabic", "Heebo", "Noto Sans CJK SC"]


class FakeSystemFonts:
    """Installed fonts as a test chooses: one family, and one face for the characters given."""

    def __init__(self, family: Face | None = None, covering: dict[str, Face] | None = None):
        self._family = family
        self._covering = covering or {}

    def family(self, name: str) -> Face | None:
        return self._family if self._family and self._family.name == name else None

    def covering(self, char: str) -> Face | None:
        return self._covering.get(char)


def _heebo() -> Path:
    return next(f.path for f in rdpipe.text.bundled_faces() if f.name == "Heebo")


def test_bundled_fonts_cover_the_scripts_in_order() -> None:
    """Without output.font the chain is the bundled fonts, each script in its own font."""
    chain = load_font_chain(None, Path("."))
    assert [face.name for face in chain.faces] == BUNDLED
    assert {c: chain.face_for(c).name for c in "éЖΩ清م"} == {  # type: ignore[union-attr]
        "é": "Noto Sans", "Ж": "Noto Sans", "Ω": "Noto Sans", "清": "Noto Sans CJK SC",
        "م": "Noto Sans Arabic",
    }  # fmt: skip
    assert chain.face_for("ש").name == "Heebo"  # type: ignore[union-attr]


def test_a_font_file_comes_first(tmp_path: Path) -> None:
    """output.font naming a file beside the pipeline puts it first; others fill its gaps."""
    shutil.copy(_heebo(), tmp_path / "brand.ttf")
    chain = load_font_chain("brand.ttf", tmp_path)
    assert [face.name for face in chain.faces] == ["brand.ttf", *BUNDLED]
    assert chain.face_for("a").name == "brand.ttf"  # type: ignore[union-attr]
    assert chain.face_for("Ж").name == "Noto Sans"  # type: ignore[union-attr]


def test_an_installed_family_comes_first() -> None:
    """output.font naming a family takes the face fontconfig finds for it."""
    brand = Face("Brand Sans", _heebo())
    chain = load_font_chain("Brand Sans", Path("."), system=FakeSystemFonts(family=brand))
    assert chain.primary == brand


def test_a_bundled_face_can_be_named() -> None:
    """A bundled face's name works on every machine, e.g. the Japanese forms of Noto Sans CJK."""
    chain = load_font_chain("noto sans cjk jp", Path("."))
    assert chain.primary.name == "Noto Sans CJK JP" and chain.primary.index == 0
    assert chain.faces.count(chain.primary) == 1


@pytest.mark.parametrize(
    ("font", "message"),
    [
        ("missing.ttf", "font 'missing.ttf': no such font file: {root}/missing.ttf"),
        ("notes.otf", "font 'notes.otf': {root}/notes.otf is not a font file rdpipe can read"),
        ("Nope Sans", "font 'Nope Sans': no bundled font family has this name"),
    ],
)
def test_fonts_that_cannot_be_had_are_refused(tmp_path: Path, font: str, message: str) -> None:
    """A missing file, a file that is no font and an unknown family each say what is wrong."""
    (tmp_path / "notes.otf").write_text("not a font")
    with pytest.raises(FontUnavailable) as caught:
        load_font_chain(font, tmp_path, system=NoSystemFonts())
    assert caught.value.message.startswith(message.format(root=tmp_path))


def has_outlines(path: Path, index: int) -> bool:
    return read_face(path, index).outlined


def test_a_font_without_outlines_is_refused(tmp_path: Path) -> None:
    """A font of bitmaps only (like Noto Color Emoji), which FreeType draws at one size, is
    refused as output.font, and passed over when it is the installed font with a character."""
    font = TTFont(str(_heebo()), recalcBBoxes=False)
    for table in ("glyf", "loca", "gvar", "HVAR", "fvar", "avar", "STAT"):
        if table in font:
            del font[table]
    font.save(tmp_path / "bitmaps.ttf")
    with pytest.raises(FontUnavailable, match="has no outlines, only bitmaps of one size"):
        load_font_chain("bitmaps.ttf", tmp_path)
    assert not has_outlines(tmp_path / "bitmaps.ttf", 0) and has_outlines(_heebo(), 0)


def test_installed_fonts_fill_what_the_bundled_lack() -> None:
    """A character no bundled font has is drawn with the installed font that has it."""
    emoji = Face("Emoji Font", _heebo())
    chain = load_font_chain(None, Path("."), system=FakeSystemFonts(covering={"😀": emoji}))
    assert chain.face_for("😀") == emoji
    assert chain.missing("a😀\U0010fffd b\u200d\ufe0f") == ["\U0010fffd"]


def test_the_cjk_face_follows_the_language() -> None:
    """Kana choose the Japanese face, Hangul the Korean one, Han alone the Chinese one."""
    chain = load_font_chain(None, Path("."))
    assert chain.for_text("日本語のテキスト").faces[-1].name == "Noto Sans CJK JP"
    assert chain.for_text("한국어").faces[-1].name == "Noto Sans CJK KR"
    assert chain.for_text("清晨").faces[-1].name == "Noto Sans CJK SC"


@pytest.mark.skipif(shutil.which("fc-list") is None, reason="fontconfig is not installed")
def test_fontconfig_answers_for_families_and_characters() -> None:
    """With fontconfig, a family that is not installed is not taken for its best guess, and a
    character no installed font has finds nothing."""
    fonts = system_fonts()
    assert fonts.family("No Such Family 12345") is None
    assert fonts.covering("\U0010fffd") is None


def test_without_fontconfig_there_are_no_system_fonts(tmp_path: Path) -> None:
    """Where fc-match and fc-list are missing, only bundled fonts and files are used."""
    assert isinstance(system_fonts(str(tmp_path)), NoSystemFonts)


def test_a_chain_keeps_what_it_read_and_a_new_chain_reads_again(tmp_path: Path) -> None:
    """A font file edited after a chain was made is read anew by the next chain (a long-lived
    server's next job), while the first chain keeps the characters it read; chains made for a
    text's language share what their chain read."""
    brand = tmp_path / "brand.ttf"
    shutil.copy(_heebo(), brand)
    first = load_font_chain("brand.ttf", tmp_path)
    assert _drawn_by(first, "ש") == "brand.ttf"
    noto_sans = next(f.path for f in rdpipe.text.bundled_faces() if f.name == "Noto Sans")
    shutil.copy(noto_sans, brand)
    second = load_font_chain("brand.ttf", tmp_path)
    assert _drawn_by(second, "ש") == "Heebo"
    assert _drawn_by(second, "Ж") == "brand.ttf"
    assert _drawn_by(first, "ש") == "brand.ttf"
    assert first.for_text("한국어").files is first.files


def _drawn_by(chain: FontChain, char: str) -> str | None:
    face = chain.face_for(char)
    return None if face is None else face.name


@pytest.mark.skipif(sys.platform == "win32", reason="the fake fontconfig is a shell script")
def test_fontconfig_asks_once_per_character_while_it_lives(tmp_path: Path) -> None:
    """One Fontconfig value runs fc-list once for a character; a new value asks again."""
    log = tmp_path / "asked.log"
    fc_list = tmp_path / "fc-list"
    fc_list.write_text(f"#!/bin/sh\necho asked >> {log}\necho '{_heebo()}|0|Fake Hebrew|Regular'\n")
    fc_list.chmod(0o755)
    fonts = Fontconfig(fc_match=str(fc_list), fc_list=str(fc_list))
    assert fonts.covering("ש") == fonts.covering("ש") == Face("Fake Hebrew", _heebo(), 0)
    assert log.read_text().count("asked") == 1
    Fontconfig(fc_match=str(fc_list), fc_list=str(fc_list)).covering("ש")
    assert log.read_text().count("asked") == 2

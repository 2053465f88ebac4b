"""Text drawn as a viewer reads it: no boxes, lines inside the width, right to left in order.

Pictures are compared as bitmaps cropped to their ink, so a test does not depend on where a
glyph lands, only on what it looks like.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont, features
from uniseg.linebreak import line_break_units

from rdpipe.assemble.images import render_caption
from rdpipe.text import (
    FontChain,
    Typesetter,
    bundled_faces,
    compose_line,
    draw_block,
    layout_text,
    load_font_chain,
    wrap_paragraph,
)

SIZE = 32
#: Without Raqm (Pillow without the system's FriBiDi) rdpipe falls back to the basic layout.
SHAPING = [False, True] if features.check("raqm") else [False]

SCRIPTS = {
    "accented Latin": "Café crème à l'aube ŒÆØ ąćęłńśźż",
    "Cyrillic": "Привет мир ЁЖЩ",
    "Greek": "Καλημέρα κόσμε ΣΩ",
    "Chinese": "清晨的咖啡馆第一章",
    "Japanese": "ひらがなカタカナ日本語",
    "Korean": "한국어텍스트",
    "Arabic": "مرحبا بالعالم",
    "Hebrew": "שלום עולם",
}


@pytest.fixture(scope="module")
def chain() -> FontChain:
    """The bundled fonts alone: what every installation has."""
    return load_font_chain(None, Path("."))


def _ink(image: Image.Image) -> Image.Image:
    """The picture cropped to its ink (non-black pixels)."""
    box = image.getbbox()
    assert box is not None, "nothing was drawn"
    return image.crop(box)


def _drawn(text: str, setter: Typesetter, width: float = 2000) -> Image.Image:
    """``text`` as rdpipe lays it out and draws it, white on black, cropped to its ink."""
    block = layout_text(text, setter, width)
    image = Image.new("L", (int(width) + 20, block.height + 20))
    draw_block(ImageDraw.Draw(image), block, (10, 10), fill=255)
    return _ink(image)


def _direct(text: str, font: ImageFont.FreeTypeFont) -> Image.Image:
    """``text`` drawn by Pillow alone with one font, cropped to its ink."""
    image = Image.new("L", (2000, 200))
    ImageDraw.Draw(image).text((10, 150), text, font=font, fill=255, anchor="ls")
    return _ink(image)


def _same(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("shaping", SHAPING, ids=lambda s: "raqm" if s else "basic")
@pytest.mark.parametrize("script", SCRIPTS)
def test_no_character_is_drawn_as_a_box(chain: FontChain, script: str, shaping: bool) -> None:
    """Each character is drawn by a bundled font, unlike that font's .notdef box, and the
    distinct characters of a script give distinct pictures."""
    chain = chain.for_text(SCRIPTS[script])
    pictures: dict[str, bytes] = {}
    for char in dict.fromkeys(SCRIPTS[script].replace(" ", "")):
        face = chain.face_for(char)
        assert face is not None and face.path in {f.path for f in bundled_faces()}, char
        picture = _drawn(char, Typesetter(chain, SIZE, shaping))
        box = _direct("\U0010fffd", chain.font(face, SIZE, shaped=False))
        assert not _same(picture, box), f"{char!r} is drawn as {face.name}'s .notdef box"
        pictures[char] = picture.tobytes() + bytes(picture.size)
    assert len(set(pictures.values())) == len(pictures), "two characters look the same"


def test_pillows_default_font_draws_chinese_as_boxes() -> None:
    """The check above catches the old behaviour: Pillow's built-in font draws every Chinese
    character as the same box."""
    font = ImageFont.load_default(size=SIZE)
    assert isinstance(font, ImageFont.FreeTypeFont)
    pictures = {_direct(char, font).tobytes() for char in SCRIPTS["Chinese"]}
    assert len(pictures) == 1


LONG = {
    # Full-width punctuation, as Chinese is written.
    "Chinese without spaces": (
        "清晨的咖啡馆里，一杯咖啡冒着热气，阳光透过窗户洒在木桌上，镜头缓慢推进。" * 2  # noqa: RUF001
    ),
    "Latin": "The old lighthouse keeper climbs the spiral stairs while the storm breaks " * 2,
    "Arabic": "مرحبا بالعالم، هذه جملة طويلة تكتب من اليمين إلى اليسار وتلتف على عدة أسطر",
    "Hebrew": "שלום עולם, זה משפט ארוך שנכתב מימין לשמאל ונשבר לכמה שורות בתוך המסגרת",
    "mixed": "Café crème à l'aube — 清晨的咖啡馆 — שלום עולם — مرحبا بالعالم — Привет",
}


@pytest.mark.parametrize("shaping", SHAPING, ids=lambda s: "raqm" if s else "basic")
@pytest.mark.parametrize("name", LONG)
def test_lines_wrap_by_rendered_width(chain: FontChain, name: str, shaping: bool) -> None:
    """Long text breaks into lines that each fit the width in pixels, and that are full: the
    next word (or Chinese character) would not have fitted."""
    width, text, setter = 400, LONG[name], Typesetter(chain, SIZE, shaping)
    block = layout_text(text, setter, width)
    assert len(block.lines) > 2
    assert all(line.width <= width for line in block.lines)
    assert _drawn(text, setter, width).width <= width
    lines = wrap_paragraph(text, setter, width)
    start = 0
    for following in lines[1:]:
        at = text.index(following, start)
        first = next(iter(line_break_units(following))).rstrip()
        rtl = name in ("Arabic", "Hebrew")
        assert compose_line(text[start : at + len(first)], setter, rtl=rtl).width > width
        start = at


def test_a_long_chinese_caption_stays_inside_the_frame(chain: FontChain, tmp_path: Path) -> None:
    """A burned caption of Chinese without spaces keeps its ink inside the frame's middle
    nine tenths (plus the outline), on more than one line."""
    size = (640, 360)
    png = render_caption(LONG["Chinese without spaces"], size, tmp_path / "c.png", fonts=chain)
    with Image.open(png) as overlay:
        box = overlay.getchannel("A").getbbox()
    assert box is not None
    outline = max(1, size[1] // 180)
    assert box[0] >= size[0] * 0.05 - outline - 1 and box[2] <= size[0] * 0.95 + outline + 1
    assert box[3] - box[1] > 2 * (size[1] // 18)  # several lines


@pytest.mark.parametrize("shaping", SHAPING, ids=lambda s: "raqm" if s else "basic")
def test_hebrew_is_drawn_right_to_left(chain: FontChain, shaping: bool) -> None:
    """Hebrew comes out in visual order: exactly the letters reversed, drawn left to right."""
    heebo = next(f for f in chain.faces if f.name == "Heebo").font(SIZE, shaped=False)
    drawn = _drawn(SCRIPTS["Hebrew"], Typesetter(chain, SIZE, shaping))
    assert _same(drawn, _direct(SCRIPTS["Hebrew"][::-1], heebo))
    assert not _same(drawn, _direct(SCRIPTS["Hebrew"], heebo))


@pytest.mark.parametrize("shaping", SHAPING, ids=lambda s: "raqm" if s else "basic")
def test_arabic_letters_join(chain: FontChain, shaping: bool) -> None:
    """The letters of an Arabic word are joined into one stroke (no blank column between
    them), unlike the same letters drawn one by one in their isolated forms."""
    word = "محمد"  # every letter joins the next
    arabic = next(f for f in chain.faces if f.name == "Noto Sans Arabic").font(SIZE, shaped=False)

    def gaps(picture: Image.Image) -> int:
        columns = [
            picture.crop((x, 0, x + 1, picture.height)).getbbox() for x in range(picture.width)
        ]
        return sum(1 for column in columns if column is None)

    assert gaps(_drawn(word, Typesetter(chain, SIZE, shaping))) == 0
    assert gaps(_direct(" ".join(word), arabic)) > 0


def test_mixed_scripts_are_ordered_and_split_into_font_runs(chain: FontChain) -> None:
    """A left-to-right line with Hebrew, digits and Chinese: the Hebrew word is reversed in
    place, the number after it comes before it (rule W7/I1 of the bidi algorithm), and each
    run uses the font of its script."""
    line = compose_line("Hello שלום 123 清晨", Typesetter(chain, SIZE, False), rtl=False)
    runs = [(run.text, run.font.getname()[0]) for run in line.runs]
    assert runs == [
        ("Hello 123 ", "Noto Sans"),
        ("םולש ", "Heebo"),
        ("清晨", "Noto Sans CJK SC"),
    ]


def test_spaces_other_than_ascii_keep_their_width(chain: FontChain) -> None:
    """An ideographic space (U+3000) is drawn a full em wide, a no-break space like a space;
    format controls (a zero-width joiner, a left-to-right mark) take no room and draw nothing."""
    setter = Typesetter(chain, SIZE, False)

    def width(text: str) -> float:
        return layout_text(text, setter, 2000).width

    assert width("第一章\u3000日本") == pytest.approx(width("第一章日本") + SIZE, abs=1)
    assert width("a\u00a0b") == pytest.approx(width("a b"), abs=1)
    assert width("a\u200d\u200eb") == pytest.approx(width("ab"), abs=1)


def test_right_to_left_paragraphs_align_right(chain: FontChain) -> None:
    """With ``align="start"`` a Hebrew line sits at the right edge of its box, Latin at the left."""
    setter = Typesetter(chain, SIZE, False)
    for text, right in (("שלום", True), ("hello", False)):
        block = layout_text(text, setter, 400)
        image = Image.new("L", (420, block.height))
        draw_block(ImageDraw.Draw(image), block, (10, 0), fill=255, width=400)
        box = image.getbbox()
        assert box is not None
        assert (box[2] > 380) is right and (box[0] < 20) is not right


def test_too_many_lines_end_in_an_ellipsis(chain: FontChain) -> None:
    """``max_lines`` keeps that many lines, the last cut to fit with a final ellipsis."""
    setter = Typesetter(chain, 12, False)
    block = layout_text("清晨的咖啡馆" * 30, setter, 200, max_lines=2)
    assert len(block.lines) == 2
    assert block.lines[-1].runs[-1].text.endswith("…")
    assert all(line.width <= 200 for line in block.lines)

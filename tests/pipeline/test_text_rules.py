"""Text rdpipe draws must be drawable: validate names each character no font has (issue 11 §5).

Cards are always drawn and captions when burned in, so an undrawable character there is an
error (exit 2, located, named by code point); in a prompt it is a warning for the contact
sheet. U+10FFFD (private use) and U+0378 (unassigned) are in no font on any machine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.pipeline.requests import HEAD, TAIL

FONTS = "(output.font, the bundled Noto fonts, the installed fonts)"


def _tree(shot: str, output: str) -> dict[str, object]:
    return {"sb.yaml": HEAD + "shots:\n  - " + shot + "\noutput: " + output + "\n"}


CASES: dict[str, tuple[dict[str, object], str]] = {
    "burned caption": (
        _tree(
            '{id: a, prompt: x, caption: "Café — 清晨 \U0010fffd"}', "{captions: {burn_in: true}}"
        ),
        f"sb.yaml:5:33: shots[0].caption: cannot draw '\U0010fffd' (U+10FFFD): no font has it "
        f"{FONTS}; remove or replace it, or name a font that has it in output.font",
    ),
    "title card with two characters": (
        _tree("{id: a, prompt: x}", '{title_card: {text: "第一章 \U0010fffd \u0378"}}'),
        "sb.yaml:6:29: output.title_card.text: cannot draw '\U0010fffd' (U+10FFFD), '\u0378' "
        f"(U+0378): no font has them {FONTS}; remove or replace them, or name a font that has "
        "them in output.font",
    ),
    "end card with a control character": (
        _tree("{id: a, prompt: x}", '{end_card: {text: "The end\\a"}}'),
        f"sb.yaml:6:27: output.end_card.text: cannot draw U+0007: no font has it {FONTS}; "
        "remove or replace it, or name a font that has it in output.font",
    ),
    "a font file that is not there": (
        _tree("{id: a, prompt: x}", "{font: fonts/brand.ttf}"),
        "sb.yaml:6:16: output.font: font 'fonts/brand.ttf': no such font file: "
        "{root}/fonts/brand.ttf. Set output.font to a .ttf/.otf/.ttc file beside the pipeline, "
        "or to the name of an installed font family (`fc-list : family` lists them), or remove "
        "it to use rdpipe's bundled Noto fonts.",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_undrawable_text_is_refused(
    case: str, make_tree: Callable[[dict[str, object]], Path], cli: Callable[..., Result]
) -> None:
    """validate exits 2 with the exact located message naming the characters."""
    files, expected = CASES[case]
    root = make_tree(files)
    result = cli("validate", "sb.yaml")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == "error: " + expected.replace("{root}", str(root)) + TAIL


def test_text_in_any_script_passes(
    make_tree: Callable[[dict[str, object]], Path], cli: Callable[..., Result]
) -> None:
    """The issue's caption and title card, and cards in Arabic, Hebrew, Cyrillic and Greek,
    validate with the bundled fonts."""
    shot = '{id: a, prompt: x, caption: "Café crème à l\'aube — 清晨的咖啡馆"}'
    output = (
        '{captions: {burn_in: true}, title_card: {text: "第一章"}, '
        'end_card: {text: "النهاية — סוף — Конец — Τέλος — 終わり — 끝"}}'
    )
    make_tree(_tree(shot, output))
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "sb.yaml: OK (1 shot)\n"


def test_captions_not_burned_in_and_prompts_are_not_errors(
    make_tree: Callable[[dict[str, object]], Path], cli: Callable[..., Result]
) -> None:
    """A caption only written to .srt/.vtt is the player's to draw; a prompt the contact sheet
    cannot show is a warning, since the prompt itself is fine to send."""
    shot = '{id: a, prompt: "x \U0010fffd", caption: "y \U0010fffd"}'
    make_tree(_tree(shot, "{captions: {burn_in: false}}"))
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        "sb.yaml:5:21: shots[0].prompt: warning: the contact sheet cannot show '\U0010fffd' "
        f"(U+10FFFD): no font has it {FONTS}; remove or replace it, or name a font that has it "
        "in output.font\n"
    )

"""What ``rdpipe validate`` says about drafts and deliverables written wrongly (issue 17): one
located message per mistake, naming the field the user wrote, with the exit code."""

from __future__ import annotations

import pytest

from tests.pipeline.requests import TAIL, Cli, Tree

HEAD = "version: 1\nname: demo\n"


def _drafted(model: str, defaults: str = "", shot: str = "", tail: str = "") -> str:
    """A one-shot storyboard on ``model`` (16:9, 4 s, with audio); ``defaults`` and ``shot``
    are extra lines of flow mapping (``draft: ...``), ``tail`` more top-level lines."""
    return HEAD + (
        f"model: {model}\n"
        "defaults:\n"
        "  seconds: 4\n"
        "  ratio: '16:9'\n"
        "  generate_audio: true\n" + (f"  {defaults}\n" if defaults else "") + "shots:\n"
        "  - id: kite\n"
        "    prompt: a red kite\n" + (f"    {shot}\n" if shot else "") + tail
    )


@pytest.mark.parametrize(
    ("written", "where", "shown"),
    [
        ("defaults", "sb.yaml:8:10: defaults.draft", "'yes please'"),
        ("shot", "sb.yaml:11:12: shots[0].draft", "3"),
        ("shot", "sb.yaml:11:12: shots[0].draft", "a list"),
    ],
)
def test_a_draft_neither_boolean_nor_mapping_is_one_error_naming_both_forms(
    written: str, where: str, shown: str, make_tree: Tree, cli: Cli
) -> None:
    """``draft: yes please`` (or 3, or a list) is one error listing true, false and the
    mapping's keys, not one error per member of the union."""
    value = {"'yes please'": "yes please", "3": "3", "a list": "[1]"}[shown]
    line = f"draft: {value}"
    make_tree({"sb.yaml": _drafted("doubao-seedance-2-0-720p", **{written: line})})
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {where}: expected true, false or a mapping (model, resolution, "
        f"generate_audio, metadata), got {shown}" + TAIL
    )


def test_a_yaml_1_1_boolean_draft_says_it_is_text(make_tree: Tree, cli: Cli) -> None:
    """``draft: yes`` is text in YAML 1.2: one error that says so."""
    make_tree({"sb.yaml": _drafted("doubao-seedance-2-0-720p", shot="draft: yes")})
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: sb.yaml:11:12: shots[0].draft: expected true, false or a mapping (model, "
        "resolution, generate_audio, metadata), got 'yes' ('yes' is text in YAML 1.2; write "
        "true or false)" + TAIL
    )


def test_a_misspelt_draft_key_gets_a_did_you_mean(make_tree: Tree, cli: Cli) -> None:
    """A draft mapping's unknown key is the one error, with the close key of DraftSpec."""
    make_tree({"sb.yaml": _drafted("doubao-seedance-2-0-720p", shot="draft: {modle: x}")})
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: sb.yaml:11:13: shots[0].draft.modle: unknown key 'modle'; did you mean "
        "'model'?" + TAIL
    )

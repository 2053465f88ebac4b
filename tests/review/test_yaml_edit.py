"""``rdpipe.yaml_edit``: pick: is set, replaced and removed with every other byte kept."""

from __future__ import annotations

import difflib
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rdpipe.yaml_edit import (
    AnchorShared,
    PickChange,
    PipelineNotEditable,
    ShotNotInFile,
    TakeOutOfRange,
    edit_pick,
    read_picks,
    set_pick,
)
from tests.review.review_tree import PIPELINE_YAML


def changed_lines(before: str, after: str) -> list[str]:
    """The +/- lines of a diff, without headers."""
    diff = difflib.unified_diff(before.splitlines(True), after.splitlines(True), n=0)
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def test_adding_pick_to_a_block_shot_adds_one_line_after_its_last_key() -> None:
    """A block-style shot gets `pick: K` as its last key; no other byte of the file changes."""
    edited, change = edit_pick(PIPELINE_YAML, "coast", 2)
    expected = PIPELINE_YAML.replace(
        "    caption: The coast, at dusk.\n",
        "    caption: The coast, at dusk.\n    pick: 2\n",
    )
    assert edited == expected
    assert changed_lines(PIPELINE_YAML, edited) == ["+    pick: 2\n"]
    assert (change.before, change.after, change.changed) == (None, 2, True)


def test_replacing_an_existing_pick_changes_only_its_value() -> None:
    """An existing pick keeps its place and its comment; only the number changes."""
    text = PIPELINE_YAML.replace("    pick: 1\n", "    pick: 1   # the sharper one\n")
    edited, change = edit_pick(text, "lamp", 2)
    assert changed_lines(text, edited) == [
        "-    pick: 1   # the sharper one\n",
        "+    pick: 2   # the sharper one\n",
    ]
    assert change.before == 1


def test_flow_style_shots_are_edited_inside_their_braces() -> None:
    """`- {id: a, ...}` gains `, pick: K` before its closing brace, and loses it again."""
    edited, _ = edit_pick(PIPELINE_YAML, "stairs", 2)
    line = "  - {id: stairs, prompt: 'Climbs the stairs', references: [keeper, surf], seeds: [7, 8]"
    assert changed_lines(PIPELINE_YAML, edited) == [f"-{line}}}\n", f"+{line}, pick: 2}}\n"]
    assert edit_pick(edited, "stairs", None)[0] == PIPELINE_YAML


def test_a_pick_in_the_middle_of_a_flow_mapping_is_removed_cleanly() -> None:
    """Removing `pick:` between other keys of a flow mapping leaves valid, tidy YAML."""
    text = 'version: 1\nshots: [{id: a, pick: 2, prompt: "x"}]  # one shot\n'
    assert (
        edit_pick(text, "a", None)[0] == 'version: 1\nshots: [{id: a, prompt: "x"}]  # one shot\n'
    )


def test_removing_pick_deletes_its_line_and_restores_the_original() -> None:
    """Clearing a pick that was added gives back the original file byte for byte."""
    added, _ = edit_pick(PIPELINE_YAML, "coast", 3)
    assert edit_pick(added, "coast", None)[0] == PIPELINE_YAML
    removed, change = edit_pick(PIPELINE_YAML, "lamp", None)
    assert changed_lines(PIPELINE_YAML, removed) == ["-    pick: 1\n"]
    assert change.before == 1 and change.after is None


def test_a_pick_that_opens_a_sequence_item_is_removed_without_breaking_it() -> None:
    """`- pick: 2` as a shot's first key: the next key moves up to the dash."""
    text = "shots:\n- pick: 2\n  id: a\n  prompt: x\n"
    assert edit_pick(text, "a", None)[0] == "shots:\n- id: a\n  prompt: x\n"


def test_block_scalars_and_windows_line_endings_survive() -> None:
    """A literal block as the last value and CRLF line endings are kept as they were."""
    text = "shots:\r\n  - id: a\r\n    prompt: |\r\n      two\r\n      lines\r\n# end\r\n"
    edited, _ = edit_pick(text, "a", 1)
    assert edited == text.replace("      lines\r\n", "      lines\r\n    pick: 1\r\n")


@settings(max_examples=40, deadline=None)
@given(shot=st.sampled_from(["coast", "stairs", "lamp"]), take=st.integers(1, 2))
def test_set_then_clear_round_trips_any_shot(shot: str, take: int) -> None:
    """For every shot and take, setting and then clearing leaves only the original pick: lines."""
    edited, _ = edit_pick(PIPELINE_YAML, shot, take)
    cleared, _ = edit_pick(edited, shot, None)
    original_cleared, _ = edit_pick(PIPELINE_YAML, shot, None)
    assert cleared == original_cleared
    assert read_picks_text(edited)[shot] == take


def read_picks_text(text: str) -> dict[str, int | None]:
    """read_picks over text, through a temporary file."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "p.yaml"
        path.write_text(text, encoding="utf-8")
        return read_picks(path)


def test_takes_bound_the_pick_from_the_shot_its_seeds_or_the_defaults() -> None:
    """K above takes: (shot), len(seeds:) or defaults' takes: is refused with the limit named."""
    with pytest.raises(TakeOutOfRange) as shot_level:
        edit_pick(PIPELINE_YAML, "coast", 4, shown_as="lighthouse.yaml")
    assert str(shot_level.value) == (
        "lighthouse.yaml: shot 'coast' has no take 4; a take is between 1 and 3\n"
        "Use --clear to go back to the first take that succeeded."
    )
    with pytest.raises(TakeOutOfRange, match="between 1 and 2"):
        edit_pick(PIPELINE_YAML, "stairs", 3)  # seeds: [7, 8]
    with pytest.raises(TakeOutOfRange, match="between 1 and 2"):
        edit_pick(PIPELINE_YAML, "lamp", 3)  # defaults: takes: 2
    one_take = PIPELINE_YAML.replace("  takes: 2 ", "  retries: 1")  # no takes: anywhere
    with pytest.raises(TakeOutOfRange, match="it has one take, so the only take is 1"):
        edit_pick(one_take, "lamp", 2)  # a run makes one take: 2 would not load
    assert edit_pick(one_take, "lamp", 1)[0]


def test_a_shot_not_in_the_main_file_is_an_error_naming_the_file() -> None:
    """An unknown id names the file and the files it includes (set_pick looks in them too)."""
    text = "include: [kit/brand.yaml]\n" + PIPELINE_YAML
    with pytest.raises(ShotNotInFile) as caught:
        edit_pick(text, "logo", 1, shown_as="teaser.yaml")
    assert str(caught.value) == (
        "teaser.yaml: no shot with id 'logo' in this file nor in the files it includes "
        "(kit/brand.yaml)\nCheck the id with `rdpipe status FILE`."
    )
    assert caught.value.exit_code == 2


def test_invalid_yaml_is_reported_with_line_and_column() -> None:
    """A syntax error points at the line and column and changes nothing."""
    with pytest.raises(PipelineNotEditable) as caught:
        edit_pick("shots:\n  - id: a\n   prompt: [x\n", "a", 1, shown_as="bad.yaml")
    assert str(caught.value) == (
        "bad.yaml:3:4: cannot edit pick: expected <block end>, but found '<block mapping start>'\n"
        "Fix the file (`rdpipe validate FILE` lists problems) or set pick: by hand."
    )


def test_set_pick_writes_atomically_and_keeps_permissions(tmp_path: Path) -> None:
    """The file is replaced whole (no temp file left), keeps its mode, and is untouched if same."""
    path = tmp_path / "lighthouse.yaml"
    path.write_text(PIPELINE_YAML, encoding="utf-8")
    os.chmod(path, 0o640)
    set_pick(path, "coast", 2)
    assert read_picks(path) == {"coast": 2, "stairs": None, "lamp": 1}
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lighthouse.yaml"]
    before = path.stat().st_mtime_ns, path.stat().st_ino
    assert not set_pick(path, "coast", 2).changed
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == before


@pytest.mark.parametrize("shot_id", ["007", "no", "1e3", "0x1F"])
def test_pick_finds_ids_as_written(shot_id: str, tmp_path: Path) -> None:
    """Ids that YAML 1.1 or 1.2 would type (007, no, 1e3) are found as `rdpipe run` reads them."""
    text = (
        "version: 1\nname: d\nmodel: m\n"
        f"shots:\n  - {{id: {shot_id}, prompt: x, takes: 2}}\n  - {{id: b, prompt: y}}\n"
    )
    edited, change = edit_pick(text, shot_id, 2)
    assert edited == text.replace("takes: 2}", "takes: 2, pick: 2}")
    assert (change.before, change.after) == (None, 2)
    path = tmp_path / "sb.yaml"
    path.write_text(edited, encoding="utf-8")
    assert read_picks(path) == {shot_id: 2, "b": None}


HEAD = (
    "version: 1\nname: d\nmodel: m\ndefaults: {takes: 2}\n"
    "vars:\n  p: &p A prompt\n  t: &t 3\n  five: &five 5\n"
)


@pytest.mark.parametrize(
    ("shot", "last_line"),
    [
        ("  - id: a\n    prompt: *p\n", "    prompt: *p\n"),
        ("  - id: a\n    prompt: x\n    takes: *t\n", "    takes: *t\n"),
        (
            "  - id: a\n    prompt: x\n    seconds: *five   # the usual\n",
            "    seconds: *five   # the usual\n",
        ),
        ("  - prompt: x\n    id: *n\n", "    id: *n\n"),
        ("  - id: a\n    prompt: x\n    references:\n      - *k\n", "      - *k\n"),
    ],
)
def test_an_alias_as_the_last_value_gets_pick_after_it(shot: str, last_line: str) -> None:
    """`prompt: *p` ends the shot where the alias is written, not where &p is anchored."""
    text = HEAD + "  n: &n a\n  k: &k keeper\nshots:\n" + shot + "  - id: b\n    prompt: y\n"
    edited, change = edit_pick(text, "a", 2)
    assert edited == text.replace(last_line, last_line + "    pick: 2\n")
    assert (change.before, change.after) == (None, 2)
    assert edit_pick(edited, "a", None)[0] == text


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("  - {id: a, prompt: *p}\n", "  - {id: a, prompt: *p, pick: 2}\n"),
        ("  - {id: a, takes: *t}   # three\n", "  - {id: a, takes: *t, pick: 2}   # three\n"),
        (
            "  - {id: a,\n     prompt: *p   # long\n    }\n",
            "  - {id: a,\n     prompt: *p, pick: 2   # long\n    }\n",
        ),
    ],
)
def test_an_alias_ending_a_flow_shot_gets_pick_before_the_brace(line: str, expected: str) -> None:
    """In `{..., prompt: *p}` the pick goes right after `*p`, before the brace and any comment."""
    text = HEAD + "shots:\n" + line
    edited, _ = edit_pick(text, "a", 2)
    assert edited == HEAD + "shots:\n" + expected
    assert edit_pick(edited, "a", None)[0] == text


def test_an_alias_with_a_comment_in_a_crlf_file_keeps_both() -> None:
    """CRLF line endings and the comment after `*p` stay; pick: gets a CRLF of its own."""
    text = "x: &p A prompt\r\nshots:\r\n  - id: a\r\n    prompt: *p  # shared\r\n  - id: b\r\n"
    edited, _ = edit_pick(text, "a", 1)
    assert edited == text.replace("*p  # shared\r\n", "*p  # shared\r\n    pick: 1\r\n")


def test_a_pick_written_as_an_alias_is_replaced_and_removed_where_it_is_written() -> None:
    """`pick: *one` becomes `pick: 2` (the anchor stays) and --clear removes that line only."""
    text = "x: &one 1\nshots:\n  - id: a\n    prompt: y\n    takes: 2\n    pick: *one  # c\n"
    edited, change = edit_pick(text, "a", 2)
    assert edited == text.replace("pick: *one  # c", "pick: 2  # c")
    assert (change.before, change.after) == (1, 2)
    assert edit_pick(text, "a", None)[0] == text.replace("    pick: *one  # c\n", "")


def test_an_anchored_pick_used_by_another_shot_is_not_changed() -> None:
    """`pick: &p 1` with `pick: *p` elsewhere: editing it would change the other shot."""
    text = "shots:\n  - {id: a, takes: 2, pick: &p 1}\n  - {id: b, takes: 2, pick: *p}\n"
    with pytest.raises(AnchorShared) as caught:
        edit_pick(text, "a", 2, shown_as="sb.yaml")
    assert str(caught.value) == (
        "sb.yaml:2:29: cannot edit pick: the pick: of shot 'a' is anchored (&p) and used again "
        "at line 3 (*p): changing it would change that too\n"
        "Edit the file by hand, keeping &p for what uses it."
    )
    edited, _ = edit_pick(text, "b", 2)
    assert edited == text.replace("pick: *p}", "pick: 2}")


WIDE = (
    "version: 1\nname: d\nmodel: m\nshots:\n"
    "  - &wide {id: wide, prompt: 'Wide view', takes: 3}\n"
    "  - <<: *wide\n    id: dusk\n"
)


def test_a_shot_other_shots_merge_is_not_edited_and_the_merging_shots_are_named() -> None:
    """pick: in `- &wide {...}` would apply to `- <<: *wide` too: say so and what to do."""
    with pytest.raises(AnchorShared) as caught:
        edit_pick(WIDE, "wide", 2, shown_as="sb.yaml")
    assert str(caught.value) == (
        "sb.yaml:5:5: cannot edit pick: shot 'wide' is anchored (&wide) and merged into shot "
        "'dusk' (<<: *wide): changing its pick: would change the pick of 'dusk' too\n"
        "To choose a take for 'dusk' alone, run `rdpipe pick sb.yaml dusk K` or write pick: in "
        "'dusk' by hand (its own keys win over merged ones); if 'dusk' should use take 2 too, "
        "write pick: 2 in 'wide' by hand."
    )
    assert caught.value.exit_code == 2
    two = WIDE + "  - <<: *wide\n    id: night\n"
    with pytest.raises(AnchorShared) as both:
        edit_pick(two.replace("takes: 3}", "takes: 3, pick: 1}"), "wide", None, shown_as="sb.yaml")
    assert str(both.value) == (
        "sb.yaml:5:5: cannot edit pick: shot 'wide' is anchored (&wide) and merged into shots "
        "'dusk' and 'night' (<<: *wide): changing its pick: would change the pick of 'dusk' "
        "and 'night' too\n"
        "To choose a take for one of them alone, run `rdpipe pick sb.yaml SHOT K` or write "
        "pick: in that shot by hand (its own keys win over merged ones); if all of them should "
        "go back to the first take that succeeded too, remove pick: from 'wide' by hand."
    )


def test_an_anchored_shot_is_edited_when_every_merging_shot_has_its_own_pick() -> None:
    """A merging shot's own pick: wins, so picking for the anchored shot changes only it."""
    text = WIDE + "    pick: 1\n"
    edited, _ = edit_pick(text, "wide", 2)
    assert edited == text.replace("takes: 3}", "takes: 3, pick: 2}")


@pytest.mark.parametrize(
    ("shot", "expected"),
    [
        ("  - <<: *wide\n    id: dusk\n", "  - <<: *wide\n    id: dusk\n    pick: 2\n"),
        ("  - id: dusk\n    <<: *wide\n", "  - id: dusk\n    <<: *wide\n    pick: 2\n"),
        ("  - {id: dusk, <<: *wide}  # c\n", "  - {id: dusk, <<: *wide, pick: 2}  # c\n"),
    ],
)
def test_a_shot_that_merges_another_is_picked_in_its_own_mapping(shot: str, expected: str) -> None:
    """`- <<: *wide` with its own id gets pick: among its own keys, even with `<<` last."""
    text = WIDE.split("  - <<:")[0] + shot
    edited, change = edit_pick(text, "dusk", 2)
    assert edited == WIDE.split("  - <<:")[0] + expected
    assert (change.before, change.after) == (None, 2)


def test_a_pick_merged_from_the_anchor_is_overridden_by_an_explicit_one(tmp_path: Path) -> None:
    """A merged pick: 1 gets an explicit pick in the merging shot; --clear writes pick: null."""
    text = WIDE.replace("takes: 3}", "takes: 3, pick: 1}")
    edited, change = edit_pick(text, "dusk", 3)
    assert edited == text + "    pick: 3\n"
    assert (change.before, change.after) == (1, 3)
    cleared, change = edit_pick(edited, "dusk", None)
    assert cleared == text + "    pick: null\n"
    assert (change.before, change.after) == (3, None)
    cleared_merged, change = edit_pick(text, "dusk", None)
    assert cleared_merged == text + "    pick: null\n"
    assert (change.before, change.changed) == (1, True)
    assert edit_pick(cleared, "dusk", None) == (cleared, PickChange("dusk", None, None))
    path = tmp_path / "sb.yaml"
    path.write_text(cleared.replace("\n", "\r\n"), encoding="utf-8")
    set_pick(path, "dusk", 2)
    assert path.read_bytes() == (text + "    pick: 2\n").replace("\n", "\r\n").encode()
    assert read_picks(path) == {"wide": 1, "dusk": 2}

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
    assert edit_pick(PIPELINE_YAML.replace("  takes: 2 ", "  retries: 1"), "lamp", 9)[0]


def test_a_shot_not_in_the_main_file_is_an_error_naming_the_file() -> None:
    """An unknown id (or one from an include) names the file and suggests where to look."""
    text = "include: [kit/brand.yaml]\n" + PIPELINE_YAML
    with pytest.raises(ShotNotInFile) as caught:
        edit_pick(text, "logo", 1, shown_as="teaser.yaml")
    assert str(caught.value) == (
        "teaser.yaml: no shot with id 'logo' in this file\n"
        "If it comes from an included file (kit/brand.yaml), write pick: in that file by hand."
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

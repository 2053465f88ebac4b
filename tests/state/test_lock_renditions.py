"""The lock file's renditions (issue 17 §1, lock version 3): an entry per shot and rendition,
named ``kite:draft`` / ``kite:vertical`` / ``kite``, the final's ``from_draft``; the exact bytes
written, what is read back, and what the reader refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rdpipe.state import (
    LockFileConflicted,
    LockFileInvalid,
    ShotLock,
    TakeLock,
    _lockfile,
    parse_lock,
    render_lock,
)

PATH = Path("/films/film.rdpipe.lock")
DRAFT_KEY, FINAL_KEY, VERTICAL_KEY = "d1" * 32, "f1" * 32, "e1" * 32

DRAFTS = ShotLock(
    "kite",
    DRAFT_KEY,
    "doubao-seedance-2-0-480p",
    (
        TakeLock(1, "task_d1", "clips/kite/1-d1d1d1d1d1d1.mp4", "aa" * 32, 11, 4.0),
        TakeLock(2, "task_d2", "clips/kite/2-d2d2d2d2d2d2.mp4", "bb" * 32, 22, 4.0, "d2" * 32),
    ),
    rendition="draft",
)
FINAL = ShotLock(
    "kite",
    FINAL_KEY,
    "doubao-seedance-2-0-1080p",
    (TakeLock(1, "task_f", "clips/kite/1-f1f1f1f1f1f1.mp4", "cc" * 32, 22, 4.0),),
    from_draft=2,
)
VERTICAL = ShotLock(
    "kite",
    VERTICAL_KEY,
    "doubao-seedance-2-0-1080p",
    (TakeLock(1, "task_v", "clips/kite/1-e1e1e1e1e1e1.mp4", "dd" * 32, 22, 4.0),),
    rendition="vertical",
    from_draft=2,
)
DOG = ShotLock(
    "dog",
    "0d" * 32,
    "doubao-seedance-2-0-1080p",
    (TakeLock(1, "task_g", "clips/dog/1-0d0d0d0d0d0d.mp4", "ee" * 32, 5, 4.0),),
)

GOLDEN = f"""\
# Written by rdpipe: the clips this pipeline produced. Commit it; do not edit it.
version: 3
shots:
- id: kite:draft
  key: '{DRAFT_KEY}'
  model: doubao-seedance-2-0-480p
  takes:
  - clip: clips/kite/1-d1d1d1d1d1d1.mp4
    duration: 4.0
    seed: 11
    sha256: '{"aa" * 32}'
    take: 1
    task_id: task_d1
  - clip: clips/kite/2-d2d2d2d2d2d2.mp4
    duration: 4.0
    key: '{"d2" * 32}'
    seed: 22
    sha256: '{"bb" * 32}'
    take: 2
    task_id: task_d2
- from_draft: 2
  id: kite
  key: '{FINAL_KEY}'
  model: doubao-seedance-2-0-1080p
  takes:
  - clip: clips/kite/1-f1f1f1f1f1f1.mp4
    duration: 4.0
    seed: 22
    sha256: '{"cc" * 32}'
    take: 1
    task_id: task_f
- from_draft: 2
  id: kite:vertical
  key: '{VERTICAL_KEY}'
  model: doubao-seedance-2-0-1080p
  takes:
  - clip: clips/kite/1-e1e1e1e1e1e1.mp4
    duration: 4.0
    seed: 22
    sha256: '{"dd" * 32}'
    take: 1
    task_id: task_v
- id: dog
  key: '{"0d" * 32}'
  model: doubao-seedance-2-0-1080p
  takes:
  - clip: clips/dog/1-0d0d0d0d0d0d.mp4
    duration: 4.0
    seed: 5
    sha256: '{"ee" * 32}'
    take: 1
    task_id: task_g
"""


def test_a_drafted_shot_has_an_entry_per_rendition_and_the_final_names_its_draft() -> None:
    """Drafts, final and regeneration are three entries named kite:draft, kite, kite:vertical;
    the final and its regeneration say from_draft: 2; the file is version 3."""
    assert render_lock([DRAFTS, FINAL, VERTICAL, DOG]) == GOLDEN


def test_the_rendition_lock_is_written_by_hand_as_pyyaml_would() -> None:
    """Entry names with a rendition take the quick path, with PyYAML's bytes."""
    entries = [_lockfile._shot_to_data(shot) for shot in (DRAFTS, FINAL, VERTICAL, DOG)]
    by_hand = _lockfile._written_by_hand(entries, 3)
    assert by_hand is not None
    by_pyyaml = _lockfile._dump({"version": 3}) + _lockfile._dump({"shots": entries})
    assert by_hand == by_pyyaml == GOLDEN.removeprefix(_lockfile._HEADER)


def test_the_rendition_lock_reads_back_as_written() -> None:
    """Each entry reads back with its shot id, rendition and from_draft."""
    assert parse_lock(GOLDEN, PATH) == (DRAFTS, FINAL, VERTICAL, DOG)


def test_a_lock_without_renditions_keeps_its_old_version() -> None:
    """A pipeline without drafts or regenerations still gets a version 1 file."""
    assert render_lock([DOG]).splitlines()[1] == "version: 1"


@settings(max_examples=100, deadline=None)
@given(
    shot_id=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,8}", fullmatch=True),
    rendition=st.just("") | st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True),
    from_draft=st.none() | st.integers(1, 20),
)
def test_any_entry_name_is_written_as_pyyaml_writes_it_and_reads_back(
    shot_id: str, rendition: str, from_draft: int | None
) -> None:
    """Every shot id and rendition rdpipe allows (ids may start with a digit, renditions may
    look like YAML words) gives PyYAML's bytes and reads back unchanged."""
    shot = ShotLock(shot_id, "0f" * 32, None, DOG.takes, rendition, from_draft)
    entries = [_lockfile._shot_to_data(shot)]
    by_pyyaml = _lockfile._dump({"version": shot.version}) + _lockfile._dump({"shots": entries})
    text = render_lock([shot])
    assert text == _lockfile._HEADER + by_pyyaml
    assert parse_lock(text, PATH) == (shot,)


def _edited(old: str, new: str) -> str:
    assert GOLDEN.count(old) == 1, old
    return GOLDEN.replace(old, new)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            _edited("- id: kite:draft\n", "- id: 'kite:'\n"),
            "4: shots[0].id: must be a shot id, or a shot id, `:` and a rendition (`kite:draft`, "
            "`kite:vertical`), not `kite:`",
        ),
        (
            _edited("- id: kite:draft\n", "- id: kite:draft:2\n"),
            "4: shots[0].id: must be a shot id, or a shot id, `:` and a rendition (`kite:draft`, "
            "`kite:vertical`), not `kite:draft:2`",
        ),
        (
            _edited("  id: kite:vertical\n", "  id: kite:9x16\n"),
            "33: shots[2].id: must be a shot id, or a shot id, `:` and a rendition (`kite:draft`, "
            "`kite:vertical`), not `kite:9x16`",
        ),
        (
            _edited("- from_draft: 2\n  id: kite\n", "- from_draft: 0\n  id: kite\n"),
            "21: shots[1].from_draft: must be a take number from 1, not `0`",
        ),
        (
            _edited("version: 3\n", "version: 2\n"),
            "21: shots[1].from_draft: unknown field: a shot has id, key, model and takes",
        ),
    ],
    ids=["empty rendition", "two colons", "rendition not a name", "from_draft 0", "version 2"],
)
def test_a_rendition_rdpipe_would_not_write_is_refused(text: str, message: str) -> None:
    """A hand-edited entry name or from_draft is refused at its line and field."""
    with pytest.raises(LockFileInvalid) as raised:
        parse_lock(text, PATH)
    assert type(raised.value) is LockFileInvalid
    assert str(raised.value).splitlines()[0] == f"{PATH}:{message}"


def test_a_rendition_given_twice_is_a_merge_conflict() -> None:
    """Both sides of a merge kept as two kite:draft entries: refused, naming the first."""
    text = GOLDEN + GOLDEN.split("shots:\n", 1)[1].split("- from_draft", 1)[0]
    with pytest.raises(LockFileConflicted) as raised:
        parse_lock(text, PATH)
    assert str(raised.value).splitlines()[0] == (
        f"{PATH}:53: shots[4].id: `kite:draft` has a second entry (the first is at line 4)"
    )

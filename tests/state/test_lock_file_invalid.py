"""A lock file rdpipe did not write is refused with its file, line and field, and a hint that
never risks paying again; what rdpipe writes, and optional fields left empty, read back."""

from __future__ import annotations

from pathlib import Path

import pytest

from rdpipe.errors import ExitCode
from rdpipe.state import (
    LockFile,
    LockFileInvalid,
    ShotLock,
    TakeCost,
    TakeLock,
    _lock_reader,
    parse_lock,
    render_lock,
)
from tests.state.bad_locks import BAD_LOCKS, GOOD, BadLock, edited, hint

PATH = Path("/films/p.rdpipe.lock")


def _refusal(text: str) -> LockFileInvalid:
    with pytest.raises(LockFileInvalid) as caught:
        parse_lock(text, PATH)
    return caught.value


@pytest.mark.parametrize("bad", BAD_LOCKS, ids=lambda bad: bad.name)
def test_a_bad_lock_file_is_refused_where_it_went_bad(bad: BadLock) -> None:
    """Each bad lock file gives its one message, naming file, line and field, with its hint."""
    error = _refusal(bad.text)
    assert type(error) is bad.kind
    assert str(error) == f"/films/p.rdpipe.lock:{bad.message}\n{hint(bad.kind, PATH)}"
    assert error.exit_code == ExitCode.INVALID_INPUT
    assert error.line == int(bad.message.split(":")[0])


def test_no_hint_says_to_delete_the_lock_file() -> None:
    """Deleting the lock file makes a clone without a shared store pay again: never advised."""
    for bad in BAD_LOCKS:
        assert "delete" not in str(_refusal(bad.text)).lower()


def test_what_rdpipe_writes_reads_back() -> None:
    """The lock file the bad ones are made from is read as it was written."""
    shots = parse_lock(GOOD, PATH)
    assert [shot.shot_id for shot in shots] == ["a", "b"]
    assert render_lock(shots) == GOOD
    assert shots[1].takes[1] == TakeLock(
        2, "task_b2", "clips/b/2-c3c3c3c3c3c3.mp4", "cc" * 32, 9, 4.0, "c3" * 32
    )


def test_optional_fields_left_empty_read_as_absent() -> None:
    """``null`` in model, seed, duration or a take's key is the field left out."""
    text = (
        edited(
            "  model: doubao-seedance-2-0-480p\n  takes:\n  - clip: clips/a",
            "  model: ~\n  takes:\n  - clip: clips/a",
        )
        .replace("    seed: 7\n", "    seed: null\n")
        .replace("    duration: 4.0\n    seed: null\n", "    duration:\n    seed: null\n")
    )
    shot = parse_lock(text, PATH)[0]
    assert (shot.model, shot.takes[0].seed, shot.takes[0].duration) == (None, None, None)


def test_whole_seconds_and_windows_line_ends_read_as_written() -> None:
    """``duration: 4`` is 4.0 seconds, and a checkout with CRLF line ends reads the same."""
    text = edited("    duration: 4.0\n    seed: 7\n", "    duration: 4\n    seed: 7\n")
    assert parse_lock(text.replace("\n", "\r\n"), PATH) == parse_lock(GOOD, PATH)


def test_a_lock_file_not_utf8_names_the_line(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are refused with their line, not a crash."""
    path = tmp_path / "p.rdpipe.lock"
    path.write_bytes(GOOD.encode().replace(b"task_b1", b"task_\xff1"))
    with pytest.raises(LockFileInvalid) as caught:
        LockFile(path).read()
    assert str(caught.value).splitlines()[0] == (
        f"{path}:23: not UTF-8 text (byte 0xFF cannot be read)"
    )


def test_a_marker_inside_a_value_is_no_conflict() -> None:
    """Only a marker at a line start is git's: the same characters inside a value are text."""
    text = edited("    task_id: task_a\n", "    task_id: <<<<<<< =======\n")
    assert parse_lock(text, PATH)[0].takes[0].task_id == "<<<<<<< ======="


def test_the_reader_knows_every_field_the_writer_writes() -> None:
    """A field added to the entries must be read too (and come with a new lock version)."""
    take_fields = set(vars(TakeLock(1, "t", "c", "0" * 64)))
    assert set(_lock_reader._TAKE_FIELDS_2) == take_fields
    assert set(_lock_reader._TAKE_FIELDS) == take_fields - {"cost"}  # version 1: no costs
    cost = TakeCost("USD", 1.0, 500_000, 500_000)
    assert set(_lock_reader._COST_FIELDS) == set(vars(cost))
    shot = ShotLock("s", "0" * 64, None, ())
    # version 3: the rendition is part of the entry's id (``kite:draft``)
    assert set(_lock_reader._SHOT_FIELDS_3) == {"id", *vars(shot)} - {"shot_id", "rendition"}
    assert set(_lock_reader._SHOT_FIELDS) == set(_lock_reader._SHOT_FIELDS_3) - {"from_draft"}

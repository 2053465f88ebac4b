"""Clip files are hashed again only when their state on disk changed (issue 12, start-up).

Every test checks a clip against the store the way a rerun does; ``reads`` counts the files the
store hashes. ``LATER`` is a clock a minute ahead, so that a clip written by the test counts as
settled (left alone for longer than ``SETTLED``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import rdpipe.state._clips as clips_module
from rdpipe.state import ClipStore
from rdpipe.state._digests import SETTLED
from rdpipe.state._records import ClipFile

PLACE = "clips/opening/1-3f2a9c0e1b7d.mp4"
DIGESTS = Path(".cache/clip-digests.jsonl")


def later() -> float:
    return time.time() + 60


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files the clip store reads to hash, in order."""
    hashed: list[Path] = []
    real: Callable[[Path], str] = clips_module.hash_file

    def counting(path: Path) -> str:
        hashed.append(path)
        return real(path)

    monkeypatch.setattr(clips_module, "hash_file", counting)
    return hashed


def adopted(root: Path, data: bytes) -> ClipFile:
    store = ClipStore(root)
    incoming = store.receive("opening", 1, "3f2a9c0e1b7d" + "0" * 52, "task_a")
    incoming.path.write_bytes(data)
    return store.adopt(incoming).file


def test_a_settled_clip_found_as_recorded_is_not_read_again(
    tmp_path: Path, reads: list[Path]
) -> None:
    """Once hashed and found as recorded, an unchanged clip is checked by its state alone, also
    by a later process."""
    clip = adopted(tmp_path, b"whole clip")
    reads.clear()

    assert ClipStore(tmp_path, clock=later).verify(clip).ok
    assert ClipStore(tmp_path, clock=later).verify(clip).ok
    assert ClipStore(tmp_path, clock=later).verify(clip).ok

    assert reads == [tmp_path / PLACE]
    assert len((tmp_path / DIGESTS).read_text().splitlines()) == 1


def test_a_clip_changed_moments_ago_is_hashed_every_time(tmp_path: Path, reads: list[Path]) -> None:
    """A file changed less than SETTLED seconds ago could change again within the same clock
    tick without its state showing it, so its state is not recorded yet."""
    clip = adopted(tmp_path, b"whole clip")
    reads.clear()

    def now() -> float:
        return time.time() + SETTLED / 2

    assert ClipStore(tmp_path, clock=now).verify(clip).ok
    assert ClipStore(tmp_path, clock=now).verify(clip).ok

    assert reads == [tmp_path / PLACE] * 2
    assert not (tmp_path / DIGESTS).exists()


def _same_size_rewrite(path: Path) -> None:
    time.sleep(0.01)  # a later clock tick, as any damage after the check is
    path.write_bytes(b"evil clip!")


def _same_size_rewrite_with_old_times(path: Path) -> None:
    before = path.stat()
    _same_size_rewrite(path)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # touch -r: mtime set back


def _replaced_by_a_same_size_file(path: Path) -> None:
    before = path.stat()
    other = path.with_name("other.mp4")
    other.write_bytes(b"evil clip!")
    os.utime(other, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(other, path)


@pytest.mark.parametrize(
    "damage",
    [_same_size_rewrite, _same_size_rewrite_with_old_times, _replaced_by_a_same_size_file],
    ids=["rewritten", "rewritten, mtime set back", "replaced, mtime set back"],
)
def test_damage_of_the_same_size_is_still_found(
    tmp_path: Path, reads: list[Path], damage: Callable[[Path], None]
) -> None:
    """Bytes of the same size written over a known clip, even with its modification time set
    back, or another file moved into its place, change its state: it is hashed, and fails."""
    clip = adopted(tmp_path, b"whole clip")
    assert ClipStore(tmp_path, clock=later).verify(clip).ok
    reads.clear()

    damage(tmp_path / PLACE)
    check = ClipStore(tmp_path, clock=later).verify(clip)

    assert (check.problem, check.detail) == ("sha256", f"{PLACE} changed since it was downloaded")
    assert reads == [tmp_path / PLACE]


def test_a_clip_cut_short_is_found_by_its_size_unread(tmp_path: Path, reads: list[Path]) -> None:
    """A known clip cut short fails on its size, before any state or hash is looked at."""
    clip = adopted(tmp_path, b"whole clip")
    assert ClipStore(tmp_path, clock=later).verify(clip).ok
    reads.clear()

    (tmp_path / PLACE).write_bytes(b"whole")

    assert ClipStore(tmp_path, clock=later).verify(clip).problem == "size"
    assert reads == []


def test_a_wrong_digest_on_record_is_never_trusted(tmp_path: Path, reads: list[Path]) -> None:
    """A recorded state whose digest differs from the clip's is hashed again, not believed."""
    clip = adopted(tmp_path, b"whole clip")
    store = ClipStore(tmp_path, clock=later)
    stat = (tmp_path / PLACE).stat()
    store.digests.remember(PLACE, stat, "0" * 64)
    reads.clear()

    assert ClipStore(tmp_path, clock=later).verify(clip).ok
    assert reads == [tmp_path / PLACE]


def test_an_unreadable_or_torn_record_counts_as_none(tmp_path: Path, reads: list[Path]) -> None:
    """Lines a killed run left half-written, or that are not records, are skipped."""
    clip = adopted(tmp_path, b"whole clip")
    assert ClipStore(tmp_path, clock=later).verify(clip).ok
    record = (tmp_path / DIGESTS).read_text()
    (tmp_path / DIGESTS).write_text('not json\n[1, 2]\n["a", true, 1, 2, 3, "x"]\n' + record[:-9])
    reads.clear()

    assert ClipStore(tmp_path, clock=later).verify(clip).ok
    assert ClipStore(tmp_path, clock=later).verify(clip).ok

    assert reads == [tmp_path / PLACE]


def test_without_a_writable_cache_clips_are_still_checked(
    tmp_path: Path, reads: list[Path]
) -> None:
    """A cache path that cannot be written (a folder in its place) keeps states in memory."""
    clip = adopted(tmp_path, b"whole clip")
    (tmp_path / DIGESTS).mkdir(parents=True)
    store = ClipStore(tmp_path, clock=later)
    reads.clear()

    assert store.verify(clip).ok and store.verify(clip).ok
    assert ClipStore(tmp_path, clock=later).verify(clip).ok

    assert reads == [tmp_path / PLACE] * 2


def test_the_record_file_is_compacted(tmp_path: Path) -> None:
    """States recorded again and again do not grow the file without bound."""
    clip = adopted(tmp_path, b"whole clip")
    path = tmp_path / PLACE
    for number in range(200):
        os.utime(path, ns=(number, number))
        assert ClipStore(tmp_path, clock=later).verify(clip).ok

    assert len((tmp_path / DIGESTS).read_text().splitlines()) <= 2 * 1 + 64

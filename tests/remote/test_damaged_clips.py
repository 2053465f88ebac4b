"""A clip that arrives damaged from the store: read twice before anything is done to it, and
then moved aside to ``damaged/``, never deleted (the store may hold a team's only copy of a
paid clip whose task has expired on the server)."""

from __future__ import annotations

import hashlib
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from rdpipe.errors import ExitCode
from rdpipe.remote import RemoteClipCorrupt, RemoteClipMissing, SharedClipStore, open_shared_store
from rdpipe.remote.backends import Backend
from tests.remote.conftest import MakeClip, StoreFiles

NOW = 1_780_000_000.75  # the store's clock: epoch seconds when a damaged clip is moved aside
GOOD = b"good clip bytes" * 1000


@pytest.fixture
def store(store_url: str) -> SharedClipStore:
    """The store at ``store_url``, its clock stopped at ``NOW``."""
    return open_shared_store(store_url, claim_timeout=60.0, clock=lambda: NOW)


def _stored(sha256: str) -> str:
    return f"clips/{sha256[:2]}/{sha256}.mp4"


class DamagedReads:
    """Counts the reads of clips through :meth:`Backend.read_chunks` (the seam every read of a
    clip goes through) and flips one byte of the first chunk of the first ``bad`` of them, as a
    flaky proxy would."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, bad: int) -> None:
        self.bad = bad
        self.reads = 0
        read = Backend.read_chunks

        def read_chunks(backend: Backend, path: str, action: str) -> Iterator[bytes]:
            self.reads += 1
            chunks = read(backend, path, action)
            return chunks if self.reads > self.bad else _flipped(chunks)

        monkeypatch.setattr(Backend, "read_chunks", read_chunks)


def _flipped(chunks: Generator[bytes, None, None]) -> Generator[bytes, None, None]:
    try:
        first = next(chunks, b"")
        yield bytes([first[0] ^ 1]) + first[1:] if first else first
        yield from chunks
    finally:
        chunks.close()


@pytest.mark.parametrize("damage", ["same-size", "truncated"])
def test_a_clip_damaged_in_the_store_is_moved_aside_and_pushed_again(
    store: SharedClipStore,
    store_url: str,
    store_files: StoreFiles,
    clip: MakeClip,
    tmp_path: Path,
    damage: str,
) -> None:
    """Bytes that hash wrong on two reads: the pull raises, dest keeps its old bytes, and the
    object is moved (not deleted) to damaged/<sha256>-<epoch>.mp4, so its name is free and
    the next push uploads a good copy."""
    path, entry = clip(GOOD)
    store.push(path, entry)
    bad = b"bad clip bytes!" * 1000 if damage == "same-size" else GOOD[:1000]
    store_files.put(_stored(entry.sha256), bad)
    dest = tmp_path / "out" / "clip.mp4"
    dest.parent.mkdir()
    dest.write_bytes(b"old")

    with pytest.raises(RemoteClipCorrupt) as caught:
        store.pull(entry.sha256, dest)

    root = store_url.removeprefix("file://").removeprefix("s3://")
    aside = f"damaged/{entry.sha256}-1780000000.mp4"
    assert str(caught.value) == (
        f"The clip {entry.sha256} in the shared clip store {store_url} is damaged (read twice, "
        f"its bytes never hashed to its name; the first read to {hashlib.sha256(bad).hexdigest()}"
        f") and was moved to {root}/{aside} in the store; nothing was written here.\n"
        "A push from a machine that has the clip (`rdpipe push FILE`) restores it; the damaged "
        f"copy stays at {root}/{aside} until someone removes it."
    )
    assert caught.value.reason == (
        f"the clip {entry.sha256} in the shared clip store {store_url} is damaged and was moved "
        f"to {root}/{aside}"
    )
    assert (caught.value.path, caught.value.moved_to) == (
        f"{root}/{_stored(entry.sha256)}",
        f"{root}/{aside}",
    )
    assert caught.value.store_damaged and caught.value.exit_code == ExitCode.FAILED
    assert [p.name for p in dest.parent.iterdir()] == ["clip.mp4"]
    assert dest.read_bytes() == b"old"
    assert store_files.paths("clips") == []
    assert store_files.paths("damaged") == [aside]
    assert store_files.read(aside) == bad  # kept, byte for byte
    with pytest.raises(RemoteClipMissing):
        store.pull(entry.sha256, dest)

    assert store.push(path, entry) is True
    store.pull(entry.sha256, dest)
    assert dest.read_bytes() == GOOD


def test_one_bad_read_of_a_good_clip_leaves_the_store_alone(
    store: SharedClipStore,
    store_files: StoreFiles,
    clip: MakeClip,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first read is damaged on its way (a flaky proxy), the second hashes right: nothing
    is written here, nothing moves in the store, and the error says the store's copy is
    whole; the next pull gets the clip."""
    path, entry = clip(GOOD)
    store.push(path, entry)
    reads = DamagedReads(monkeypatch, bad=1)

    with pytest.raises(RemoteClipCorrupt) as caught:
        store.pull(entry.sha256, tmp_path / "clip.mp4")

    assert reads.reads == 2  # the download, then the second read (hashing only)
    flipped = hashlib.sha256(bytes([GOOD[0] ^ 1]) + GOOD[1:]).hexdigest()
    assert str(caught.value).endswith(
        f"arrived damaged (its bytes hash to {flipped}) and was left there: a second read hashed "
        "right. Nothing was written here.\n"
        "Pull again (`rdpipe pull FILE`): the network, a proxy or this machine damaged that read."
    )
    assert caught.value.reason.endswith(
        "arrived damaged here, though the copy there is whole: a second read hashed right"
    )
    assert caught.value.whole and not caught.value.store_damaged
    assert list(tmp_path.glob("clip.mp4*")) == list(tmp_path.glob(".clip.mp4*")) == []
    assert store_files.paths("clips") == [_stored(entry.sha256)]
    assert store_files.read(_stored(entry.sha256)) == GOOD
    assert store_files.paths("damaged") == []

    store.pull(entry.sha256, tmp_path / "clip.mp4")
    assert (tmp_path / "clip.mp4").read_bytes() == GOOD


def test_a_machine_that_damages_every_read_destroys_nothing(
    store: SharedClipStore,
    store_files: StoreFiles,
    clip: MakeClip,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Even when both reads are damaged here (the store's copy is good), the clip is moved
    aside whole, not deleted: its bytes are still in the store, under damaged/."""
    path, entry = clip(GOOD)
    store.push(path, entry)
    reads = DamagedReads(monkeypatch, bad=2)

    with pytest.raises(RemoteClipCorrupt) as caught:
        store.pull(entry.sha256, tmp_path / "clip.mp4")

    assert caught.value.store_damaged and reads.reads == 2
    aside = f"damaged/{entry.sha256}-1780000000.mp4"
    assert store_files.paths("damaged") == [aside]
    assert store_files.read(aside) == GOOD


def test_a_damaged_clip_repaired_while_it_is_read_is_left(
    store: SharedClipStore, store_files: StoreFiles, clip: MakeClip, tmp_path: Path
) -> None:
    """A good copy pushed while the damaged one was being read is not moved: the pull says
    so, and pulling again gets the good copy."""
    _, entry = clip(GOOD)
    stored = _stored(entry.sha256)
    store_files.put(stored, b"bad clip bytes!" * 1000)

    def repair(done: int, total: int | None) -> None:
        if done:  # after the first chunk was read: a teammate's push repairs the object
            store_files.put(stored, GOOD)

    with pytest.raises(RemoteClipCorrupt) as caught:
        store.pull(entry.sha256, tmp_path / "clip.mp4", progress=repair)

    assert caught.value.problem == "a new copy arrived while it was read"
    assert str(caught.value).endswith(
        "and was left there: a new copy arrived while it was read. Nothing was written here.\n"
        f"Pull again; if it is still damaged, move {caught.value.path} out of the store (to its "
        "damaged/ folder) and push the clip (`rdpipe push FILE`) from a machine that has it."
    )
    assert store_files.paths("damaged") == []
    store.pull(entry.sha256, tmp_path / "clip.mp4")
    assert (tmp_path / "clip.mp4").read_bytes() == GOOD


def test_a_damaged_clip_that_cannot_be_moved_says_how_to_move_it(
    tmp_path: Path, clip: MakeClip, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder store that refuses the move: the damaged clip stays, named with the folder's
    reason and the path to move by hand."""
    import fsspec.implementations.local

    def refuse(self: object, source: str, target: str, **options: object) -> None:
        raise PermissionError(13, "Permission denied", target)

    (tmp_path / "store").mkdir()
    store = open_shared_store(f"file://{tmp_path / 'store'}", clock=lambda: NOW)
    path, entry = clip(GOOD)
    store.push(path, entry)
    stored = tmp_path / "store" / _stored(entry.sha256)
    stored.write_bytes(b"bad clip bytes!" * 1000)
    monkeypatch.setattr(fsspec.implementations.local.LocalFileSystem, "mv", refuse)

    with pytest.raises(RemoteClipCorrupt) as caught:
        store.pull(entry.sha256, tmp_path / "clip.mp4")

    bad = hashlib.sha256(b"bad clip bytes!" * 1000).hexdigest()
    assert str(caught.value) == (
        f"The clip {entry.sha256} in the shared clip store file://{tmp_path / 'store'} is "
        f"damaged (its bytes hash to {bad}) and was left there: Permission denied. Nothing was "
        f"written here.\nPull again; if it is still damaged, move {stored} out of the store (to "
        "its damaged/ folder) and push the clip (`rdpipe push FILE`) from a machine that has it."
    )
    assert not caught.value.store_damaged
    assert stored.read_bytes() == b"bad clip bytes!" * 1000

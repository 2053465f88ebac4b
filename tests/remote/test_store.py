"""The shared clip store on a folder and on S3: content-addressed, indexed, verified both ways."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from rdpipe.errors import ExitCode
from rdpipe.remote import (
    IndexEntry,
    LocalClipMismatch,
    RemoteBackendMissing,
    RemoteClipMissing,
    RemoteUnavailable,
    SharedClipStore,
    open_shared_store,
)
from tests.remote.conftest import KEY, OTHER_KEY, MakeClip, StoreFiles


def test_push_then_pull_gives_back_the_exact_bytes(
    store: SharedClipStore, clip: MakeClip, tmp_path: Path
) -> None:
    """A pushed clip is indexed under its key and take and pulls back byte for byte."""
    data = bytes(range(256)) * 5000
    path, entry = clip(data)

    assert store.push(path, entry) is True
    assert store.lookup(KEY, 1) == entry
    assert store.has_clip(entry.sha256)
    store.pull(entry.sha256, tmp_path / "pulled" / "clip.mp4")

    assert (tmp_path / "pulled" / "clip.mp4").read_bytes() == data
    assert sorted(p.name for p in (tmp_path / "pulled").iterdir()) == ["clip.mp4"]


def test_progress_is_reported_in_bytes_both_ways(
    store: SharedClipStore, clip: MakeClip, tmp_path: Path
) -> None:
    """Push and pull call progress(0, total) first, then progress(done, total) after each
    chunk, ending at the clip's size."""
    path, entry = clip(b"x" * (3 * 1024 * 1024 + 5))
    pushed: list[tuple[int, int | None]] = []
    pulled: list[tuple[int, int | None]] = []

    store.push(path, entry, progress=lambda done, total: pushed.append((done, total)))
    store.pull(entry.sha256, tmp_path / "c.mp4", progress=lambda d, t: pulled.append((d, t)))

    assert pushed[0] == pulled[0] == (0, entry.size)  # a bar shows the size from the start
    assert pushed[-1] == pulled[-1] == (entry.size, entry.size)
    assert [done for done, _ in pushed] == sorted(done for done, _ in pushed)
    assert [done for done, _ in pulled] == sorted(done for done, _ in pulled)
    assert len(pushed) == 5  # the start, then 1 MiB read from disk at a time


def test_identical_clips_are_stored_once(
    store: SharedClipStore, clip: MakeClip, store_files: StoreFiles
) -> None:
    """Two shots with the same bytes: two index entries, one object, uploaded once."""
    first_path, first = clip(b"same bytes" * 100, key=KEY, name="a.mp4")
    second_path, second = clip(b"same bytes" * 100, key=OTHER_KEY, take=2, name="b.mp4")

    assert store.push(first_path, first) is True
    assert store.push(second_path, second) is False

    assert store.lookup(KEY, 1) == first
    assert store.lookup(OTHER_KEY, 2) == second
    assert store_files.paths("clips") == [f"clips/{first.sha256[:2]}/{first.sha256}.mp4"]
    assert store_files.paths("tmp") == []
    assert sorted(store_files.paths("index")) == [
        f"index/{KEY}/1.json",
        f"index/{OTHER_KEY}/2.json",
    ]


def test_lookup_of_an_unknown_key_is_none(store: SharedClipStore) -> None:
    """Nothing indexed under a key: lookup says None, and no clip is there."""
    assert store.lookup(KEY, 1) is None
    assert store.has_clip("0" * 64) is False


def test_lookup_many_answers_for_the_entries_found(store: SharedClipStore, clip: MakeClip) -> None:
    """lookup_many over 100 takes returns exactly the 10 indexed, each with its entry."""
    path, entry = clip(b"one clip for many takes")
    indexed = {(KEY, take) for take in range(1, 101, 10)}
    for key, take in indexed:
        store.push(path, IndexEntry(**{**vars(entry), "key": key, "take": take}))

    found = store.lookup_many([(KEY, take) for take in range(1, 101)])

    assert set(found) == indexed
    assert all(found[pair].take == pair[1] and found[pair].key == KEY for pair in found)
    assert store.lookup_many([]) == {}


def test_an_unreadable_index_entry_counts_as_absent(
    store: SharedClipStore, store_files: StoreFiles, clip: MakeClip
) -> None:
    """An index entry that is not rdpipe's JSON is no entry, for lookup and lookup_many."""
    path, entry = clip(b"clip")
    store.push(path, entry)
    store_files.put(f"index/{KEY}/1.json", b"{not json")

    assert store.lookup(KEY, 1) is None
    assert store.lookup_many([(KEY, 1)]) == {}


def test_a_push_repairs_a_stored_clip_of_the_wrong_size(
    store: SharedClipStore, store_files: StoreFiles, clip: MakeClip, tmp_path: Path
) -> None:
    """An object under the clip's name with another size is uploaded again."""
    path, entry = clip(b"the real clip" * 100)
    store_files.put(f"clips/{entry.sha256[:2]}/{entry.sha256}.mp4", b"truncated")

    assert store.push(path, entry) is True
    store.pull(entry.sha256, tmp_path / "back.mp4")
    assert (tmp_path / "back.mp4").read_bytes() == b"the real clip" * 100


def test_pulling_a_clip_the_store_lacks_names_it(store: SharedClipStore, tmp_path: Path) -> None:
    """Pulling an unknown sha256 raises RemoteClipMissing and leaves no file."""
    with pytest.raises(RemoteClipMissing, match="has no clip " + "0" * 64):
        store.pull("0" * 64, tmp_path / "x.mp4")
    assert [path.name for path in tmp_path.iterdir() if path.name != "team-store"] == []


def test_a_local_clip_unlike_its_entry_is_not_pushed(
    store: SharedClipStore, clip: MakeClip, store_files: StoreFiles
) -> None:
    """A file whose size or sha256 differs from its entry is refused; the store stays empty."""
    path, entry = clip(b"recorded bytes")
    path.write_bytes(b"changed bytes!")  # same size, other content

    with pytest.raises(LocalClipMismatch) as caught:
        store.push(path, entry)
    with pytest.raises(LocalClipMismatch, match="has size 3 bytes, but its entry says 14 bytes"):
        path.write_bytes(b"abc")
        store.push(path, entry)

    assert str(caught.value).startswith(f"Not pushed: {path} has sha256 ")
    assert (
        store_files.paths("clips") == store_files.paths("tmp") == store_files.paths("index") == []
    )


def test_a_missing_back_end_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """An s3:// store without s3fs installed says which extra to install, with exit code 2."""
    monkeypatch.setitem(sys.modules, "s3fs", None)

    with pytest.raises(RemoteBackendMissing) as caught:
        open_shared_store("s3://team-clips/rdpipe")

    assert str(caught.value) == (
        "The shared clip store s3://team-clips/rdpipe needs the Python package 's3fs', which "
        "is not installed.\nInstall it with: pip install 'rdpipe[s3]'"
    )
    assert caught.value.exit_code == ExitCode.INVALID_INPUT


def test_an_unreachable_store_raises_remote_unavailable(
    monkeypatch: pytest.MonkeyPatch, s3_store_url: str
) -> None:
    """A store whose server does not answer raises RemoteUnavailable naming what was tried."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # the discard port: refused
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    store = open_shared_store(s3_store_url)

    with pytest.raises(RemoteUnavailable) as caught:
        store.lookup(KEY, 1)

    assert str(caught.value).startswith(
        f"Could not read the index entry in the shared clip store {s3_store_url} "
        f"({s3_store_url.removeprefix('s3://')}/index/{KEY}/1.json): "
    )
    assert caught.value.exit_code == ExitCode.FAILED


def test_claims_are_supported_where_create_is_atomic(tmp_path: Path) -> None:
    """Folders and S3 hold claims; a memory store says why it cannot."""
    assert open_shared_store(f"file://{tmp_path}").supports_claims
    assert open_shared_store("s3://bucket/prefix").supports_claims
    memory = open_shared_store("memory://rdpipe-test")
    assert not memory.supports_claims
    assert memory.claims_unsupported_reason == (
        "a memory:// store lives in one process and has no atomic create"
    )
    with pytest.raises(ValueError, match="cannot hold claims"):
        memory.claim(KEY, 1, "owner", now=0.0)

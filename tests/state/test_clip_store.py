"""The clip store: atomic adoption of downloads, no overwrite of paid clips, and verification."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from rdpipe.state import ClipStore, IncomingClip, StoredClip, clip_place

KEY = "3f2a9c0e1b7d" + "0" * 52
PLACE = "clips/opening/1-3f2a9c0e1b7d.mp4"


def _download(store: ClipStore, data: bytes, task_id: str = "task_a") -> IncomingClip:
    """What a download of ``data`` for shot ``opening``, take 1, leaves for the store to adopt."""
    incoming = store.receive("opening", 1, KEY, task_id)
    incoming.path.write_bytes(data)
    return incoming


def test_clip_place_includes_shot_take_and_key(tmp_path: Path) -> None:
    """A clip's place is clips/<shot>/<take>-<key[:12]>.mp4, so a new key never reuses a place."""
    assert clip_place("opening", 1, KEY) == PLACE
    assert clip_place("opening", 2, "a" * 64) == "clips/opening/2-aaaaaaaaaaaa.mp4"


@pytest.mark.parametrize("shot_id", ["", "..", "a/b", "a\\b"])
def test_clip_place_refuses_unsafe_shot_ids(shot_id: str) -> None:
    """A shot id that would escape or nest directories is refused."""
    with pytest.raises(ValueError, match="cannot be used as a directory name"):
        clip_place(shot_id, 1, KEY)


def test_a_download_arrives_in_a_temporary_file_the_store_names(tmp_path: Path) -> None:
    """The store gives a download a hidden file beside the clip's place, named by its task, and
    creates the shot's folder for it."""
    incoming = ClipStore(tmp_path).receive("opening", 1, KEY, "task_a")
    assert incoming == IncomingClip(
        tmp_path / "clips/opening/.incoming-task_a.mp4", PLACE, "task_a"
    )  # fmt: skip
    assert incoming.path.parent.is_dir() and not incoming.path.exists()


def test_adopt_moves_download_into_place(tmp_path: Path) -> None:
    """Adopting a download moves it to its final place and returns the stored clip: its
    relative and absolute path, size and sha256."""
    store = ClipStore(tmp_path)
    clip = store.adopt(_download(store, b"mp4 bytes"))
    digest = hashlib.sha256(b"mp4 bytes").hexdigest()
    assert clip == StoredClip(PLACE, tmp_path / PLACE, 9, digest)
    assert (clip.file.path, clip.file.size, clip.file.sha256) == (PLACE, 9, digest)
    assert (tmp_path / PLACE).read_bytes() == b"mp4 bytes"
    assert sorted(p.name for p in (tmp_path / "clips/opening").iterdir()) == [Path(PLACE).name]


def test_discard_removes_what_arrived(tmp_path: Path) -> None:
    """A download found unusable is discarded; discarding twice is no error."""
    store = ClipStore(tmp_path)
    incoming = _download(store, b"not a video")
    store.discard(incoming)
    store.discard(incoming)
    assert list((tmp_path / "clips/opening").iterdir()) == []


def test_stale_downloads_are_removed_and_clips_kept(tmp_path: Path) -> None:
    """Downloads a stopped run left (also an older rdpipe's .part files) are removed; adopted
    clips stay."""
    store = ClipStore(tmp_path)
    clip = store.adopt(_download(store, b"kept"))
    left = _download(store, b"half", task_id="task_b").path
    older = left.with_name(".incoming-task_c.mp4.part")
    older.write_bytes(b"half")
    store.remove_stale_downloads()
    assert list((tmp_path / "clips/opening").iterdir()) == [clip.path]


def test_the_last_frame_is_kept_beside_its_clip(tmp_path: Path) -> None:
    """A clip's last frame has its own name beside the clip, for shots that continue from it."""
    clip = ClipStore(tmp_path).adopt(_download(ClipStore(tmp_path), b"clip"))
    assert clip.last_frame == tmp_path / "clips/opening/1-3f2a9c0e1b7d-last-frame.png"


def test_different_clip_never_overwrites_a_paid_one(tmp_path: Path) -> None:
    """A second, different clip for the same place goes beside the first, which is kept."""
    store = ClipStore(tmp_path)
    store.adopt(_download(store, b"first take"))
    second = store.adopt(_download(store, b"second take"))
    assert second.relative == "clips/opening/1-3f2a9c0e1b7d-2.mp4"
    assert second.path == tmp_path / second.relative
    assert (tmp_path / PLACE).read_bytes() == b"first take"
    assert second.path.read_bytes() == b"second take"


def test_identical_clip_is_adopted_once(tmp_path: Path) -> None:
    """Downloading the same clip again reuses the file in place and leaves no copy behind."""
    store = ClipStore(tmp_path)
    first = store.adopt(_download(store, b"same"))
    again = store.adopt(_download(store, b"same", task_id="task_b"))
    assert again == first
    assert [p.name for p in (tmp_path / "clips/opening").iterdir()] == [Path(PLACE).name]


def test_verify_accepts_an_intact_clip(tmp_path: Path) -> None:
    """A clip whose size and hash still match is reported intact, located in the store."""
    store = ClipStore(tmp_path)
    clip = store.adopt(_download(store, b"good"))
    check = store.verify(clip.file)
    assert check.ok and check.clip == clip == store.stored(clip.file)


def test_verify_rejects_deleted_clip(tmp_path: Path) -> None:
    """A clip deleted since it was recorded is reported missing, so it is not trusted."""
    store = ClipStore(tmp_path)
    clip = store.adopt(_download(store, b"good")).file
    (tmp_path / PLACE).unlink()
    check = store.verify(clip)
    assert (check.ok, check.problem, check.detail) == (False, "missing", f"{PLACE} is missing")


def test_verify_rejects_truncated_clip(tmp_path: Path) -> None:
    """A clip whose size changed is reported, even without hashing."""
    store = ClipStore(tmp_path)
    clip = store.adopt(_download(store, b"good bytes")).file
    (tmp_path / PLACE).write_bytes(b"good")
    assert store.verify(clip, check_hash=False).problem == "size"


def test_verify_rejects_corrupted_clip_of_same_size(tmp_path: Path) -> None:
    """A clip with the same size but different bytes fails the hash check."""
    store = ClipStore(tmp_path)
    clip = store.adopt(_download(store, b"good")).file
    (tmp_path / PLACE).write_bytes(b"evil")
    assert store.verify(clip).problem == "sha256"
    assert store.verify(clip, check_hash=False).ok


def test_verify_rejects_incomplete_media_asking_once_per_content(tmp_path: Path) -> None:
    """A clip whose media check finds a gap is incomplete; the verdict is kept by its hash."""
    asked: list[Path] = []

    def check(path: Path) -> str | None:
        asked.append(path)
        return "it holds 24 of its 48 video frames"

    clip = ClipStore(tmp_path).adopt(_download(ClipStore(tmp_path), b"cut")).file
    found = ClipStore(tmp_path, media_check=check).verify(clip)
    assert (found.problem, found.detail) == (
        "incomplete", f"{PLACE} is incomplete: it holds 24 of its 48 video frames"
    )  # fmt: skip
    assert ClipStore(tmp_path, media_check=check).verify(clip).problem == "incomplete"
    assert ClipStore(tmp_path).verify(clip).problem == "incomplete", "known without a check"
    assert asked == [tmp_path / PLACE]


def test_adopt_puts_the_same_bytes_back_over_a_damaged_clip(tmp_path: Path) -> None:
    """Downloaded again with the recorded hash, a clip damaged on disk takes its place back."""
    store = ClipStore(tmp_path)
    clip = store.adopt(_download(store, b"whole clip"))
    (tmp_path / PLACE).write_bytes(b"whole")
    assert store.adopt(_download(store, b"whole clip"), restores=clip.file) == clip
    assert (tmp_path / PLACE).read_bytes() == b"whole clip"
    other = store.adopt(_download(store, b"other clip"), restores=clip.file)
    assert other.relative == PLACE.replace(".mp4", "-2.mp4"), "other bytes never overwrite it"


def test_paths_outside_the_store_are_refused(tmp_path: Path) -> None:
    """A recorded path that climbs out of the output directory is refused."""
    with pytest.raises(ValueError, match="must stay inside"):
        ClipStore(tmp_path).resolve("../elsewhere.mp4")

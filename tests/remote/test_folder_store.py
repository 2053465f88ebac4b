"""A shared folder (``file://``) store: never made when missing, and its errors speak of the
folder, with what to do next (issue 13, section 2)."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from rdpipe.errors import ExitCode
from rdpipe.remote import RemoteUnavailable, SharedFolderMissing, open_shared_store
from tests.remote.conftest import MakeClip

_KEPT = "the local clips are kept."


def test_a_missing_folder_is_refused_and_not_made(tmp_path: Path) -> None:
    """An unmounted share (no folder) is exit 2 with the mkdir to run; nothing is created."""
    folder = tmp_path / "mnt" / "team" / "rdpipe"

    with pytest.raises(SharedFolderMissing) as caught:
        open_shared_store(f"file://{folder}")

    assert str(caught.value) == (
        f"The shared folder {folder} does not exist: is the share mounted?\n"
        f"Create it once with `mkdir -p {folder}` if this is a new store."
    )
    assert caught.value.exit_code == ExitCode.INVALID_INPUT
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_with_a_space_gets_a_quoted_mkdir(tmp_path: Path) -> None:
    """The mkdir command shown can be pasted into a shell as it is."""
    folder = tmp_path / "team clips"

    with pytest.raises(SharedFolderMissing) as caught:
        open_shared_store(f"file://{folder}")  # the normal form: the path as it is

    assert caught.value.hint == f"Create it once with `mkdir -p '{folder}'` if this is a new store."


def test_a_file_where_the_folder_should_be_is_named_as_such(tmp_path: Path) -> None:
    """A store root that is a regular file, or under one, is exit 2 saying so."""
    (tmp_path / "clips").write_bytes(b"not a folder")
    url = f"file://{tmp_path / 'clips'}"

    with pytest.raises(SharedFolderMissing) as is_file:
        open_shared_store(url)
    with pytest.raises(SharedFolderMissing) as under_file:
        open_shared_store(f"{url}/rdpipe")

    assert str(is_file.value) == (
        f"The shared clip store {url} is a file, not a folder.\n"
        "Set the store to a folder (check the URL), or move that file away."
    )
    assert str(under_file.value) == (
        f"The shared folder {tmp_path / 'clips' / 'rdpipe'} cannot exist: a part of its path "
        "is a file.\nCheck the store's URL (--remote, RDPIPE_REMOTE or rdpipe.toml)."
    )
    assert is_file.value.exit_code == under_file.value.exit_code == ExitCode.INVALID_INPUT


def test_an_existing_empty_folder_is_a_store(tmp_path: Path, clip: MakeClip) -> None:
    """The folder made once (mkdir -p) is all a new store needs: the first push fills it."""
    (tmp_path / "store").mkdir()
    store = open_shared_store(f"file://{tmp_path / 'store'}")
    path, entry = clip(b"first clip")

    assert store.push(path, entry) is True
    assert store.lookup(entry.key, 1) == entry


def test_a_file_in_the_way_inside_the_store_speaks_of_the_folder(
    tmp_path: Path, clip: MakeClip
) -> None:
    """A file where the store keeps its clips folder: the folder's own words (ENOTDIR) and what
    to do, not the network and credentials."""
    root = tmp_path / "store"
    root.mkdir()
    (root / "clips").write_bytes(b"someone's file")
    store = open_shared_store(f"file://{root}")
    path, entry = clip(b"a clip")
    target = root / "clips" / entry.sha256[:2] / f"{entry.sha256}.mp4"

    with pytest.raises(RemoteUnavailable) as caught:
        store.push(path, entry)

    assert str(caught.value) == (
        f"Could not look for the clip in the shared folder {root} ({target}): Not a directory\n"
        "A file stands where the store keeps a folder, in that path: move the file away (rdpipe "
        f"did not write it); {_KEPT}"
    )
    assert caught.value.errno == errno.ENOTDIR
    assert caught.value.exit_code == ExitCode.FAILED


@pytest.mark.parametrize(
    ("code", "hint"),
    [
        (
            errno.EACCES,
            f"Check the folder's owner and permissions: rdpipe may not do this there; {_KEPT}",
        ),
        (
            errno.EPERM,
            f"Check the folder's owner and permissions: rdpipe may not do this there; {_KEPT}",
        ),
        (
            errno.ENOSPC,
            f"The disk holding the shared folder is full: free some space there; {_KEPT}",
        ),
        (
            errno.EDQUOT,
            f"Your quota on the shared folder's disk is used up: free some space; {_KEPT}",
        ),
        (
            errno.EROFS,
            f"The shared folder is on a read-only file system: mount it read-write; {_KEPT}",
        ),
        (
            errno.ENOENT,
            "A part of the shared folder is gone: is the share still mounted? The local clips are "
            "kept.",
        ),
        (
            None,
            "Check the shared folder: is the share mounted, and may rdpipe write there? The local "
            "clips are kept.",
        ),
    ],
    ids=["EACCES", "EPERM", "ENOSPC", "EDQUOT", "EROFS", "ENOENT", "unknown"],
)
def test_each_folder_error_says_what_to_do(code: int | None, hint: str) -> None:
    """A folder store's failure names the folder and, by its errno, the next step."""
    error = RemoteUnavailable(
        "file:///mnt/team", "upload the clip", "/mnt/team/tmp/x.mp4", "Reason", errno=code
    )

    assert str(error) == (
        "Could not upload the clip in the shared folder /mnt/team (/mnt/team/tmp/x.mp4): "
        f"Reason\n{hint}"
    )


def test_an_object_store_error_speaks_of_the_network_and_credentials() -> None:
    """Only a folder store's errors speak of the folder; an errno changes nothing on S3."""
    error = RemoteUnavailable("s3://b/p", "read the index entry", "b/p/x", "Denied", errno=13)

    assert str(error) == (
        "Could not read the index entry in the shared clip store s3://b/p (b/p/x): Denied\n"
        "Check the network and the store's credentials (the back-end's own settings, such as "
        f"AWS_PROFILE or AWS_ACCESS_KEY_ID for s3://); {_KEPT}"
    )

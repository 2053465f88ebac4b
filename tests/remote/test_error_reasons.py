"""Each error of the shared store has a ``reason``: one lower-case clause to put inside a
sentence of the caller's ("its clip was not pushed to the shared store: <reason>"), beside its
``message``, a sentence to show alone."""

from __future__ import annotations

import pytest

from rdpipe.remote import (
    LocalClipMismatch,
    RemoteBackendMissing,
    RemoteClipCorrupt,
    RemoteClipMissing,
    RemoteConfigInvalid,
    RemoteError,
    RemoteUnavailable,
    SharedFolderMissing,
)

SHA = "c" * 64
OTHER = "d" * 64

REASONS: list[tuple[RemoteError, str]] = [
    (
        RemoteUnavailable("s3://b/p", "read the index entry", "b/p/index/k/1.json", "AccessDenied"),
        "could not read the index entry in the shared clip store s3://b/p (index/k/1.json): "
        "AccessDenied",
    ),
    (
        RemoteUnavailable(
            "file:///mnt/team", "upload the clip", "/mnt/team/tmp/x.mp4", "Disk full", errno=28
        ),
        "could not upload the clip in the shared folder /mnt/team (tmp/x.mp4): Disk full",
    ),
    (
        RemoteUnavailable("ssh://host/srv", "list the claims", "/srv/claims/k/1", "Refused"),
        "could not list the claims in the shared clip store ssh://host/srv (/srv/claims/k/1): "
        "Refused",
    ),
    (
        RemoteClipMissing("s3://b/p", SHA),
        f"the shared clip store s3://b/p has no clip {SHA}",
    ),
    (
        RemoteClipCorrupt("s3://b/p", SHA, OTHER, "b/p/clips/x", moved_to="b/p/damaged/y.mp4"),
        f"the clip {SHA} in the shared clip store s3://b/p is damaged and was moved to "
        "b/p/damaged/y.mp4",
    ),
    (
        RemoteClipCorrupt(
            "s3://b/p", SHA, OTHER, "b/p/clips/x", problem="a second read hashed right", whole=True
        ),
        f"the clip {SHA} in the shared clip store s3://b/p arrived damaged here, though the copy "
        "there is whole: a second read hashed right",
    ),
    (
        RemoteClipCorrupt("s3://b/p", SHA, OTHER, "b/p/clips/x", problem="AccessDenied"),
        f"the clip {SHA} in the shared clip store s3://b/p is damaged and was left there: "
        "AccessDenied",
    ),
    (
        LocalClipMismatch("/w/clips/a.mp4", "size", "14 bytes", "3 bytes"),
        "the local clip changed since it was recorded: /w/clips/a.mp4 has size 3 bytes, but its "
        "entry says 14 bytes",
    ),
    (
        RemoteBackendMissing("s3://b/p", "s3fs", "s3"),
        "the shared clip store s3://b/p needs the Python package 's3fs', which is not installed "
        "(pip install 'rdpipe[s3]')",
    ),
    (
        SharedFolderMissing("file:///mnt/team", "/mnt/team", "nothing"),
        "the shared folder /mnt/team does not exist",
    ),
    (
        SharedFolderMissing("file:///mnt/team", "/mnt/team", "file"),
        "the shared clip store file:///mnt/team is a file, not a folder",
    ),
    (
        SharedFolderMissing("file:///mnt/team", "/mnt/team", "file-in-path"),
        "the shared folder /mnt/team cannot exist: a part of its path is a file",
    ),
    (
        RemoteConfigInvalid("/w/rdpipe.toml", 3, "remote.url", "the store URL is empty", "Hint."),
        "the shared store's setting in /w/rdpipe.toml:3 (remote.url) is wrong: the store URL is "
        "empty",
    ),
    (
        RemoteConfigInvalid("RDPIPE_REMOTE", 0, "", "'gs:b' is not a store URL", "Hint."),
        "the shared store's setting in RDPIPE_REMOTE is wrong: 'gs:b' is not a store URL",
    ),
]


@pytest.mark.parametrize(
    ("error", "reason"), REASONS, ids=[type(error).__name__ for error, _ in REASONS]
)
def test_each_error_gives_its_reason_as_a_clause(error: RemoteError, reason: str) -> None:
    """The reason is exact, starts lower-case, ends without a full stop, holds no line break,
    and is not the message (which stays a sentence)."""
    assert error.reason == reason
    assert error.reason[0].islower() and not error.reason.endswith(".")
    assert "\n" not in error.reason
    assert error.message[0].isupper() or error.message.startswith("/")
    assert error.message != error.reason


def test_a_credential_in_the_back_ends_words_is_redacted_from_the_reason() -> None:
    """A back-end's words quoting a bearer token lose it in the reason too, as in the message."""
    error = RemoteUnavailable("s3://b/p", "read the index entry", "b/p/x", "Bearer abcdefgh123")

    assert error.reason.endswith(": Bearer [redacted]")
    assert "abcdefgh123" not in str(error)

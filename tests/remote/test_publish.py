"""Publishing local media through the shared store (issue 14): media/<md5>.<ext>, uploaded once,
atomically, its md5 checked as it streams, handed out as a presigned GET URL (moto S3)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import s3fs
import s3fs.core

from rdpipe.errors import ExitCode
from rdpipe.remote import (
    CannotPublish,
    LocalMediaMismatch,
    RemoteUnavailable,
    SharedClipStore,
    open_shared_store,
    publish_refusal,
)
from rdpipe.remote.backends import Backend
from rdpipe.remote.layout import media_path
from tests.remote.conftest import StoreFiles

NOW = 1_800_000_000.0  # the store's clock in these tests, epoch seconds
DATA = bytes(range(256)) * (12 * 1024 + 5)  # 3 MiB and a bit: several 1 MiB reads from disk
MD5 = hashlib.md5(DATA).hexdigest()

on_s3 = pytest.mark.parametrize("store_url", ["s3"], indirect=True)


@pytest.fixture
def publisher(store_url: str) -> SharedClipStore:
    """The store at ``store_url``, its clock stopped at :data:`NOW`."""
    return open_shared_store(store_url, clock=lambda: NOW)


@pytest.fixture
def media(tmp_path: Path) -> Path:
    """A local reference video holding :data:`DATA`."""
    path = tmp_path / "refs" / "walk.mp4"
    path.parent.mkdir()
    path.write_bytes(DATA)
    return path


@pytest.fixture
def s3_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the S3 operations this process sends from now on (``head_object``,
    ``put_object``, ``copy_object``...), in order."""
    calls: list[str] = []
    original, original_sync = s3fs.S3FileSystem._call_s3, s3fs.S3FileSystem.call_s3

    async def counting(self: s3fs.S3FileSystem, method: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(method)
        return await original(self, method, *args, **kwargs)

    def counting_sync(self: s3fs.S3FileSystem, method: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(method)  # S3File's writes (put_object, upload_part) come this way
        return original_sync(self, method, *args, **kwargs)

    monkeypatch.setattr(s3fs.S3FileSystem, "_call_s3", counting)
    monkeypatch.setattr(s3fs.S3FileSystem, "call_s3", counting_sync)
    return calls


def fetch(url: str) -> httpx.Response:
    """GET ``url`` as a stranger would: no credentials, no proxy from the environment."""
    with httpx.Client(trust_env=False) as client:
        return client.get(url)


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


@on_s3
def test_a_file_is_published_and_its_url_gives_its_bytes_to_anyone(
    publisher: SharedClipStore, store_files: StoreFiles, media: Path
) -> None:
    """A local file lands at media/<md5>.<ext> (nothing left in tmp/), and its URL, fetched
    without credentials, returns exactly its bytes, while the bare object URL is refused."""
    published = publisher.publish_media(media, MD5, "mp4", expires_in=600)

    assert store_files.paths("media") == [f"media/{MD5}.mp4"]
    assert store_files.read(f"media/{MD5}.mp4") == DATA
    assert store_files.paths("tmp") == []
    response = fetch(published.url)
    assert response.status_code == 200
    assert response.content == DATA
    assert fetch(published.url.partition("?")[0]).status_code == 403
    assert published.expires_at == NOW + 600


@on_s3
def test_bytes_are_published_like_a_file(
    publisher: SharedClipStore, store_files: StoreFiles
) -> None:
    """Bytes (an image converted in memory) are published the same way, under their md5."""
    image = b"\x89PNG\r\n\x1a\n" + b"pixels" * 1000
    md5 = hashlib.md5(image).hexdigest()

    published = publisher.publish_media(image, md5, "png", expires_in=60)

    assert store_files.paths("media") == [f"media/{md5}.png"]
    assert fetch(published.url).content == image
    assert store_files.paths("tmp") == []


@on_s3
def test_a_second_publish_uploads_nothing_and_signs_a_new_url(
    publisher: SharedClipStore, media: Path, s3_calls: list[str]
) -> None:
    """The bytes are sent once: publishing them again, from the file or from memory, only
    looks at the object's size before signing."""
    publisher.publish_media(media, MD5, "mp4", expires_in=600)
    first = list(s3_calls)
    s3_calls.clear()
    again = publisher.publish_media(media, MD5, "mp4", expires_in=900)
    from_bytes = publisher.publish_media(DATA, MD5, "mp4", expires_in=900)

    assert "put_object" in first and "copy_object" in first  # to tmp/, then into place
    assert s3_calls == ["head_object", "head_object"]
    assert query(again.url)["X-Amz-Expires"] == "900"
    assert fetch(from_bytes.url).content == DATA


@on_s3
def test_an_object_of_another_size_is_replaced(
    publisher: SharedClipStore, store_files: StoreFiles, media: Path
) -> None:
    """A truncated copy under the file's name (an upload someone cut short by hand) is
    replaced by the whole file."""
    store_files.put(f"media/{MD5}.mp4", DATA[:1000])

    published = publisher.publish_media(media, MD5, "mp4", expires_in=60)

    assert store_files.read(f"media/{MD5}.mp4") == DATA
    assert fetch(published.url).content == DATA


@on_s3
def test_the_url_is_signed_with_sigv4_for_the_lifetime_asked_rounded_up(
    publisher: SharedClipStore, media: Path
) -> None:
    """The URL carries SigV4's X-Amz-Expires in whole seconds, rounded up, and expires_at
    (the store's clock plus that lifetime) says when it ends.

    moto 5.2.5 does not enforce the expiry (nor check signatures): checked by hand, a URL
    signed for 1 s still served its object 2.5 s later. So the expiry is asserted through
    the parameter S3 enforces, not by waiting for a refusal.
    """
    published = publisher.publish_media(media, MD5, "mp4", expires_in=1.2)

    fields = query(published.url)
    assert fields["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"  # not botocore's SigV2 default
    assert fields["X-Amz-Expires"] == "2"
    assert published.expires_at == NOW + 2


@pytest.mark.parametrize("store_url", ["file"], indirect=True)
def test_a_shared_folder_cannot_publish_and_says_what_to_do(
    publisher: SharedClipStore, store_url: str, media: Path
) -> None:
    """A file:// store cannot presign: it says so before reading or writing anything, with the
    three ways out, as a setting to change (exit code 2)."""
    folder = Path(store_url.removeprefix("file://"))

    assert publisher.can_publish is False
    reason = "a shared folder cannot hand out URLs that a server elsewhere can download from"
    assert publish_refusal(publisher.url) == reason
    with pytest.raises(CannotPublish) as raised:
        publisher.publish_media(media, MD5, "mp4", expires_in=600)

    assert raised.value.exit_code == ExitCode.INVALID_INPUT
    assert raised.value.message == (
        f"The shared clip store {store_url} cannot publish media files for the relay: "
        "a shared folder cannot hand out URLs that a server elsewhere can download from."
    )
    assert raised.value.hint == (
        "Host the file another way: give the reference as an http(s) URL, set the shared "
        "store (--remote, RDPIPE_REMOTE or rdpipe.toml) to an S3, GCS or Azure bucket whose "
        "credentials can sign URLs, or, for an image, send it inline (send_as: inline)."
    )
    assert raised.value.reason == (
        f"the shared clip store {store_url} cannot publish media files for the relay: {reason}"
    )
    assert list(folder.iterdir()) == []


def test_a_memory_store_cannot_publish() -> None:
    """A memory:// store (the tests' in-process store) cannot presign either."""
    store = open_shared_store("memory://rdpipe-publish-test")

    assert store.can_publish is False
    assert publish_refusal(store.url) == (
        "a memory:// store cannot hand out URLs that a server elsewhere can download from"
    )
    with pytest.raises(CannotPublish):
        store.publish_media(DATA, MD5, "mp4", expires_in=60)


@on_s3
def test_s3_can_publish(publisher: SharedClipStore) -> None:
    """An S3 store can publish, known without connecting."""
    assert publisher.can_publish is True
    assert publish_refusal(publisher.url) is None


@pytest.fixture
def rewritten_mid_upload(monkeypatch: pytest.MonkeyPatch, media: Path) -> Iterator[bytes]:
    """When the upload writes its first chunk, the file's third MiB is overwritten in place
    (an editor saving over it), once; yields the bytes the file then holds."""
    original = s3fs.core.S3File.write
    changed = DATA[: 2 << 20] + b"\xff" * (1 << 20) + DATA[3 << 20 :]

    def write(self: s3fs.core.S3File, data: bytes) -> int:
        if media.read_bytes() != changed:
            with media.open("r+b") as file:
                file.seek(2 << 20)
                file.write(b"\xff" * (1 << 20))
        result: int = original(self, data)
        return result

    monkeypatch.setattr(s3fs.core.S3File, "write", write)
    yield changed


@on_s3
def test_a_file_changed_while_it_streams_is_not_published(
    publisher: SharedClipStore,
    store_files: StoreFiles,
    media: Path,
    rewritten_mid_upload: bytes,
) -> None:
    """The md5 is taken of the bytes as they are sent: a file rewritten mid-upload is refused
    with both md5s, nothing is left under media/ or tmp/, and a publish under its new md5
    then succeeds."""
    new_md5 = hashlib.md5(rewritten_mid_upload).hexdigest()

    with pytest.raises(LocalMediaMismatch) as raised:
        publisher.publish_media(media, MD5, "mp4", expires_in=60)

    assert raised.value.message == (
        f"Not published: {media} hashes to md5 {new_md5}, not the {MD5} it was read with."
    )
    assert raised.value.exit_code == ExitCode.FAILED
    assert store_files.paths("media") == []
    assert store_files.paths("tmp") == []
    published = publisher.publish_media(media, new_md5, "mp4", expires_in=60)  # as it is now
    assert fetch(published.url).content == rewritten_mid_upload


@on_s3
def test_bytes_that_do_not_hash_to_their_md5_are_not_published(
    publisher: SharedClipStore, store_files: StoreFiles
) -> None:
    """Bytes given with another md5 are refused the same way, named as the bytes given."""
    with pytest.raises(LocalMediaMismatch, match="the bytes given hashes to md5"):
        publisher.publish_media(b"other bytes", MD5, "png", expires_in=60)

    assert store_files.paths("media") == []
    assert store_files.paths("tmp") == []


@on_s3
def test_a_failed_move_leaves_nothing_under_a_final_name(
    publisher: SharedClipStore,
    store_files: StoreFiles,
    media: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The upload becomes visible only by its move into place: a move that fails leaves no
    media/ object (and its temporary is removed), and the next publish completes it."""

    def refuse(self: Backend, source: str, target: str) -> None:
        raise OSError("the store refused the copy")

    with monkeypatch.context() as patch:
        patch.setattr(Backend, "move", refuse)
        with pytest.raises(RemoteUnavailable, match="move the uploaded media file into place"):
            publisher.publish_media(media, MD5, "mp4", expires_in=60)
    assert store_files.paths("media") == []
    assert store_files.paths("tmp") == []

    published = publisher.publish_media(media, MD5, "mp4", expires_in=60)
    assert fetch(published.url).content == DATA


@on_s3
def test_credentials_that_cannot_sign_are_said_as_cannot_publish(
    publisher: SharedClipStore, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A back-end whose credentials cannot sign (adlfs without an account key raises
    ValueError) is told as CannotPublish with the back-end's words."""

    def no_key(self: s3fs.S3FileSystem, path: str, expiration: int = 100) -> str:
        raise ValueError("Either user_delegation_key or account_key must be provided.")

    monkeypatch.setattr(s3fs.S3FileSystem, "sign", no_key)
    with pytest.raises(CannotPublish) as raised:
        publisher.publish_media(media, MD5, "mp4", expires_in=60)

    assert raised.value.problem == (
        "its credentials cannot sign URLs "
        "(Either user_delegation_key or account_key must be provided.)"
    )


@on_s3
@pytest.mark.parametrize(
    ("md5", "ext", "expires_in"),
    [
        (MD5.upper(), "mp4", 60.0),
        (MD5[:31], "mp4", 60.0),
        (MD5, ".mp4", 60.0),
        (MD5, "MP4", 60.0),
        (MD5, "mp4", 0.0),
        (MD5, "mp4", 7 * 24 * 3600 + 1.0),
    ],
)
def test_a_malformed_request_is_refused_before_anything_is_sent(
    publisher: SharedClipStore,
    media: Path,
    s3_calls: list[str],
    md5: str,
    ext: str,
    expires_in: float,
) -> None:
    """A malformed md5 or extension, or a lifetime outside (0, 7 days], is a ValueError
    raised before any request."""
    with pytest.raises(ValueError):
        publisher.publish_media(media, md5, ext, expires_in=expires_in)

    assert s3_calls == []


def test_media_path_is_named_by_md5_and_extension() -> None:
    """Published media live at media/<md5>.<ext>."""
    assert media_path(MD5, "wav") == f"media/{MD5}.wav"

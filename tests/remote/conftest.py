"""Fixtures for the shared clip store: the same tests run on a folder and on a real S3 server.

``store_url`` (function scope, parametrised ``file`` and ``s3``)
    ``file://<tmp>/team-store`` (an empty folder) or ``s3://<fresh bucket>/team`` on the
    session's moto server.
``store``
    :func:`rdpipe.remote.open_shared_store` on that URL, claims living 60 s.
``clip``
    A function writing a local clip of given bytes and returning it with its index entry.
``store_files``
    The store's root seen through an fsspec file system of the test's own, to inspect or
    damage what the store holds (``store_files.paths("clips")``, ``store_files.put(...)``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import fsspec
import pytest

from rdpipe.remote import IndexEntry, SharedClipStore, open_shared_store
from tests.remote_servers import MotoServer, moto_server, s3_store_url  # noqa: F401

KEY = "a" * 64
OTHER_KEY = "b" * 64

MakeClip = Callable[..., tuple[Path, IndexEntry]]


@pytest.fixture(params=["file", "s3"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL of each kind the tests cover: a shared folder (made, as a team makes it
    once) and S3 (moto)."""
    if request.param == "file":
        (tmp_path / "team-store").mkdir()
        return f"file://{tmp_path / 'team-store'}"
    url: str = request.getfixturevalue("s3_store_url")
    return url


@pytest.fixture
def store(store_url: str) -> SharedClipStore:
    """The store at ``store_url``; a claim goes stale after 60 s without a heartbeat."""
    return open_shared_store(store_url, claim_timeout=60.0)


@pytest.fixture
def clip(tmp_path: Path) -> MakeClip:
    """``clip(data, key=KEY, take=1, name="a.mp4")``: a local clip file and its entry."""

    def make(
        data: bytes, key: str = KEY, take: int = 1, name: str = "a.mp4"
    ) -> tuple[Path, IndexEntry]:
        path = tmp_path / "local" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        sha256 = hashlib.sha256(data).hexdigest()
        entry = IndexEntry(key, take, sha256, len(data), f"task-{name}", 7, 4.0, "m1", "s1")
        return path, entry

    return make


class StoreFiles:
    """The files under a store's root, through a file system that is not the store's."""

    def __init__(self, fs: fsspec.AbstractFileSystem, root: str) -> None:
        self.fs = fs
        self.root = root

    def paths(self, folder: str) -> list[str]:
        """The paths (relative to the root) of the files under ``folder``, sorted."""
        try:
            found = self.fs.find(f"{self.root}/{folder}")
        except FileNotFoundError:
            return []
        return sorted(str(path)[len(self.root) + 1 :] for path in found)

    def put(self, relative: str, data: bytes) -> None:
        """Write ``data`` at ``relative`` under the root, replacing what is there."""
        self.fs.pipe_file(f"{self.root}/{relative}", data)

    def read(self, relative: str) -> bytes:
        """The bytes at ``relative`` under the root."""
        data: bytes = self.fs.cat_file(f"{self.root}/{relative}")
        return data


@pytest.fixture
def store_files(request: pytest.FixtureRequest, store_url: str) -> StoreFiles:
    """The store's files; on S3 through one client shared by the session (fsspec caches it)."""
    protocol, _, root = store_url.partition("://")
    if protocol == "file":
        return StoreFiles(fsspec.filesystem("file", auto_mkdir=True), root)
    server: MotoServer = request.getfixturevalue("moto_server")
    fs = fsspec.filesystem(
        "s3",
        endpoint_url=server.endpoint,
        key="testing",
        secret="testing",
        client_kwargs={"region_name": "us-east-1"},
        use_listings_cache=False,
    )
    return StoreFiles(fs, root)

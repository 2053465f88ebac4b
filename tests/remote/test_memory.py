"""Memory stays flat whatever the clip's size: pulls and pushes stream (issue 13, section 2).

The limits are a few chunks (8 MiB ranged GETs and 5 MiB upload parts on S3, 1 MiB on a
folder), well under the clip's size, which reading a clip whole would need at least.
"""

from __future__ import annotations

import hashlib
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from rdpipe.remote import IndexEntry, SharedClipStore
from tests.remote.conftest import KEY, StoreFiles

MIB = 1 << 20
PULL_LIMIT = {"file": 4 * MIB, "s3": 28 * MIB}  # for a 48 MiB clip
PUSH_LIMIT = {"file": 4 * MIB, "s3": 20 * MIB}  # for a 32 MiB clip


def _zeros_sha256(size: int) -> str:
    digest = hashlib.sha256()
    for _ in range(size // MIB):
        digest.update(bytes(MIB))
    return digest.hexdigest()


def _peak_of(action: Callable[[], object]) -> int:
    """The most memory (bytes) Python held at once while ``action`` ran."""
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_pulling_a_48_mib_clip_holds_a_few_chunks_at_most(
    store: SharedClipStore, store_url: str, store_files: StoreFiles, tmp_path: Path
) -> None:
    """A 48 MiB clip is pulled, verified and written with a few MiB of memory, not 48."""
    size = 48 * MIB
    sha256 = _zeros_sha256(size)
    store_files.put(f"clips/{sha256[:2]}/{sha256}.mp4", bytes(size))
    dest = tmp_path / "big.mp4"
    assert store.has_clip(sha256)  # the back-end's client is set up before measuring

    peak = _peak_of(lambda: store.pull(sha256, dest))

    assert dest.stat().st_size == size
    assert peak < PULL_LIMIT[store_url.split(":")[0]], f"{peak / MIB:.1f} MiB"


def test_pushing_a_32_mib_clip_holds_a_few_chunks_at_most(
    store: SharedClipStore, store_url: str, tmp_path: Path
) -> None:
    """A 32 MiB clip (sparse on disk) is hashed and uploaded with a few MiB of memory."""
    size = 32 * MIB
    path = tmp_path / "big.mp4"
    with path.open("wb") as stream:
        stream.truncate(size)
    entry = IndexEntry(KEY, 1, _zeros_sha256(size), size, "task", None, None, None, "big")
    assert store.lookup(KEY, 1) is None  # the back-end's client is set up before measuring

    peak = _peak_of(lambda: store.push(path, entry))

    assert store.lookup(KEY, 1) == entry
    assert peak < PUSH_LIMIT[store_url.split(":")[0]], f"{peak / MIB:.1f} MiB"

"""A push killed with SIGKILL leaves nothing under a final name, and the next push completes it
(issue 13: "A kill -9 during a push leaves no partial object under a final name")."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from rdpipe.remote import SharedClipStore
from tests.remote.conftest import KEY, MakeClip, StoreFiles

# Pushes the clip and SIGKILLs itself part-way: after 6 MiB have been read and handed to the
# upload (on S3 one 5 MiB part is sent, the upload not completed), or once the whole clip is
# under tmp/ just before it is moved to its final name.
_PUSH_AND_DIE = """
import json, os, signal, sys
from pathlib import Path
from rdpipe.remote import IndexEntry, open_shared_store
from rdpipe.remote.backends import Backend

url, path, moment, entry = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
store = open_shared_store(url)

def die(*args):
    os.kill(os.getpid(), signal.SIGKILL)

def progress(done, total):
    if moment == "mid-upload" and done >= 6 * 2**20:
        die()

if moment == "before-move":
    Backend.move = die
store.push(Path(path), IndexEntry(**json.loads(entry)), progress=progress)
print("the push was not killed")
"""


@pytest.mark.parametrize("moment", ["mid-upload", "before-move"])
def test_a_push_killed_leaves_no_final_object_and_the_next_completes(
    store: SharedClipStore,
    store_url: str,
    store_files: StoreFiles,
    clip: MakeClip,
    tmp_path: Path,
    moment: str,
) -> None:
    """SIGKILL mid-upload or before the move: no clip, no index entry; a new push uploads."""
    path, entry = clip(bytes(range(256)) * (28 * 1024))  # 7 MiB
    command = [sys.executable, "-c", _PUSH_AND_DIE, store_url, str(path), moment]
    killed = subprocess.run(
        [*command, json.dumps(asdict(entry))], capture_output=True, text=True, timeout=60
    )

    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert store_files.paths("clips") == []
    assert store_files.paths("index") == []
    assert store.lookup(KEY, 1) is None
    assert not store.has_clip(entry.sha256)

    assert store.push(path, entry) is True
    assert store.lookup(KEY, 1) == entry
    store.pull(entry.sha256, tmp_path / "pulled.mp4")
    assert (tmp_path / "pulled.mp4").read_bytes() == path.read_bytes()
    leftovers = len(store_files.paths("tmp"))
    assert leftovers == (1 if moment == "before-move" or store_url.startswith("file") else 0)

"""Opening a store is cheap: no back-end is imported or built until an operation needs it
(a cached rerun with an ``s3://`` store set must not pay ~0.4 s importing s3fs and botocore)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from rdpipe.remote import open_shared_store
from tests.remote.conftest import KEY

_BACK_ENDS = ("fsspec", "s3fs", "botocore", "aiobotocore", "asyncio")

_OPEN_THEN_LOOK_UP = """
import json, sys
from rdpipe.remote import open_shared_store
back_ends = {back_ends!r}
def loaded():
    return sorted(name for name in back_ends if name in sys.modules)
store = open_shared_store(sys.argv[1])
report = {{"opened": loaded(), "claims": store.supports_claims,
           "why_not": store.claims_unsupported_reason, "after_claims": loaded()}}
if sys.argv[2] == "look-up":
    report["found"] = store.lookup("{key}", 1)
    report["looked_up"] = loaded()
print(json.dumps(report))
"""


def _run(url: str, then: str) -> dict[str, object]:
    """Open ``url`` in a fresh interpreter (then look a key up, if ``then`` says so); what it
    had imported at each step."""
    code = _OPEN_THEN_LOOK_UP.format(back_ends=_BACK_ENDS, key=KEY)
    result = subprocess.run(
        [sys.executable, "-c", code, url, then], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, object] = json.loads(result.stdout)
    return report


def test_opening_an_s3_store_imports_no_back_end_until_the_first_lookup(
    s3_store_url: str,
) -> None:
    """open_shared_store("s3://...") and supports_claims import neither fsspec, s3fs nor
    botocore (nor start asyncio); the first lookup imports them and answers."""
    report = _run(s3_store_url, "look-up")

    assert report["opened"] == report["after_claims"] == []
    assert (report["claims"], report["why_not"]) == (True, None)
    assert report["found"] is None
    looked_up = report["looked_up"]
    assert isinstance(looked_up, list) and {"fsspec", "s3fs", "botocore"} <= set(looked_up)


def test_opening_a_store_of_another_kind_imports_nothing_either(tmp_path: Path) -> None:
    """A folder store (its one stat aside) and a memory store, which cannot hold claims and
    says why, are opened without importing fsspec."""
    folder = _run(f"file://{tmp_path}", "nothing more")
    memory = _run("memory://rdpipe-test", "nothing more")

    assert folder["opened"] == folder["after_claims"] == []
    assert folder["claims"] is True
    assert memory["opened"] == memory["after_claims"] == []
    assert (memory["claims"], memory["why_not"]) == (
        False,
        "a memory:// store lives in one process and has no atomic create",
    )


def test_threads_using_a_new_store_at_once_build_its_back_end_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight worker threads make a new store's first call at the same moment: the file
    system is built once (a slow constructor widens the race), and every call answers."""
    import fsspec.implementations.local

    built: list[int] = []
    original: Callable[..., None] = fsspec.implementations.local.LocalFileSystem.__init__

    def slow_init(self: object, *args: object, **options: object) -> None:
        built.append(threading.get_ident())
        time.sleep(0.05)
        original(self, *args, **options)

    monkeypatch.setattr(fsspec.implementations.local.LocalFileSystem, "__init__", slow_init)
    store = open_shared_store(f"file://{tmp_path}")
    start = threading.Barrier(8)
    answers: list[object] = []

    def first_call() -> None:
        start.wait()
        answers.append(store.lookup(KEY, 1))

    threads = [threading.Thread(target=first_call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert answers == [None] * 8
    assert len(built) == 1

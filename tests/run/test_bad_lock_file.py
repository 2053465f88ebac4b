"""A committed lock file gone bad (a merge, a hand edit) stops ``status`` and ``run`` with exit 2
and one paragraph naming the file and line, before any request: never a crash report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from rdpipe.sim import SimServer
from rdpipe.state import LockFileInvalid
from tests.run.conftest import pipeline_text, write
from tests.state.bad_locks import BAD_LOCKS, BadLock, hint

SHOTS = {"a": "a red kite over dunes", "b": "a blue boat at dawn"}


def _said(result: Result) -> str:
    """What the command wrote on standard error, with the console's line wrapping undone."""
    return " ".join(result.stderr.split())


def _expected(lock: Path, bad: BadLock) -> str:
    said = hint(bad.kind, lock, str(lock.parent / "film.yaml"))
    return " ".join(f"error: {lock}:{bad.message} {said}".split())


@pytest.mark.parametrize("bad", BAD_LOCKS, ids=lambda bad: bad.name)
@pytest.mark.parametrize("command", [("status",), ("run", "--locked")], ids=" ".join)
def test_a_bad_lock_file_exits_2_naming_file_and_line(
    online: SimServer,
    tmp_path: Path,
    rdpipe_cli: Callable[..., Result],
    bad: BadLock,
    command: tuple[str, ...],
) -> None:
    """``status`` and ``run --locked`` say the lock file's problem, exit 2 and send nothing."""
    path = write(tmp_path / "film.yaml", pipeline_text(SHOTS))
    lock = write(tmp_path / "film.rdpipe.lock", bad.text)
    result = rdpipe_cli(command[0], str(path), *command[1:])
    assert result.exit_code == 2, result.stderr
    assert _said(result) == _expected(lock, bad)
    assert online.counters() == {}
    assert not list(tmp_path.rglob("crash-*.log"))


def test_a_run_with_a_merge_conflict_in_its_lock_file_pays_for_nothing(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """A plain ``run`` stops at the conflict before its first POST, and leaves the file as is."""
    path = write(tmp_path / "film.yaml", pipeline_text(SHOTS))
    conflicted = BAD_LOCKS[0]
    lock = write(tmp_path / "film.rdpipe.lock", conflicted.text)
    result = rdpipe_cli("run", str(path))
    assert result.exit_code == 2, result.stderr
    assert _said(result) == _expected(lock, conflicted)
    assert online.counters() == {}
    assert lock.read_text(encoding="utf-8") == conflicted.text


def test_a_lock_file_that_is_not_text_exits_2(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """Bytes that are not UTF-8 (a binary file committed under the lock's name) are refused with
    their line, as invalid input, not as a crash."""
    path = write(tmp_path / "film.yaml", pipeline_text(SHOTS))
    lock = tmp_path / "film.rdpipe.lock"
    lock.write_bytes(b"version: 1\nshots:\n\x89PNG\r\n")
    result = rdpipe_cli("status", str(path))
    assert result.exit_code == 2, result.stderr
    problem = f"error: {lock}:3: not UTF-8 text (byte 0x89 cannot be read)"
    assert _said(result) == " ".join(f"{problem} {hint(LockFileInvalid, lock, str(path))}".split())
    assert online.counters() == {}

"""The facts behind an unwritable-file paragraph travel with the error: which path (a write
that names no file says it through FileWriteFailed) and whether anything was sent (an error
after the first request comes wrapped in StoppedAfterSending). No global state, no traceback."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
import typer

from rdpipe.cli.app import run_command
from rdpipe.cli.context import CommandContext
from rdpipe.cli.file_problems import file_problem
from rdpipe.files import FileWriteFailed, write_atomically, writing_to
from rdpipe.send_record import SendRecord, StoppedAfterSending

FULL = OSError(errno.ENOSPC, "No space left on device")


def test_an_error_before_the_first_request_passes_unchanged() -> None:
    """Nothing sent yet: the error escapes as it was raised, so the CLI says exit 2."""
    record = SendRecord()
    with pytest.raises(OSError) as caught, record.marking():
        raise FULL
    assert caught.value is FULL and record.count == 0


def test_an_error_after_a_request_says_so() -> None:
    """One request counted: the error escapes inside StoppedAfterSending, unchanged within."""
    record = SendRecord()
    record.note()
    with pytest.raises(StoppedAfterSending) as caught, record.marking():
        raise FULL
    assert caught.value.exceptions == (FULL,) and record.count == 1


def test_ctrl_c_is_never_wrapped() -> None:
    """A KeyboardInterrupt is no error of the command: it passes as it is."""
    record = SendRecord()
    record.note()
    with pytest.raises(KeyboardInterrupt), record.marking():
        raise KeyboardInterrupt


def test_two_commands_in_one_process_keep_their_own_count() -> None:
    """A request of one command says nothing about another's (the old flag was per process)."""
    first, second = SendRecord(), SendRecord()
    first.note()
    with pytest.raises(OSError) as caught, second.marking():
        raise FULL
    assert not isinstance(caught.value, StoppedAfterSending)


def _exit_and_message(error: BaseException, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    def action() -> None:
        raise error

    with pytest.raises(typer.Exit) as caught:
        run_command(action, CommandContext.start())
    return caught.value.exit_code, capsys.readouterr().err


def test_the_exit_code_follows_the_error_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same full disk exits 2 before anything was sent and 1 after, in one process."""
    full = FileWriteFailed(tmp_path / "out" / "film.mp4", FULL)
    code, said = _exit_and_message(full, capsys)
    assert code == 2 and said.endswith("then run the same command again; nothing was sent.\n")
    code, said = _exit_and_message(StoppedAfterSending("sent", [full]), capsys)
    assert code == 1 and said == (
        f"error: rdpipe cannot write {tmp_path}/out/film.mp4: the disk is full. Free some space "
        f"on it (the disk that holds {tmp_path}/out), then run the same command again: work "
        "already paid for is recorded, and it is not paid for twice.\n"
    )
    code, _ = _exit_and_message(full, capsys)
    assert code == 2, "the next command starts with nothing sent"


def test_a_write_that_names_no_file_is_named_by_the_code_that_was_writing(
    tmp_path: Path,
) -> None:
    """An OSError without a file name becomes FileWriteFailed for the path being written;
    one that names its file, or has no errno, passes unchanged."""
    target = tmp_path / "manifest.json"
    with pytest.raises(FileWriteFailed) as caught, writing_to(target):
        raise OSError(errno.ENOSPC, "No space left on device")
    assert (caught.value.path, caught.value.filename, caught.value.errno) == (
        target,
        str(target),
        errno.ENOSPC,
    )
    assert isinstance(caught.value, OSError) and caught.value.__cause__ is not None
    named = OSError(errno.EROFS, "Read-only file system", "elsewhere.json")
    for error in (named, OSError("no errno")):
        with pytest.raises(OSError) as passed, writing_to(target):
            raise error
        assert passed.value is error


def test_a_full_disk_under_write_atomically_names_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fsync on a full disk names no file; the paragraph names the file the user knows."""

    def fsync(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", fsync)
    target = tmp_path / "film.rdpipe.lock"
    with pytest.raises(FileWriteFailed) as caught:
        write_atomically(target, b"shots: {}\n")
    problem = file_problem(caught.value, sent=False)
    assert problem is not None and problem.path == target
    assert list(tmp_path.iterdir()) == [], "the temporary file is removed"


def test_an_error_naming_no_path_is_said_without_one() -> None:
    """No traceback digging: an OSError that names no file gives the paragraph without a path."""
    problem = file_problem(OSError(errno.EACCES, "Permission denied"), sent=False)
    assert problem is not None and problem.path is None
    assert str(problem).startswith("rdpipe cannot write its files: permission denied.")


def test_a_file_where_mkdir_makes_a_folder_is_the_file_in_the_way(tmp_path: Path) -> None:
    """``mkdir(parents=True, exist_ok=True)`` where a file stands raises FileExistsError (not
    ENOTDIR): it is said as a file in the way of a folder, naming it, not as a bug."""
    (tmp_path / "clips").write_text("a file", encoding="utf-8")
    with pytest.raises(FileExistsError) as caught:
        (tmp_path / "clips").mkdir(parents=True, exist_ok=True)
    problem = file_problem(caught.value, sent=True)
    assert problem is not None and problem.path == tmp_path / "clips"
    assert str(problem).startswith(
        f"rdpipe cannot write {tmp_path}/clips: a file is in the way of a folder on that path. "
        "Remove or rename the file that stands where a folder should be, then run the same "
        "command again: work already paid for is recorded"
    )
    offline = file_problem(caught.value, sent=True, offline=True)
    assert str(offline).endswith(
        "then run the same command again: the clips made are kept (nothing is paid offline)."
    )

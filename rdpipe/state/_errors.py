"""Errors of the run state: each composes its own message for the person running the pipeline."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from pathlib import Path

from rdpipe.errors import ExitCode, RdpipeError
from rdpipe.hints import Command, Suggestion

from ._records import RunHolder


def format_timestamp(seconds: float) -> str:
    """Format epoch seconds as a UTC wall-clock time, the way every state message shows time."""
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class StateError(RdpipeError):
    """Root of the errors raised by :mod:`rdpipe.state`."""


class RunBusy(StateError):
    """Another run of the same pipeline holds the run guard, so this run must not submit."""

    def __init__(self, pipeline: str, lock_path: Path, holder: RunHolder | None, waited: float):
        self.pipeline = pipeline
        self.lock_path = lock_path
        self.holder = holder
        self.waited = waited
        who = _describe_holder(holder)
        waited_text = f" Waited {waited:.1f} s for it to finish." if waited > 0 else ""
        stop = f"`kill {holder.pid}`" if holder and holder.pid else "Ctrl-C in its terminal"
        super().__init__(
            f"Another rdpipe run of pipeline '{pipeline}' is in progress ({who}).{waited_text}",
            hint=(
                f"Wait for it to finish, or stop it ({stop}) and run again: the new run resumes "
                f"the tasks it submitted instead of paying for them twice. Lock: {lock_path}"
            ),
        )


def _describe_holder(holder: RunHolder | None) -> str:
    if holder is None or holder.pid is None:
        return "holder details not written yet"
    where = f" on host {holder.host}" if holder.host else ""
    when = f", started {format_timestamp(holder.started_at)}" if holder.started_at else ""
    return f"pid {holder.pid}{where}{when}"


class StateUnreadable(StateError):
    """The state database exists but is not one rdpipe can read (corrupt, foreign or too new)."""

    def __init__(self, path: Path, problem: str, hint: str | Suggestion) -> None:
        self.path = path
        self.problem = problem
        message = f"Cannot use the run state {path}: {problem}."
        if isinstance(hint, Suggestion):
            super().__init__(message, suggestion=hint)
        else:
            super().__init__(message, hint=hint)


class StateSchemaMismatch(StateUnreadable):
    """The state database was written by a newer rdpipe, with a schema this one cannot read."""

    def __init__(self, path: Path, found: int, supported: int) -> None:
        self.found = found
        self.supported = supported
        super().__init__(
            path,
            f"it was written by a newer rdpipe (schema version {found}; this rdpipe "
            f"understands versions up to {supported})",
            hint=(
                "Upgrade rdpipe and run again. Do not delete the file: it records tasks that "
                "were already paid for."
            ),
        )


class StateWriteFailed(StateError):
    """Recording to the state database failed, so the run must stop submitting."""

    def __init__(self, path: Path, what: str, cause: str) -> None:
        self.path = path
        self.what = what
        super().__init__(
            f"Could not record {what} in {path}: {cause}.",
            hint=(
                "rdpipe stops submitting so that no paid task goes unrecorded. Fix the cause "
                "(disk space, permissions) and run again; note any task id shown above."
            ),
        )


class TaskReissued(StateError):
    """The server gave a task's id to a later submit, so the id no longer names that task."""

    def __init__(self, task_id: str, shot_id: str) -> None:
        self.task_id = task_id
        self.shot_id = shot_id
        super().__init__(
            f"task {task_id} of shot '{shot_id}' can no longer be followed: the server has since "
            "given its id to another submit",
            hint="Run again: the shot is submitted anew.",
        )


class LockFileInvalid(StateError):
    """The committed lock file (``<name>.rdpipe.lock``) is not one this rdpipe wrote; nothing
    was sent (exit 2).

    ``line`` (1-based; 0 when unknown) and ``field`` (``shots[2].takes[0].sha256``) say where.
    The hint never says to delete the file: it names clips that were paid for, and a clone
    without them (no shared clip store) would pay for them again.
    """

    exit_code = ExitCode.INVALID_INPUT

    def __init__(
        self,
        path: Path,
        problem: str,
        line: int = 0,
        *,
        field: str = "",
        hint: str | None = None,
        suggestion: Suggestion | None = None,
    ) -> None:
        self.path = path
        self.problem = problem
        self.line = line
        self.field = field
        where = f"{path}:{line}" if line else str(path)
        named = f" {field}:" if field else ""
        if hint is None and suggestion is None:
            suggestion = _restore_hint(path)
        super().__init__(f"{where}:{named} {problem}", hint=hint, suggestion=suggestion)


class LockFileConflicted(LockFileInvalid):
    """The lock file holds both sides of a git merge: conflict markers, or an entry twice."""

    def __init__(self, path: Path, problem: str, line: int, *, field: str = "") -> None:
        super().__init__(path, problem, line, field=field, suggestion=_resolve_hint(path))


class LockFileTooNew(LockFileInvalid):
    """The lock file was written by a newer rdpipe, in a version of the format this one lacks."""

    def __init__(self, path: Path, found: int, supported: int, line: int) -> None:
        self.found = found
        self.supported = supported
        super().__init__(
            path,
            f"lock file version {found} was written by a newer rdpipe (this one reads versions "
            f"up to {supported})",
            line,
            field="version",
            hint="Upgrade rdpipe to read it; leave the file as it is: it names clips that were "
            "paid for.",
        )


def _restore_hint(path: Path) -> Suggestion:
    name, aside = _literal(shlex.quote(path.name)), _literal(shlex.quote(f"{path.name}.bad"))
    return Suggestion.of(
        "status",
        f"Restore it from git: `git checkout -- {name}` in its folder. Only as a last resort, "
        f"move it aside (`mv {name} {aside}`) and run again: shots whose clips are neither on "
        "this disk nor in the shared clip store would then be generated and billed again "
        "(`{0}` shows which first).",
    )


def _resolve_hint(path: Path) -> Suggestion:
    name = _literal(shlex.quote(path.name))
    return Suggestion(
        "Both sides name clips that were paid for. Resolve it by keeping, for each shot, the "
        "entry that matches the pipeline as merged, one entry per shot and take, without the "
        f"markers. Or take one side whole (`git checkout --ours -- {name}` or `--theirs`, "
        "then `git add` it) and run `{0}` again: the other side's clips are found again "
        "on this disk if they were made here, or in the shared clip store; `{1}` "
        "first shows any shot found in neither, which would be generated and billed again.",
        (Command("run"), Command("status")),
    )


def _literal(text: str) -> str:
    """``text`` inside a :class:`Suggestion`'s sentence (braces doubled)."""
    return text.replace("{", "{{").replace("}", "}}")

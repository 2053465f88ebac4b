"""Errors of the run state: each composes its own message for the person running the pipeline."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from rdpipe.errors import RdpipeError

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

    def __init__(self, path: Path, problem: str, hint: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"Cannot use the run state {path}: {problem}.", hint=hint)


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
    """The committed lock file (``<name>.rdpipe.lock``) cannot be read."""

    def __init__(self, path: Path, problem: str, line: int = 0) -> None:
        self.path = path
        self.line = line
        where = f"{path}:{line}" if line else str(path)
        super().__init__(
            f"{where}: {problem}",
            hint="Restore it from git (`git checkout -- <file>`), or delete it and run again.",
        )

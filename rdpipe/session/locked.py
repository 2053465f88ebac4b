"""``rdpipe run --locked``: the video from the lock file's clips only, never spending (issue 13 §3).

For CI, scheduled jobs and editors without an API key. Every shot must have a clip already or
one the lock file names (on this disk, in the shared clip store, or on the server); otherwise
the run stops with exit code 2, naming each shot, why, and what a normal run would bill for it.
It is checked twice: before any request (shots missing from the lock file, or changed since it
was written), and after the locked clips were fetched (those that could not be obtained).
"""

from __future__ import annotations

from collections.abc import Sequence

from rdpipe.errors import ExitCode, RdpipeError
from rdpipe.hints import Command, Suggestion
from rdpipe.plan import Action, Job, Plan
from rdpipe.session.reproduce import NEEDS_KEY
from rdpipe.session.sources import ClipSources, lock_name

#: What ``--locked`` accepts before fetching (a clip to obtain) and after (only a clip); and,
#: either way, a task already paid for whose key and take the lock file names (following it,
#: or downloading its clip again, costs nothing).
BEFORE_FETCHING = frozenset({Action.REUSE, Action.RESTORE})
AFTER_FETCHING = frozenset({Action.REUSE})


class LockedRunRefused(RdpipeError):
    """``--locked``, and a shot has no clip the lock file names; nothing was submitted."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(
        self, pipeline: str, lock_file: str, reasons: Sequence[str], seconds: int, *, edited: bool
    ) -> None:
        one = len(reasons) == 1
        shots, them = ("shot", "it") if one else ("shots", "them")
        bill = (
            f"A run without --locked would bill {seconds} s of generation for {them}"
            if seconds
            else "A run without --locked would bill nothing for them"
        )
        super().__init__(
            f"--locked: {len(reasons)} {shots} cannot be built from {lock_file}: "
            + "; ".join(reasons)
            + f". {bill}; nothing was submitted",
            suggestion=Suggestion(
                f"Run `{{0}}` to make {them} (`{{1}}` shows the cost), then commit the lock "
                "file; or undo the change to the pipeline.",
                (Command("run"), Command("status")),
            )
            if edited
            else Suggestion.of(
                "status",
                "The locked clips could not be fetched: set up the team's shared clip store "
                "(--remote, RDPIPE_REMOTE or rdpipe.toml) or RELAYDANCE_API_KEY for the "
                "server; `{0}` shows where each clip is.",
            ),
        )


def check_locked(
    plan: Plan, sources: ClipSources | None, pipeline: str, lock_file: str, *, fetched: bool
) -> None:
    """Raise :class:`LockedRunRefused` naming every job ``--locked`` cannot build.

    ``fetched``: whether the locked clips were already fetched (then only clips count).
    """
    accepted = AFTER_FETCHING if fetched else BEFORE_FETCHING
    locked = {} if sources is None else sources.locked
    refused = [
        job
        for job in plan.jobs
        if (job.key, job.shot.take) not in locked
        or not (job.action in accepted or job.action is Action.RESUME)
    ]
    if not refused:
        return
    locked_shots = set() if sources is None else sources.locked_names
    reasons = [_reason(job, locked_shots) for job in refused]
    seconds = sum(
        job.shot.seconds
        for job in refused
        if job.action is Action.GENERATE and NEEDS_KEY not in job.reason  # with a key: free
    )
    edited = any(job.action is not Action.RESTORE and not _unavailable(job) for job in refused)
    raise LockedRunRefused(pipeline, lock_file, reasons, seconds, edited=edited)


def _reason(job: Job, locked_shots: set[str]) -> str:
    label = f"{job.shot.label} ({job.shot.seconds} s)"
    if lock_name(job) not in locked_shots:
        return f"{label} is not in the lock file"
    if not _unavailable(job) and job.action is not Action.RESTORE:
        return f"{label} changed since the lock file was written"
    if job.action is Action.RESTORE:
        return f"{label}: its clip is not one the lock file names"
    return f"{label}: {job.reason}"


def _unavailable(job: Job) -> bool:
    """Whether the job generates because its locked clip could not be had (not an edit)."""
    return job.reason.startswith("locked clip unavailable")

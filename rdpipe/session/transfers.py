"""``rdpipe push`` and ``rdpipe pull``: the clips between this machine and the shared store
(issue 13 §2), outside a run.

``push`` sends every clip of the pipeline this machine holds, asking the store itself what it
has (so a store emptied by hand is filled again, and a push a run could not finish is done).
``pull`` obtains every clip the lock file or the store's index names for the pipeline as it is
now, without generating anything: for editing without running.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rdpipe.errors import ExitCode, RdpipeError
from rdpipe.plan import Action
from rdpipe.prepare.pipeline import PreparedPipeline
from rdpipe.send_record import SendRecord
from rdpipe.session.events import AsyncRunner, RunNote, RunReporter, clips_word
from rdpipe.session.pushing import push_notes, recorded_clips
from rdpipe.session.reproduce import restore_known_clips
from rdpipe.session.session import Access, open_session
from rdpipe.session.settings import RunSettings


class NoSharedStore(RdpipeError):
    """``push`` or ``pull`` without a shared clip store set anywhere."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, command: str) -> None:
        super().__init__(
            f"rdpipe {command}: no shared clip store is set for this pipeline",
            hint="Pass --remote URL (s3://bucket/prefix, file:///mnt/team/rdpipe, ...), set "
            'RDPIPE_REMOTE, or write [remote] url = "..." in an rdpipe.toml beside the '
            "pipeline or above it.",
        )


class TransfersFailed(RdpipeError):
    """Some clips could not be pushed or pulled; what could was."""

    exit_code = ExitCode.FAILED


@dataclass(frozen=True)
class Transferred:
    """How many clips a push or a pull concerned, and how many it moved or found in place
    (a pull's shots that no lock or store knows are said in a note)."""

    clips: int
    done: int
    uploaded: int = 0  # push: clips whose bytes were sent (the others were there)


def push_pipeline(
    prepared: PreparedPipeline,
    settings: RunSettings,
    *,
    reporter: RunReporter,
    run_async: AsyncRunner,
) -> Transferred:
    """Push every clip of the pipeline recorded here; raises :class:`NoSharedStore`, and
    :class:`TransfersFailed` after pushing what it could (each failure said as a note)."""
    with open_session(prepared, settings, access=Access.REBUILD) as session:
        shared, notes = session.shared, push_notes(session, reporter)
        if shared is None or notes is None:
            raise NoSharedStore("push")
        clips = recorded_clips(session)
        unsound = [
            f"{job.shot.label}: {job.reason}"
            for job in session.plan.jobs
            if job.action is not Action.REUSE
            and session.store.lookup(job.key, job.shot.take).clip is not None
        ]
        from rdpipe.scheduler.pushes import push_clips

        async def push() -> int:
            with reporter.transfers("pushing", total=len(clips)) as meter:
                return await push_clips(
                    shared, clips, notes, progress=lambda entry: meter.clip(entry.shot_id)
                )

        pushed = run_async(push) if clips else 0
    failed = len(clips) - pushed
    problems = unsound + ([f"{clips_word(failed)} failed (said above)"] if failed else [])
    if problems:
        not_pushed, total = failed + len(unsound), len(clips) + len(unsound)
        raise TransfersFailed(
            f"{not_pushed} of {clips_word(total)} {'was' if not_pushed == 1 else 'were'} not "
            f"pushed: {'; '.join(problems)}"
        )
    return Transferred(len(clips), pushed, uploaded=notes.uploaded)


def pull_pipeline(
    prepared: PreparedPipeline,
    settings: RunSettings,
    *,
    reporter: RunReporter,
    environ: Mapping[str, str],
    run_async: AsyncRunner,
) -> Transferred:
    """Obtain every clip the lock file or the store names for the pipeline, generating
    nothing; raises :class:`TransfersFailed` naming the shots whose clip could not be had."""
    with open_session(prepared, settings, access=Access.RUN) as session:
        wanted = sum(job.action is Action.RESTORE for job in session.plan.jobs)
        sends = SendRecord()
        with sends.marking():
            session = restore_known_clips(
                session, reporter=reporter, environ=environ, sends=sends, run_async=run_async
            )
        plan = session.plan
        failed = [job for job in plan.jobs if job.reason.startswith("locked clip unavailable")]
        new = [job for job in plan.jobs if job.action is Action.GENERATE and job not in failed]
    if new:
        labels = ", ".join(job.shot.label for job in new)
        reporter.run_event(RunNote(f"no clip made before for {labels}: a run makes them"))
    if failed:
        raise TransfersFailed(
            f"{len(failed)} of {clips_word(wanted)} could not be pulled: "
            + "; ".join(f"{job.shot.label}: {job.reason}" for job in failed)
        )
    return Transferred(wanted, wanted)

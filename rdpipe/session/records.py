"""The files a run leaves for people and tools: ``manifest.json`` and the committed lock file.

Both are written whole and atomically, blocking (a run calls these in worker threads). The
manifest is rewritten while the run goes on (the review page follows it) and once at its end;
the lock file names the verified clips only.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from rdpipe.model.output import contact_sheet_path
from rdpipe.plan import Plan
from rdpipe.prepare.pipeline import PreparedPipeline
from rdpipe.redaction import Redactor
from rdpipe.render import DRAFT
from rdpipe.session.bills import TakeBill, costed, take_bills
from rdpipe.session.manifest import ManifestBuilder, TakeView, write_manifest
from rdpipe.session.session import PipelineSession
from rdpipe.session.workspace import Workspace
from rdpipe.state import (
    LockFile,
    MediaVerdicts,
    ShotLock,
    ShotState,
    StateStore,
    kept_takes,
    lock_shot,
)


def record_manifest(
    prepared: PreparedPipeline,
    plan: Plan,
    takes: Mapping[str, TakeView],
    workspace: Workspace,
    *,
    running: bool,
    redactor: Redactor,
    video: Path | None = None,
    builder: ManifestBuilder | None = None,
    bills: Mapping[str, TakeBill] | None = None,
    deliverables: Sequence[tuple[str, Path]] = (),
) -> None:
    """Write ``manifest.json`` for the current state of the run (``takes`` by shot label).

    ``deliverables``: each deliverable's video built, by name; the manifest lists each one's
    path from its own folder (``vertical.mp4``, ``../exports/square.mp4``).

    ``redactor`` (the command's) takes secrets out of its messages. ``video``: the storyboard
    video, once built (its contact sheet is named if it exists). ``builder``: one kept across a
    run's rewrites, so the unchanging parts are built once. ``bills``: what each take cost, by
    label (:func:`session_bills`); without them the cost fields are null.
    """
    sheet = workspace.contact_sheet if video is None else contact_sheet_path(video)
    document = (builder or ManifestBuilder(prepared, plan, redactor)).document(
        takes,
        video=video.name if video is not None else None,  # film.draft.mp4 from drafts
        contact_sheet=sheet.name if video is not None and sheet.exists() else None,
        running=running,
        now=time.time(),
        bills=bills,
        deliverables=[
            {"name": name, "path": Path(os.path.relpath(path, workspace.output_dir)).as_posix()}
            for name, path in deliverables
        ],
    )
    write_manifest(workspace.manifest, document)


def session_bills(session: PipelineSession, takes: Mapping[str, TakeView]) -> dict[str, TakeBill]:
    """What each take of ``session``'s plan cost, by label, for the manifest: the bill of the
    task ``takes`` names for it (:func:`~rdpipe.session.bills.take_bills`). Blocking; the
    session's state must be open."""
    task_ids = {label: view.task_id for label, view in takes.items()}
    return take_bills(session.store, session.plan, task_ids, session.lock_entries)


def write_lock_file(
    plan: Plan,
    store: StateStore,
    verdicts: MediaVerdicts,
    workspace: Workspace,
    before: Sequence[ShotLock] | None = None,
) -> None:
    """Rewrite the committed lock file (not for offline previews): one entry per finished shot
    and rendition (issue 17: ``kite:draft`` its draft takes, ``kite`` its final, which records
    the draft take it came from, ``kite:vertical`` its regeneration for a deliverable).

    A shot the state holds no clip for keeps the entry the lock file has for it: a clip not
    obtained in this run (no store, the run stopped) is not a changed shot, and an edited shot
    whose new clip does not exist yet (it failed, or the run stopped) keeps the clips last made
    for it, so undoing the edit finds them again. The lock file changes only when a shot has a
    new clip, or leaves the pipeline. Each take records what it cost
    (:func:`~rdpipe.session.bills.costed`): the cost the lock file had for its task, else the
    charge the state recorded, so a clip reused keeps the cost it was generated with.
    ``verdicts``: what the session's clip store found of each clip's media; ``before``: the
    lock file's entries if the command read it already (else it is read here). Blocking.
    """
    if workspace.offline:
        return
    lock_file = LockFile(workspace.state.lock_file)
    by_name = {entry.name: entry for entry in (lock_file.read() if before is None else before)}
    drafted = {job.shot.id for job in plan.jobs if job.shot.rendition == DRAFT}
    states: dict[tuple[str, str], list[ShotState]] = {}
    from_draft: dict[tuple[str, str], int | None] = {}
    for job in plan.jobs:
        state = store.lookup(job.key, job.shot.take)
        # Only verified clips: not one whose media was found incomplete (issue 11 §3).
        whole = tuple(c for c in state.clips if (v := verdicts.recall(c.sha256)) is None or v.whole)
        entry_of = (job.shot.id, job.shot.rendition)
        states.setdefault(entry_of, []).append(replace(state, clips=whole))
        drafts = job.shot.id in drafted and job.shot.rendition != DRAFT
        from_draft[entry_of] = job.shot.from_take if drafts else None
    entries = []
    for (shot_id, rendition), taken in states.items():
        keys = [state.key for state in sorted(taken, key=lambda state: state.take)]
        tasks = {task.task_id: task for state in taken for task in state.succeeded}
        name = f"{shot_id}:{rendition}" if rendition else shot_id
        before_entry = by_name.get(name)
        made = lock_shot(
            shot_id, taken, rendition=rendition, from_draft=from_draft[shot_id, rendition]
        )
        entry = kept_takes(costed(made, tasks, before_entry), before_entry, keys)
        if entry is None:  # no clip of this shot here (edited, and not generated yet; failed)
            entry = before_entry  # the lock keeps the clips last made for it
        if entry is not None:
            entries.append(entry)
    lock_file.write(entries)

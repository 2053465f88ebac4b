"""``rdpipe status``: what a run would do with each shot, and why, without running it.

A pipeline with drafts or regenerations (issue 17) gets a ``stage`` column: ``draft``, ``final
from draft 2``, ``vertical`` (regenerated for that deliverable); its shots awaiting a pick are
named with the commands that pick them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from rdpipe.cli.app import app, run_command
from rdpipe.cli.context import CommandContext
from rdpipe.cli.pipeline_commands import (
    AllowOutside,
    FileArgument,
    JsonOption,
    NoRemoteOption,
    OfflineOption,
    RemoteOption,
    SetOption,
    plan_as_stored,
    prepare,
    remote_setting,
)
from rdpipe.hints import Invocation

#: A draft take's rendition (``rdpipe.prepare.renditions.DRAFT``; not imported at start-up).
DRAFT = "draft"

if TYPE_CHECKING:
    from pathlib import Path

    from rdpipe.load.loader import LoadedPipeline
    from rdpipe.plan import Job
    from rdpipe.remote import RemoteSetting
    from rdpipe.session.store_status import StoreStatus

_LABEL = {
    "reuse": "cached",
    "resume": "in flight",
    "blocked": "unknown",
    "refused": "refused",
    "generate": "to generate",
}
#: Where a clip made before is, for a shot to restore (issue 13 §2: local, shared, server).
_WHERE = {"local": "on this disk", "shared": "in the shared store", "server": "on the server"}


@app.command()
def status(
    file: FileArgument,
    sets: SetOption = None,
    allow_outside: AllowOutside = False,
    offline: OfflineOption = False,
    remote: RemoteOption = None,
    no_remote: NoRemoteOption = False,
    as_json: JsonOption = False,
) -> None:
    """Show each shot: cached, in flight, failed, unknown, or to be generated, and why."""
    context = CommandContext.start()

    def action() -> None:
        from rich.table import Table
        from rich.text import Text

        from rdpipe.session.session import read_plan
        from rdpipe.session.settings import RunSettings
        from rdpipe.session.store_status import StoreStatus, store_status
        from rdpipe.session.workspace import Workspace

        prepared = prepare(file, sets, allow_outside, warnings_to=context.err)
        # Read-only: status writes nothing, so it works on a read-only checkout.
        shared = None if offline else remote_setting(file, remote, context, disabled=no_remote)
        settings = RunSettings(offline=offline, remote=shared)
        plan, settings = plan_as_stored(prepared, settings, context)
        shared = settings.remote
        workspace = Workspace.for_pipeline(prepared.loaded, offline=offline)
        asked = not offline
        if asked:  # is each locked clip to download from the server still there? (GETs)
            from rdpipe.session.reproduce import unavailable_locked_clips

            gone = unavailable_locked_clips(plan, settings, workspace, context.environ)
            asked = gone is not None
            if gone:
                plan = read_plan(prepared, settings, unavailable=gone)
        store = StoreStatus() if shared is None else store_status(plan, shared, workspace)
        billed = plan.billed_seconds - sum(
            job.shot.seconds for job in plan.jobs if job.shot.label in store.held
        )
        rows: list[dict[str, Any]] = []
        drafted = {job.shot.id for job in plan.jobs if job.shot.rendition == DRAFT}
        for job in plan.jobs:
            held = store.held.get(job.shot.label)
            final = job.shot.id in drafted and job.shot.rendition != DRAFT
            rows.append(
                {
                    "id": job.shot.id,
                    "take": job.shot.take,
                    "label": job.shot.label,
                    "rendition": job.shot.rendition,
                    "from_draft": job.shot.from_take if final else None,
                    "status": "generating elsewhere" if held else _status(job),
                    "reason": held or job.reason,
                    "task_id": job.task_id,
                    "clip": job.clip.relative if job.clip else None,
                    "key": job.key,
                }
            )
        preview = not offline and _preview_only(plan.jobs, prepared.loaded)
        notes = _notes(store, invocation, asked=asked, rows=rows, preview=preview)
        notes += _pick_notes(plan.jobs, invocation)
        if as_json:
            from rdpipe.cli.machine_output import Kind, document, dumps

            shown = {"pipeline": prepared.name, "shots": _json_rows(plan.jobs, rows, file),
                     "billed_seconds": billed, "notes": notes}  # fmt: skip
            typer.echo(dumps(document(Kind.STATUS, shown)))
            return
        title = f"{prepared.name}: {billed} s to bill on the next run"
        table = Table(title=Text(title, style="table.title"))
        staged = bool(drafted) or any(row["rendition"] for row in rows)
        for column in ("shot", *(("stage",) if staged else ()), "status", "why"):
            table.add_column(column)
        for row in rows:  # data, never markup: a reason may quote "[/]" or "[redacted]"
            stage = (Text(_stage(row, row["id"] in drafted)),) if staged else ()
            table.add_row(Text(row["label"]), *stage, Text(row["status"]), Text(row["reason"]))
        context.out.print(table)
        for note in notes:
            context.out.print(Text(note))
        if shared is not None:
            context.out.print(Text(_store_line(shared)))

    invocation = Invocation.start(
        file, offline=offline, sets=sets, allow_outside_files=allow_outside
    )
    run_command(action, context, invocation=invocation, as_json=as_json)


def _stage(row: dict[str, Any], drafted: bool) -> str:
    """The stage column: ``draft``, ``final from draft 2``, a deliverable's regeneration
    (``vertical``, ``vertical from draft 2``), ``final`` for a shot without drafts."""
    rendition, source = row["rendition"], row["from_draft"]
    if rendition == DRAFT:
        return "draft"
    name = rendition or "final"
    return f"{name} from draft {source}" if drafted and source is not None else name


def _pick_notes(jobs: list[Job], invocation: Invocation) -> list[str]:
    """For drafted shots without a pick: the commands that show and pick their drafts."""
    from rdpipe.cli.next_steps import pick_advice
    from rdpipe.prepare.renditions import awaiting_pick

    waiting = awaiting_pick([job.shot for job in jobs])
    if not waiting:
        return []
    takes = {shot: sum(1 for job in jobs if job.shot.id == shot) for shot in waiting}
    return [step.removesuffix(".") for step in pick_advice(takes, invocation)]


def _json_rows(jobs: list[Job], rows: list[dict[str, Any]], file: Path) -> list[dict[str, Any]]:
    """The rows as ``status --json`` gives them: ``status`` the shot's
    :class:`~rdpipe.cli.machine_output.ShotState` (as ``plan --json`` says it), ``action`` the
    plan's, ``clip`` relative to the pipeline's folder, and for a clip made before where it is
    (``clip_source``: local, shared or server; ``locked``: named by the lock file)."""
    from rdpipe.cli.machine_output import ShotState, job_reason, optional_path, plan_state

    base = file.absolute().parent
    shown = []
    for job, row in zip(jobs, rows, strict=True):
        elsewhere = row["status"] == ShotState.GENERATING_ELSEWHERE.value
        known = job.known
        shown.append({
            **row,
            "status": ShotState.GENERATING_ELSEWHERE.value if elsewhere else plan_state(job).value,
            "reason": row["reason"] if elsewhere else job_reason(job, base),
            "action": job.action.value,
            "clip": optional_path(job.clip.path if job.clip else None, base),
            "clip_source": None if known is None else known.source,
            "locked": known is not None and known.path is not None,
        })  # fmt: skip
    return shown


def _preview_only(jobs: list[Job], loaded: LoadedPipeline) -> bool:
    """Whether no shot has a paid clip or task yet while the offline preview has run (its
    manifest exists): its clips are not these, but the user may be looking for them."""
    from rdpipe.plan import Action
    from rdpipe.session.workspace import Workspace

    if any(job.action is not Action.GENERATE or job.failed_before or job.known for job in jobs):
        return False
    return Workspace.for_pipeline(loaded, offline=True).manifest.exists()


def _notes(
    store: StoreStatus,
    invocation: Invocation,
    *,
    asked: bool,
    rows: list[dict[str, Any]],
    preview: bool = False,
) -> list[str]:
    """What the table cannot say: the server not asked, the store's gaps, pushes to make, the
    command that deals with the shots of unknown outcome, and (``preview``) the command that
    shows the offline preview's clips when no paid shot has one."""
    notes = []
    if preview:
        shown = invocation.command("status", options=("--offline",))
        notes.append(f"no paid clip yet; the offline preview has its own clips: `{shown}` "
                     "shows them (free)")  # fmt: skip
    unknown = [row["label"] for row in rows if row["status"] == _LABEL["blocked"]]
    if unknown:
        from rdpipe.cli.next_steps import unknown_outcome_advice

        notes.append(unknown_outcome_advice(unknown, invocation).removesuffix("."))
    if not asked and any(row["status"] == "locked, on the server" for row in rows):
        notes.append(
            "the server was not asked whether it still has the locked tasks: "
            "RELAYDANCE_API_KEY is not set"
        )
    if store.problem is not None:
        notes.append(f"the shared clip store could not be asked everything: {store.problem}")
    if store.dangling:
        notes.append(
            f"the shared store's index names clips it does not hold for {', '.join(store.dangling)}"
            ": a run fetches them from the server instead"
        )
    if store.unpushed:
        clips = "clip here was" if store.unpushed == 1 else "clips here were"
        notes.append(
            f"{store.unpushed} {clips} never pushed to the shared store from this machine: the "
            f"next run pushes them, or `{invocation.command('push')}`"
        )
    return notes


def _store_line(setting: RemoteSetting) -> str:
    """Which shared clip store the shots were looked for in, and whether runs claim there."""
    from rdpipe.remote import open_shared_store

    store = open_shared_store(setting.url, claim_timeout=setting.claim_timeout)
    line = f"shared clip store: {setting.url} (set by {setting.source})"
    reason = store.claims_unsupported_reason
    if reason is not None:
        line += f"; runs make no claims there ({reason}): two machines may pay for a new shot"
    return line


def _status(job: Job) -> str:
    """The status column: what the next run does with the shot, and where its clip is."""
    if job.failed_before:
        return "failed"
    if job.known is not None:
        made = "locked" if job.known.path is not None else "made before"
        return f"{made}, {_WHERE[job.known.source]}"
    return _LABEL[job.action.value]

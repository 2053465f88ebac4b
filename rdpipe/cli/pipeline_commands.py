"""``validate``, ``plan`` and ``schema``: everything that happens before paying.

``plan`` reads the run state, the lock file and, when one is set and the state lacks a shot,
the shared clip store's index. Of the RelayDance server (the offline simulator with
``--offline``) it asks only the public price list and display currency, and only when a shot
is to be generated (:mod:`rdpipe.session.pricing`): no key is needed, and a relay that cannot
be reached is a note, the plan shown in seconds.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rdpipe.cli.app import app, report_error, run_command
from rdpipe.cli.context import CommandContext
from rdpipe.hints import Invocation

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from rich.console import Console
    from rich.table import Table

    from rdpipe.errors import Diagnostic
    from rdpipe.plan import Job, Plan, Stage
    from rdpipe.prepare.pipeline import PreparedPipeline
    from rdpipe.prices import ShotCost
    from rdpipe.remote import RemoteSetting
    from rdpipe.session.hosting import MediaView
    from rdpipe.session.model_check import ModelsReading
    from rdpipe.session.next_run import NextRun
    from rdpipe.session.pricing import PlanMoney
    from rdpipe.session.settings import RunSettings

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Set a template variable, name=value; wins over the file's vars. Repeatable.",
        metavar="NAME=VALUE",
    ),
]
AllowOutside = Annotated[
    bool,
    typer.Option(
        "--allow-outside-files",
        help="Allow local media outside the pipeline's folder (only for pipelines you trust).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
FileArgument = Annotated[Path, typer.Argument(help="The pipeline file.", metavar="FILE")]
OfflineOption = Annotated[
    bool,
    typer.Option(
        "--offline",
        envvar="RDPIPE_OFFLINE",
        help="The offline preview: the built-in simulator and its own outputs.",
    ),
]
RemoteOption = Annotated[
    str | None,
    typer.Option(
        "--remote",
        help="The team's shared clip store (file://, s3://, gs://, az://, ssh:// or a folder). "
        "Default: $RDPIPE_REMOTE, else rdpipe.toml beside the pipeline or above it.",
        metavar="URL",
    ),
]
NoRemoteOption = Annotated[
    bool,
    typer.Option(
        "--no-remote",
        help="Use no shared clip store, whatever RDPIPE_REMOTE or rdpipe.toml say (no claims: "
        "a teammate's run may pay for the same shots).",
    ),
]
PartialOption = Annotated[
    bool,
    typer.Option(
        "--partial", help="Build the video from the shots that have a clip, leaving out the rest."
    ),
]


def remote_setting(
    file: Path, explicit: str | None, context: CommandContext, *, disabled: bool = False
) -> RemoteSetting | None:
    """The shared clip store for ``file``: ``--remote``, ``RDPIPE_REMOTE``, or ``rdpipe.toml``
    (:func:`rdpipe.remote.find_remote_setting`; exit 2 for a bad one); none with
    ``--no-remote`` (``disabled``), which ``--remote`` contradicts."""
    if disabled:
        if explicit is not None:
            raise typer.BadParameter("--no-remote cannot be combined with --remote")
        return None
    from rdpipe.remote import find_remote_setting

    return find_remote_setting(file, explicit=explicit, environ=context.environ, cwd=Path.cwd())


def plan_as_stored(
    prepared: PreparedPipeline, settings: RunSettings, context: CommandContext
) -> tuple[Plan, RunSettings]:
    """The plan of the next run from what is stored (:func:`~rdpipe.session.session.read_plan`),
    and the settings it was made with: a shared store that cannot be read is warned about on
    stderr and left out, so the shots are still shown."""
    from dataclasses import replace

    from rdpipe.session.session import read_plan
    from rdpipe.session.shared import StoreUnusable

    try:
        return read_plan(prepared, settings), settings
    except StoreUnusable as error:
        context.err.print(
            "warning: the shared clip store could not be read, so the shots are shown as "
            f"without it: {error.cause.message}",
            style="yellow",
            markup=False,
        )
        settings = replace(settings, remote=None)
        return read_plan(prepared, settings), settings


def prepare(
    path: Path, sets: list[str] | None, allow_outside: bool, *, warnings_to: Console | None
) -> PreparedPipeline:
    """Load, render and check a pipeline for a command, printing its warnings (in yellow) on
    ``warnings_to``, the command's standard error console (``None``: the caller prints them,
    with :func:`print_warnings`)."""
    from rdpipe.load.overrides import parse_set_options
    from rdpipe.prepare.pipeline import prepare_pipeline

    prepared = prepare_pipeline(
        path, cli_vars=parse_set_options(sets or []), allow_outside=allow_outside
    )
    if warnings_to is not None:
        print_warnings(prepared.warnings, warnings_to)
    return prepared


def print_warnings(warnings: Iterable[Diagnostic], err: Console) -> None:
    """Each of ``warnings`` on a line of ``err`` (the standard error console), in yellow."""
    for warning in warnings:
        err.print(warning.format(), style="yellow")


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(metavar="FILE", help="Pipeline files to check.")],
    sets: SetOption = None,
    allow_outside: AllowOutside = False,
    as_json: JsonOption = False,
    online: Annotated[
        bool,
        typer.Option(
            "--online",
            help="Also check model ids against the models RelayDance serves (GET /v1/models, "
            "free; needs RELAYDANCE_API_KEY). If the list cannot be read, a note says so.",
        ),
    ] = False,
) -> None:
    """Check pipeline files: syntax, keys, templates, media and model limits. Sends nothing.

    A file that another given pipeline, or one in its folder, includes is checked as a
    fragment. --online reads the server's model list (one free GET; nothing is submitted) and
    refuses a model id it does not list (exit 2); a list that cannot be read is a note on
    stderr, and the exit status is that of the other checks.

    --json prints one ``validate`` document: each file's errors and warnings (exit 2 when
    any file has an error)."""
    context = CommandContext.start()
    checked: list[dict[str, object]] = []  # --json: each file's entry (validate_entry)

    def action() -> None:
        from rdpipe.cli.machine_output import validate_entry
        from rdpipe.errors import Diagnostic, PipelineInvalid
        from rdpipe.load.fragments import find_fragments
        from rdpipe.load.includes import shown_name
        from rdpipe.load.loader import fragment_diagnostics, pipeline_file_problem
        from rdpipe.session.hosting import read_hosting_problems
        from rdpipe.session.model_check import online_warnings

        problems: list[Diagnostic] = []  # every file's, each said once (a shared fragment's)
        printed: list[Diagnostic] = []  # the warnings of files that passed: said as they come
        fragments = find_fragments(files)
        served: list[ModelsReading] = []  # --online: the server's list, read once

        def said_once(found: Sequence[Diagnostic]) -> list[Diagnostic]:
            """``found`` less what an earlier file already said (a fragment's own mistake is
            found through each pipeline including it, each naming its own shots: the same
            mistake at the same place); kept for the closing paragraph."""
            said = {_mistake(d) for d in problems}
            fresh = []
            for diagnostic in found:
                if _mistake(diagnostic) not in said:
                    said.add(_mistake(diagnostic))
                    fresh.append(diagnostic)
            problems.extend(fresh)
            return fresh

        def warn(warnings: Sequence[Diagnostic]) -> None:
            fresh = said_once(warnings)
            printed.extend(fresh)
            print_warnings(fresh, context.err)

        for file in files:
            cwd = Path.cwd()
            unreadable = pipeline_file_problem(file)
            if unreadable is not None:  # missing, a folder, a FIFO, /dev/null: never opened
                problem = Diagnostic(str(file), 0, 0, "", unreadable)
                said_once([problem])
                checked.append(validate_entry(file, [problem], None))
                continue
            includers = fragments.get(file.resolve())
            if includers is not None:
                found = fragment_diagnostics(file, cwd=cwd)
                if not found:
                    found = fragment_model_problems(file, served, context, online=online)
                errors = [d for d in found if d.severity == "error"]
                warn([d for d in found if d.severity != "error"])
                said_once(errors)
                checked.append(
                    validate_entry(file, found, None if errors else 0, included_by=includers)
                )
                if not errors and not as_json:
                    by = _listed(os.path.relpath(i, file.resolve().parent) for i in includers)
                    context.out.print(
                        f"{shown_name(file, cwd)}: fragment (included by {by}): OK",
                        markup=False,
                    )
                continue
            try:
                prepared = prepare(file, sets, allow_outside, warnings_to=None)
            except PipelineInvalid as error:
                said_once(error.diagnostics + error.warnings)
                checked.append(validate_entry(file, error.diagnostics + error.warnings, None))
                continue
            remote = remote_setting(file, None, context)
            hosting = read_hosting_problems(prepared, remote, context.environ)
            if hosting:
                warn(prepared.warnings)
                said_once(hosting)
                checked.append(validate_entry(file, [*hosting, *prepared.warnings], None))
                continue
            refused = served_problems_of(prepared, served, context) if online else []
            warnings = online_warnings(prepared, refused, served)  # one id, one message
            warn(warnings)
            if refused:
                said_once(refused)
                checked.append(validate_entry(file, [*refused, *warnings], None))
                continue
            count = len({shot.index for shot in prepared.shots})  # shots, not their takes
            checked.append(validate_entry(file, warnings, count))
            if not as_json and not context.quiet:  # -q: nothing on success
                shots = "1 shot" if count == 1 else f"{count} shots"
                context.out.print(f"{prepared.loaded.shown_as}: OK ({shots})")
        # The closing paragraph: every error, and the warnings of the files that failed.
        unsaid = [d for d in problems if d not in printed]
        failed = PipelineInvalid(unsaid) if any(d.severity == "error" for d in unsaid) else None
        if as_json:
            from rdpipe.cli.machine_output import ModelsChecked, dumps, validate_document
            from rdpipe.session.model_check import ModelsUnavailable

            # --online: "online" once the server's list was read; else the catalog, and why
            unread = [r.message for r in served[:1] if isinstance(r, ModelsUnavailable)]
            against = ModelsChecked.ONLINE if served and not unread else ModelsChecked.CATALOG
            shown = validate_document(
                checked, models_checked=against, models_note=unread[0] if unread else None
            )
            typer.echo(dumps(shown))
            if failed is not None:  # the document says it on stdout: no error document
                report_error(failed, context)
                raise typer.Exit(int(failed.exit_code))
        if failed is not None:
            raise failed

    run_command(action, context, as_json=as_json)


def _mistake(diagnostic: Diagnostic) -> tuple[str, int, int, str, str, str]:
    """What makes two diagnostics the same mistake: the place, the severity and the message
    less the shots that use a model id (``(used by shots a, b; also written at ...)``)."""
    import re

    message = re.sub(r" \((?:used by|also written at) [^()]*\)$", "", diagnostic.message)
    d = diagnostic
    return (d.file, d.line, d.column, d.field, d.severity, message)


def _listed(names: Iterable[str]) -> str:
    """``a.yaml``, ``a.yaml and b.yaml``, ``a.yaml, b.yaml and c.yaml``."""
    shown = list(names)
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


def fragment_model_problems(
    file: Path, served: list[ModelsReading], context: CommandContext, *, online: bool
) -> list[Diagnostic]:
    """The model ids the fragment ``file`` writes, checked as a fragment allows: a warning for
    each id rdpipe's catalog lacks (with a did-you-mean) and, ``online``, an error for each id
    the server does not serve (that id's catalog warning then left out: one id, one
    message). The server's list is read once, into ``served``."""
    from rdpipe.catalog import load_catalog
    from rdpipe.prepare.fragment_models import fragment_model_uses
    from rdpipe.prepare.model_ids import catalog_warnings
    from rdpipe.session.model_check import ModelsUnavailable, served_problems, settled_warnings

    uses = fragment_model_uses(file, cwd=Path.cwd())
    if not uses:
        return []
    warnings = catalog_warnings(uses, load_catalog().ids())
    if not online:
        return warnings
    reading = _served_reading(file, served, context)
    if isinstance(reading, ModelsUnavailable):
        return warnings
    refused = served_problems(uses, reading)
    return [*refused, *settled_warnings(warnings, uses, refused, reading)]


def _served_reading(
    file: Path, served: list[ModelsReading], context: CommandContext
) -> ModelsReading:
    """The server's model list, read on first use into ``served`` (a note on stderr, once,
    when it cannot be read), for the pipeline or fragment ``file``."""
    from rdpipe.send_record import SendRecord
    from rdpipe.session.events import run_in_event_loop
    from rdpipe.session.model_check import ModelsUnavailable, read_served_models
    from rdpipe.session.settings import RunSettings
    from rdpipe.session.workspace import Workspace
    from rdpipe.state import StatePaths

    if not served:
        folder = file.resolve().parent  # a read only: no state is written there
        state = StatePaths.for_pipeline(file.resolve(), offline=False)
        workspace = Workspace(folder, folder / "video.mp4", state, False, folder)
        reading = read_served_models(
            RunSettings(), workspace,
            context.environ, sends=SendRecord(), run_async=run_in_event_loop, asked=True,
            waiting=lambda said: context.err.print(f"note: {said}", markup=False),
        )  # fmt: skip
        served.append(reading)
        if isinstance(reading, ModelsUnavailable):
            context.err.print(f"note: {reading.message}", style="yellow", markup=False)
    return served[0]


def served_problems_of(
    prepared: PreparedPipeline, served: list[ModelsReading], context: CommandContext
) -> list[Diagnostic]:
    """``validate --online``: the model ids of ``prepared`` the server does not serve. The
    list is read on first use and kept in ``served``; when it cannot be read, a note says so
    (once) on stderr and nothing is refused."""
    from rdpipe.session.model_check import (
        ModelsUnavailable,
        pipeline_model_uses,
        served_problems,
    )

    reading = _served_reading(prepared.loaded.path, served, context)
    if isinstance(reading, ModelsUnavailable):
        return []
    return served_problems(pipeline_model_uses(prepared), reading)


@app.command()
def plan(
    file: FileArgument,
    sets: SetOption = None,
    allow_outside: AllowOutside = False,
    offline: OfflineOption = False,
    remote: RemoteOption = None,
    no_remote: NoRemoteOption = False,
    as_json: JsonOption = False,
    drafts: Annotated[
        bool,
        typer.Option(
            "--drafts",
            help="Plan what `run --drafts` does: the drafts and the shots without drafts.",
        ),
    ] = False,
) -> None:
    """Show every request, what the next run does with it (reuse, restore from the lock file,
    generate...), and the generations, seconds and money it would bill: the pre-charge (held
    from the balance while the tasks run) and the expected cost, at the relay's prices.

    With drafted shots, a table by stage also prices what the next run renders once the
    drafts are picked (their finals and regenerations); the budget counts this run only."""
    context = CommandContext.start()

    def action() -> None:
        from rdpipe.session.hosting import read_media_views
        from rdpipe.session.next_run import next_run
        from rdpipe.session.settings import RunSettings

        prepared = prepare(file, sets, allow_outside, warnings_to=context.err)
        shared = None if offline else remote_setting(file, remote, context, disabled=no_remote)
        # Read-only, like status; the server is asked for its prices only (status asks more).
        settings = RunSettings(offline=offline, remote=shared, drafts=drafts)
        result, settings = plan_as_stored(prepared, settings, context)
        media = read_media_views(prepared, settings, context.environ, result.jobs)
        money, note = plan_prices(prepared, settings, result, context)
        if note is not None:
            context.err.print(note, style="yellow", markup=False)
        later = next_run(prepared, settings, result, allow_outside=allow_outside)
        if later is not None and money is not None:
            later = later.priced(money.prices)
        if as_json:
            from rdpipe.cli.machine_output import Kind, document, dumps

            shown = {
                **plan_json(result, money, note, later, base=file.absolute().parent),
                "local_media": [view.to_json() for view in media],
            }
            typer.echo(dumps(document(Kind.PLAN, shown)))
        else:
            print_plan(result, context.out, money, later)
            print_media(media, context.out)

    invocation = Invocation.start(
        file, offline=offline, sets=sets, allow_outside_files=allow_outside
    )
    run_command(action, context, as_json=as_json, pipeline=file, invocation=invocation)


def plan_prices(
    prepared: PreparedPipeline, settings: RunSettings, result: Plan, context: CommandContext
) -> tuple[PlanMoney | None, str | None]:
    """The plan's costs at the relay's prices, read once (no key needed), when it generates;
    else ``None``, with the note saying why when the prices could not be read."""
    if not result.generations:
        return None, None
    from rdpipe.send_record import SendRecord
    from rdpipe.session.events import run_in_event_loop
    from rdpipe.session.pricing import PlanMoney, Prices, read_prices
    from rdpipe.session.workspace import Workspace

    workspace = Workspace.for_pipeline(prepared.loaded, offline=settings.offline)
    reading = read_prices(
        settings, workspace, context.environ, sends=SendRecord(), run_async=run_in_event_loop
    )
    prices = reading.prices
    if isinstance(prices, Prices):
        return PlanMoney.of(result, prices), None
    return None, None if prices is None else prices.message


def plan_json(
    result: Plan,
    money: PlanMoney | None,
    note: str | None,
    later: NextRun | None = None,
    *,
    base: Path,
) -> dict[str, object]:
    """The ``plan --json`` object: the plan's own (:meth:`~rdpipe.plan.Plan.to_json`) with the
    money: per shot ``precharge`` and ``expected_cost`` (display currency) and
    ``precharge_quota`` and ``expected_quota`` (quota units), ``null`` for a shot this run
    does not bill or a model not priced; the same in ``totals`` (the shots to generate that are
    priced; ``unpriced``: the models that are not); ``currency``, ``pricing_version`` and
    ``prices`` (host, version, currency and its conversion). Without prices (none read: nothing
    to generate, or the relay could not be reached, which ``prices_note`` says) these are
    ``null`` and the plan counts seconds only. Each shot's ``status`` is its
    :class:`~rdpipe.cli.machine_output.ShotState` (``action``: what the next run does).

    A cached clip's ``reason`` names it relative to ``base``, the pipeline file's folder
    (:func:`~rdpipe.cli.machine_output.job_reason`).

    ``totals.by_stage``: this run's stages (``run: "this"``), then the next run's (``later``,
    :mod:`rdpipe.session.next_run`: ``run: "next"``, ``after_picks`` when they wait for drafted
    shots to be picked), each with its generations, billed seconds and money;
    ``totals.next_run``: the next run's totals and ``awaiting_pick`` (the shot ids), ``null``
    when there is nothing after this run. Every other total counts this run only."""
    from rdpipe.cli.machine_output import job_reason, plan_state

    shown = result.to_json()
    for shot, job in zip(shown["shots"], result.jobs, strict=True):
        shot["status"] = plan_state(job).value
        shot["reason"] = job_reason(job, base)
    totals: dict[str, object] = shown["totals"]
    if money is None:
        for shot in shown["shots"]:
            shot.update(dict.fromkeys(_MONEY_FIELDS))
        totals.update({**dict.fromkeys(_MONEY_FIELDS), "unpriced": []})
        for stage in shown["totals"]["by_stage"]:
            stage.update({"run": "this", "after_picks": False, **dict.fromkeys(_MONEY_FIELDS)})
        _later_json(totals, later, None)
        return {**shown, "currency": None, "pricing_version": None, "prices": None,
                "prices_note": note}  # fmt: skip
    for shot, job in zip(shown["shots"], result.jobs, strict=True):
        shot.update(money.amounts(money.billed(job)))
    totals.update({**money.amounts(money.costs.total), "unpriced": list(money.costs.unpriced)})
    for shown_stage, stage in zip(shown["totals"]["by_stage"], result.stages, strict=True):
        shown_stage.update(
            {"run": "this", "after_picks": False, **money.amounts(_stage_cost(money, stage))}
        )
    _later_json(totals, later, money)
    prices = money.to_json()
    return {**shown, "currency": prices["currency"], "pricing_version": prices["version"],
            "prices": prices, "prices_note": None}  # fmt: skip


def _later_json(totals: dict[str, object], later: NextRun | None, money: PlanMoney | None) -> None:
    """Add the next run's stages to ``totals["by_stage"]`` and its totals as ``next_run``."""
    if later is None:
        totals["next_run"] = None
        return
    stages = totals["by_stage"]
    assert isinstance(stages, list)

    def amounts(cost: ShotCost | None) -> dict[str, float | int | None]:
        return dict.fromkeys(_MONEY_FIELDS) if money is None else money.amounts(cost)

    for later_stage in later.stages:
        stage = later_stage.stage
        stages.append({
            "stage": stage.name, "deliverable": stage.deliverable, "run": "next",
            "after_picks": later_stage.after_picks, "generations": stage.generations,
            "billed_seconds": stage.billed_seconds, **amounts(later.cost(stage)),
        })  # fmt: skip
    totals["next_run"] = {
        "generations": later.generations,
        "billed_seconds": later.billed_seconds,
        **amounts(later.cost()),
        "awaiting_pick": list(later.awaiting_pick),
    }


#: The money fields of a shot and of the totals in ``plan --json``.
_MONEY_FIELDS = ("precharge", "expected_cost", "precharge_quota", "expected_quota")


def print_plan(
    result: Plan, console: Console, money: PlanMoney | None = None, later: NextRun | None = None
) -> None:
    """The human form of a plan on ``console``: each request (data URLs shortened), and for a
    shot to generate its expected cost and pre-charge (with ``money``, the relay's prices);
    then the totals, in seconds and, with ``money``, in the display currency; with drafts or
    regenerations, the same by stage, with ``later`` (what the next run renders: the finals
    after the picks) priced apart, and a sentence saying this run's and the next run's."""
    from rich.text import Text

    from rdpipe.plan import Action
    from rdpipe.prepare.model_ids import shown_model

    # Ids, reasons and model ids are data, never markup: each goes in as a Text.
    for job in result.jobs:
        # The reason in full, folded at the width: a rule's title would cut it at one line.
        title = job.shot.label if job.shot.rendition else job.shot.id  # kite:draft#2
        console.rule(Text(title, style="bold"), align="left")
        console.print(Text(f"{job.action.value}: {job.reason}"))
        if money is not None and job.action is Action.GENERATE:
            console.print(Text(_cost_line(money, job)))
        shown = job.shot.request.map_text(_shorten_data_url).to_json()
        body = json.dumps(shown, indent=2, ensure_ascii=False)
        console.print(body)
    # The model id folds (never cut: ids share long prefixes); the figures stay whole.
    unit = "" if money is None else money.unit_title  # ", in tokens": cells bare, 80 columns
    table = _figures_table(f"Plan for {result.pipeline}{unit}", "model", priced=bool(money))
    by_model = {} if money is None else money.by_model(result)
    for model, totals in sorted(result.by_model.items()):
        model_cell = Text(shown_model(model))
        row: list[Text | str] = [model_cell, str(totals.generations), str(totals.billed_seconds)]
        if money is not None:
            row += _cost_cells(money, by_model.get(model))
        table.add_row(*row)
    total = ["total", str(result.generations), str(result.billed_seconds)]
    if money is not None:
        total += _cost_cells(money, money.costs.total)
        if money.costs.unpriced:
            total[-2] += "*"
            unpriced = ", ".join(map(shown_model, money.costs.unpriced))
            table.caption = Text(f"* without {unpriced} (not priced)")
    table.add_row(*total, style="bold")
    console.print(table)
    if result.staged or later is not None:
        console.print(_stage_table(result, money, later))
    if later is not None:
        console.print(Text(_next_run_sentence(result, money, later)))
    if money is not None:
        version = money.prices.book.version
        console.print(Text(
            f"Prices: {money.prices.host}, version {version}. The pre-charge is held from the "
            "balance while a task runs (an upper bound); the expected cost is what it should "
            "settle at. Failed tasks are refunded."
        ))  # fmt: skip


def _figures_table(title: str, first: str, *, priced: bool) -> Table:
    """A plan table titled ``title``: the ``first`` column (folded, never cut), generations
    and billed seconds, and with ``priced`` the expected cost and pre-charge."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(title, style="table.title"), title_justify="left")
    table.add_column(first, overflow="fold")
    table.add_column("generations", justify="right", no_wrap=True)
    table.add_column("billed seconds", justify="right", no_wrap=True)
    if priced:
        table.add_column("expected cost", justify="right", no_wrap=True)
        table.add_column("pre-charge", justify="right", no_wrap=True)
    return table


def _stage_table(result: Plan, money: PlanMoney | None, later: NextRun | None) -> Table:
    """The plan by stage (issue 17): drafts, finals and the regenerations for each
    deliverable, each with its generations, billed seconds and, with ``money``, its costs;
    then the next run's stages (``later``) and the total of both runs."""
    from rich.text import Text

    unit = "" if money is None else money.unit_title
    table = _figures_table(
        f"Plan for {result.pipeline} by stage{unit}", "stage", priced=money is not None
    )
    stages = result.stages
    for index, stage in enumerate(stages):
        row: list[Text | str] = [Text(stage.title), str(stage.generations)]
        row.append(str(stage.billed_seconds))
        if money is not None:
            row += _cost_cells(money, _stage_cost(money, stage))
        table.add_row(*row, end_section=later is not None and index == len(stages) - 1)
    if later is None:
        return table
    later_stages = later.stages
    for index, later_stage in enumerate(later_stages):
        stage = later_stage.stage
        row = [Text(later_stage.title), str(stage.generations), str(stage.billed_seconds)]
        if money is not None:
            row += _cost_cells(money, later.cost(stage))
        table.add_row(*row, end_section=index == len(later_stages) - 1)
    total = [
        "total, this run and the next",
        str(result.generations + later.generations),
        str(result.billed_seconds + later.billed_seconds),
    ]
    if money is not None:
        total += _cost_cells(money, _both_runs(money, later))
    table.add_row(*total, style="bold")
    return table


def _both_runs(money: PlanMoney, later: NextRun) -> ShotCost | None:
    """This run's cost and the next run's; ``None`` when a model of either is not priced."""
    after = later.cost()
    if money.costs.unpriced or after is None:
        return None
    return money.costs.total + after


def _next_run_sentence(result: Plan, money: PlanMoney | None, later: NextRun) -> str:
    """``This run generates 5 (20 s, expected $1.84); once harbour and skipper are picked
    (rdpipe review, rdpipe pick), the next run generates 6 more (24 s, expected $40.11):
    $41.95 in all. The budget counts this run's generations only.``"""

    def said(generations: int, seconds: int, cost: ShotCost | None, more: str = "") -> str:
        if money is None:
            return f"{generations}{more} ({seconds} s)"
        shown = "not priced" if cost is None else f"expected {money.show(cost.expected)}"
        return f"{generations}{more} ({seconds} s, {shown})"

    this_cost = None if money is None or money.costs.unpriced else money.costs.total
    now = said(result.generations, result.billed_seconds, this_cost)
    after = said(later.generations, later.billed_seconds, later.cost(), " more")
    waits = ""
    if later.awaiting_pick:
        ids = list(later.awaiting_pick)
        named = ids[0] if len(ids) == 1 else f"{', '.join(ids[:-1])} and {ids[-1]}"
        verb = "is" if len(ids) == 1 else "are"
        waits = f"once {named} {verb} picked (rdpipe review, rdpipe pick), "
    both = _both_runs(money, later) if money is not None else None
    if money is None:
        in_all = f"{result.billed_seconds + later.billed_seconds} s"
    else:
        in_all = "not priced" if both is None else money.show(both.expected)
    return (
        f"This run generates {now}; {waits}the next run generates {after}: {in_all} in "
        "all. The budget counts this run's generations only."
    )


def _stage_cost(money: PlanMoney, stage: Stage) -> ShotCost | None:
    """What the stage's jobs to generate cost; ``None`` when one of them is not priced."""
    from rdpipe.plan import Action
    from rdpipe.prices import ShotCost

    total: ShotCost | None = ShotCost(0, 0)
    for job in stage.jobs:
        if job.action is not Action.GENERATE:
            continue
        cost = money.billed(job)
        total = None if cost is None or total is None else total + cost
    return total


def _cost_line(money: PlanMoney, job: Job) -> str:
    """``cost: expected $2.16, pre-charge $2.70`` (or that the model is not priced)."""
    cost = money.billed(job)
    if cost is None:
        from rdpipe.prepare.model_ids import shown_model

        model = shown_model(job.shot.model)
        return f"cost: not priced (the relay's price list has no price rdpipe reads for {model})"
    return f"cost: expected {money.show(cost.expected)}, pre-charge {money.show(cost.precharge)}"


def _cost_cells(money: PlanMoney, cost: ShotCost | None) -> list[str]:
    if cost is None:
        return ["not priced", "not priced"]
    return [money.cell(cost.expected), money.cell(cost.precharge)]


def print_media(views: Sequence[MediaView], console: Console) -> None:
    """The pipeline's local files and how each goes: inline, to upload (with its size),
    already hosted, or a portrait to register, registered or refused."""
    if not views:
        return
    from rich.filesize import decimal
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text("Local media", style="table.title"), title_justify="left")
    for column in ("reference", "file", "kind", "size", "sent as"):
        table.add_column(column, justify="right" if column == "size" else "left", overflow="fold")
    for view in views:
        how = {
            "refused": f"refused: {view.detail}",
            "no host": f"cannot be sent: RelayDance answered {view.detail}",
            "to publish": "to upload to the shared store",
        }.get(view.how, view.how)
        table.add_row(
            Text(view.name or "(frame)"), Text(view.file), view.kind,
            decimal(view.size), Text(how),
        )  # fmt: skip
    console.print(table)


def _shorten_data_url(text: str) -> str:
    """``data:image/png;base64,... (70012 characters)`` for a long data URL; other text as is."""
    if text.startswith("data:") and len(text) > 80:
        head = text[: text.index(",") + 1] if "," in text else text[:40]
        return f"{head}... ({len(text)} characters)"
    return text


@app.command()
def schema(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Write to this file instead of stdout."
        ),
    ] = None,
    fragment: Annotated[
        bool,
        typer.Option(
            "--fragment",
            help="The schema of fragments, files pipelines include (no key required).",
        ),
    ] = False,
) -> None:
    """Print the JSON Schema of pipeline files (for editors and CI).

    Example: rdpipe schema -o pipeline.schema.json; rdpipe schema --fragment -o
    fragment.schema.json (for a brand kit that pipelines include)."""
    context = CommandContext.start()

    def action() -> None:
        from rdpipe.schema import fragment_schema_text, schema_text

        text = fragment_schema_text() if fragment else schema_text()
        if output is None:
            typer.echo(text, nl=False)
        else:
            _write_output(output, text)

    run_command(action, context)


def _write_output(output: Path, text: str) -> None:
    """Write ``text`` to the user's ``-o FILE``; a missing folder is said as a file problem.

    Raises :class:`~rdpipe.cli.file_problems.PathNotWritable` (exit 2) when the folder is
    missing; other ``OSError`` (permission, read-only, a folder in the way) pass on to
    :func:`~rdpipe.cli.app.run_command`, which says them the same way.
    """
    import shlex

    from rdpipe.cli.file_problems import PathNotWritable
    from rdpipe.files import writing_to

    try:
        with writing_to(output):  # a full disk names no file
            output.write_text(text, encoding="utf-8")
    except FileNotFoundError as error:
        folder = output.parent
        cause = f"the folder {folder} does not exist"
        action = f"Create it (mkdir -p {shlex.quote(str(folder))}) or give another path"
        raise PathNotWritable(output, cause, action, sent=False) from error

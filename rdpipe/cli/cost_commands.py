"""``rdpipe cost``: what a pipeline cost, estimate against settled charge (issue 15)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import typer

from rdpipe.cli.app import app, run_command
from rdpipe.cli.context import CommandContext
from rdpipe.cli.pipeline_commands import FileArgument, JsonOption, OfflineOption
from rdpipe.hints import Invocation

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from rdpipe.load.loader import LoadedPipeline
    from rdpipe.session.costs_view import CostRow, CostView, Labels, RunCosts, Totals


@app.command()
def cost(file: FileArgument, offline: OfflineOption = False, as_json: JsonOption = False) -> None:
    """Show what the pipeline cost: each task of the last run (pre-charge, expected and
    settled charge; failed tasks refunded) and each take the lock file holds, with totals.
    Reads the pipeline file, the run state and the lock file only; sends nothing. --json
    prints the document the README describes ("The bill after")."""
    context = CommandContext.start()

    def action() -> None:
        from rdpipe.load.loader import load_pipeline
        from rdpipe.session.costs_view import cost_document, read_costs
        from rdpipe.session.workspace import Workspace

        # a pipeline file, as status checks it (exit 2 for a bad one)
        loaded = load_pipeline(file)
        view = read_costs(file, offline=offline, labels=_labels(loaded))
        if as_json:
            from rdpipe.cli.machine_output import Kind, document, dumps, relative_path

            shown = cost_document(view)
            # Offline previews keep no lock file (it holds only paid takes): null, not a path
            # that does not exist.
            kept = not offline or view.lock_file.exists()
            shown["lock_file"] = (
                relative_path(shown["lock_file"], file.absolute().parent) if kept else None
            )
            typer.echo(dumps(document(Kind.COST, shown)))
            return
        preview = not offline and Workspace.for_pipeline(loaded, offline=True).manifest.exists()
        shown_preview = invocation.command("cost", options=("--offline",)) if preview else None
        _print_costs(context.out, view, offline=offline, preview=shown_preview)

    invocation = Invocation.start(file, offline=offline)
    run_command(action, context, as_json=as_json, pipeline=file, invocation=invocation)


def _labels(loaded: LoadedPipeline) -> Labels:
    """Each take's label by request key and take, from the pipeline as it is now; none when
    it no longer passes its checks (the rows keep their shot ids)."""
    from rdpipe.errors import PipelineInvalid
    from rdpipe.prepare.pipeline import check_loaded
    from rdpipe.session.costs_view import rendition_labels

    try:
        prepared = check_loaded(loaded)
    except PipelineInvalid:
        return {}
    return rendition_labels(prepared.shots)


def _print_costs(
    out: Console, view: CostView, *, offline: bool, preview: str | None = None
) -> None:
    """The last run's costs and the lock file's; ``preview``: the command that shows the
    offline preview's, said when no paid run has submitted anything."""
    from rich.text import Text

    if view.last_run is None and view.tasks_without_run:
        tasks = "task carries" if view.tasks_without_run == 1 else "tasks carry"
        out.print(Text(f"{view.pipeline}: the last run's {tasks} no cost (made before rdpipe "
                       "recorded costs, or restored rather than submitted here)."))  # fmt: skip
    elif view.last_run is None:
        said = f"{view.pipeline}: no run has submitted anything yet."
        if preview is not None:
            said += f" The offline preview has its own tasks: `{preview}` shows them (free)."
        out.print(Text(said))
    else:
        _print_run(out, view.last_run)
    out.print()
    lock = view.lock
    name = view.lock_file.name
    if not lock.rows and not lock.without_cost:
        if offline:
            out.print(Text("Offline previews keep no lock file: it holds only paid takes."))
        else:
            out.print(Text(f"The lock file ({name}) holds no takes yet."))
        return
    out.print(_table(f"Every take the lock file holds ({name})", lock.rows, run=False))
    if lock.without_cost:
        shown = ", ".join(
            row.label or f"{row.shot_id} take {row.take}" for row in lock.without_cost
        )
        out.print(Text(f"No cost recorded for {shown} (made before rdpipe recorded costs)."))


def _print_run(out: Console, run: RunCosts) -> None:
    from rich.text import Text

    from rdpipe.session.costs_view import REFUNDED, totals

    when = datetime.fromtimestamp(run.run.started_at).strftime("%Y-%m-%d %H:%M")
    if not run.rows:
        out.print(Text(f"The last run ({when}) has no task to show: the relay accepted none of "
                       "its submits."))  # fmt: skip
        return
    out.print(_table(f"Last run ({when})", run.rows, run=True))
    if not run.priced:
        out.print(Text("Prices could not be read in that run: amounts use new-api's default "
                       "unit (US dollars, 500,000 quota units each)."))  # fmt: skip
    refunded = [row for row in run.rows if row.charge == REFUNDED]
    if refunded:
        [total] = totals(run.rows)
        back = _money(total.currency, total.refunded)
        tasks = "task" if len(refunded) == 1 else "tasks"
        out.print(Text(f"Refunded: {len(refunded)} failed {tasks}, {back} of pre-charge "
                       "returned to the balance."))  # fmt: skip


def _table(title: str, rows: tuple[CostRow, ...], *, run: bool) -> Table:
    """Shot, take, (pre-charge,) expected, settled and what became of the charge; a total
    row per currency. Fits 80 columns: figures never wrap, and when every row is in tokens
    the title says so once and the figures are bare (``16,402,500``, not ``… tokens``)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from rdpipe.session.costs_view import totals

    bare = bool(rows) and all(row.bill.currency == "TOKENS" for row in rows)
    shown = f"{title}, in tokens" if bare else title
    table = Table(title=Text(shown), title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("shot", overflow="fold", max_width=24)
    table.add_column("take", justify="right")
    if run:
        table.add_column("pre-charge", justify="right", no_wrap=True)
    table.add_column("expected", justify="right", no_wrap=True)
    table.add_column("settled", justify="right", no_wrap=True)
    table.add_column("", overflow="fold")
    for index, row in enumerate(rows):
        bill = row.bill
        figures = [_money(bill.currency, bill.expected, bare=bare),
                   _money(bill.currency, bill.settled, bare=bare)]  # fmt: skip
        if run:
            figures.insert(0, _money(bill.currency, bill.precharge, bare=bare))
        last = index == len(rows) - 1
        table.add_row(Text(row.name), str(row.take), *figures, row.charge, end_section=last)
    sums = totals(rows)
    for total in sums:
        table.add_row(*_total_cells(total, run=run, named=len(sums) > 1, bare=bare))
    return table


def _total_cells(total: Totals, *, run: bool, named: bool, bare: bool = False) -> list[str]:
    """The total row (``named``: one of several currencies): the pre-charges of every task,
    the expected and settled charges of the tasks that settled (so they compare)."""
    figures = [_money(total.currency, total.expected, bare=bare),
               _money(total.currency, total.settled, bare=bare)]  # fmt: skip
    if run:
        figures.insert(0, _money(total.currency, total.precharge, bare=bare))
    label = f"total {total.currency}" if named else "total"
    return [f"{label} ({total.takes})", "", *figures, ""]


def _money(code: str, amount: float | None, *, bare: bool = False) -> str:
    """An amount as the account shows it (``$2.19``); ``-`` when not known; with ``bare``,
    tokens without their unit (the table's title names it)."""
    from rdpipe.prices import Currency

    if amount is None:
        return "-"
    if bare and code == "TOKENS":
        return f"{round(amount):,}"
    return Currency(code or "USD").show_amount(amount)

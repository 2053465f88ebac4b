"""``rdpipe balance``: the account's remaining balance, in its display currency (issue 15)."""

from __future__ import annotations

from typing import Annotated

import typer

from rdpipe.cli.app import app, run_command
from rdpipe.cli.context import CommandContext
from rdpipe.cli.pipeline_commands import JsonOption


@app.command()
def balance(
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            envvar="RDPIPE_OFFLINE",
            help="Ask the built-in simulator instead of RelayDance.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Show the API key's remaining balance in the account's display currency, and which of
    the relay's balance endpoints answered (billing/subscription or credits).

    --json prints {"kind": "balance", "version", "remaining", "used", "currency", "unlimited",
    "source"} ("currency" null when the display currency cannot be read).
    Exit 1 when the relay cannot tell the balance (with --json, an error document
    on stdout too).
    """
    context = CommandContext.start()

    def action() -> None:
        from rdpipe.session.balance import account_balance

        found = account_balance(context.environ, offline=offline, on_retry=context.retry_teller())
        if found.currency_unread is not None and not context.quiet:
            context.err.print(
                f"note: the display currency could not be read ({found.currency_unread}); "
                "the amounts are shown as the relay reported them, in a unit rdpipe cannot name."
            )
        if as_json:
            from rdpipe.cli.machine_output import Kind, document, dumps

            typer.echo(dumps(document(Kind.BALANCE, found.as_json()), indent=None))
            return
        for line in found.lines():
            context.out.print(line)

    run_command(action, context, as_json=as_json)

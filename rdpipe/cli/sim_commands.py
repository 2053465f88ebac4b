"""``rdpipe sim serve``: run the RelayDance simulator in the foreground."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rdpipe.cli.app import app, run_command
from rdpipe.cli.context import CommandContext

if TYPE_CHECKING:
    from rich.console import Console

    from rdpipe.sim import SimConfig

sim_app = typer.Typer(
    name="sim",
    help="The RelayDance simulator: a local stand-in for the API, for tests and free previews.",
    no_args_is_help=True,
)
app.add_typer(sim_app)

_FAULTS = "Faults"
_MEDIA = "Media host"
_ACCOUNT = "Prices, balance and concurrency gate"


def _wait_for_ctrl_c() -> None:
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        return


def serve_simulator(config: SimConfig, console: Console, wait: Callable[[], None]) -> None:
    """Start the simulator, print where it is and how to use it, and serve until ``wait`` ends."""
    from rdpipe.sim import run_simulator

    with run_simulator(config) as sim:
        key = config.api_key or "sk-anything"
        console.print("RelayDance simulator listening")
        console.print(f"  API      {sim.base_url}")
        console.print(f"  storage  {sim.storage_url}")
        console.print("Point rdpipe at it:")
        console.print(f"  export RELAYDANCE_BASE_URL={sim.base_url}")
        console.print(f"  export RELAYDANCE_API_KEY={key}")
        if config.api_key is None:
            console.print("  (any API key is accepted)")
        console.print("Press Ctrl-C to stop.")
        wait()
    console.print("simulator stopped")


def _markers(values: Iterable[str]) -> dict[str, str]:
    """``--fail-marker TEXT=CLASS`` values as Faults.failure_markers; raises ``ValueError``."""
    markers: dict[str, str] = {}
    for value in values:
        text, sign, failure = value.rpartition("=")
        if not sign or not text or not failure:
            raise ValueError(f"--fail-marker wants TEXT=CLASS, not {value!r}")
        markers[text] = failure
    return markers


@sim_app.command("serve")
def serve(
    host: Annotated[str, typer.Option(metavar="HOST", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option(
            metavar="PORT", min=0, max=65535, help="API port, 0 to 65535 (0: any free port)."
        ),
    ] = 8765,
    storage_port: Annotated[
        int,
        typer.Option(
            metavar="PORT",
            min=0,
            max=65535,
            help="Storage (clip download) port, 0 to 65535 (0: any free port).",
        ),
    ] = 0,
    api_key: Annotated[
        str, typer.Option(metavar="KEY", help="Bearer key the API accepts.")
    ] = "sk-sim",
    any_key: Annotated[bool, typer.Option(help="Accept any bearer key.")] = False,
    realistic: Annotated[
        bool, typer.Option(help="Real-world pace: start after ~6 s, finish after ~3 min.")
    ] = False,
    seed: Annotated[
        int, typer.Option(metavar="N", help="Seed for fault decisions (task ids are never reused).")
    ] = 0,
    work_dir: Annotated[
        Path | None,
        typer.Option(metavar="FOLDER", help="Keep rendered clips here (default: a temp dir)."),
    ] = None,
    error_rate: Annotated[
        float,
        typer.Option(
            metavar="SHARE", help="Share of requests answered 5xx.", rich_help_panel=_FAULTS
        ),
    ] = 0.0,
    rate_limit_burst: Annotated[
        int,
        typer.Option(metavar="N", help="Answer the first N requests 429.", rich_help_panel=_FAULTS),
    ] = 0,
    rate_limit_rate: Annotated[
        float,
        typer.Option(
            metavar="SHARE", help="Share of requests answered 429.", rich_help_panel=_FAULTS
        ),
    ] = 0.0,
    retry_after: Annotated[
        int | None,
        typer.Option(
            metavar="SECONDS",
            help="Retry-After seconds on 429s (default: none).",
            rich_help_panel=_FAULTS,
        ),
    ] = None,
    drop_rate: Annotated[
        float,
        typer.Option(
            metavar="SHARE", help="Share of connections dropped mid-body.", rich_help_panel=_FAULTS
        ),
    ] = 0.0,
    truncate_rate: Annotated[
        float,
        typer.Option(
            metavar="SHARE", help="Share of downloads cut short.", rich_help_panel=_FAULTS
        ),
    ] = 0.0,
    delay: Annotated[
        float,
        typer.Option(
            metavar="SECONDS", help="Seconds to wait before answering.", rich_help_panel=_FAULTS
        ),
    ] = 0.0,
    expired_urls: Annotated[
        bool, typer.Option(help="Issue storage URLs already expired.", rich_help_panel=_FAULTS)
    ] = False,
    failure_rate: Annotated[
        float,
        typer.Option(
            metavar="SHARE", help="Share of tasks that fail moderation.", rich_help_panel=_FAULTS
        ),
    ] = 0.0,
    failure_code: Annotated[
        str,
        typer.Option(
            metavar="CLASS",
            help="How --failure-rate's tasks fail: a class (input_refused, output_audio, "
            "output_video, transient, expired) or an upstream code.",
            rich_help_panel=_FAULTS,
        ),
    ] = "output_video",
    fail_marker: Annotated[
        list[str] | None,
        typer.Option(
            metavar="TEXT=CLASS",
            help="TEXT=CLASS: a task whose prompt contains TEXT fails with CLASS (a class "
            "as for --failure-code, or an upstream code); repeatable. output_audio spares a "
            "request sent with generate_audio false.",
            rich_help_panel=_FAULTS,
        ),
    ] = None,
    failures_per_marker: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="Fail at most N tasks per --fail-marker; later ones succeed (default: all).",
            rich_help_panel=_FAULTS,
        ),
    ] = None,
    unknown_seconds: Annotated[
        float,
        typer.Option(
            metavar="SECONDS", help="Extra seconds tasks read 'unknown'.", rich_help_panel=_FAULTS
        ),
    ] = 0.0,
    callback_deliveries: Annotated[
        int,
        typer.Option(metavar="N", help="Webhook POSTs per finished task.", rich_help_panel=_FAULTS),
    ] = 1,
    fault_endpoint: Annotated[
        list[str] | None,
        typer.Option(
            metavar="ENDPOINT",
            help="Limit request faults to this endpoint (repeatable): submit, video, "
            "generation, content, models, storage, upload_url, assets; pricing, status and "
            "balance only when named.",
            rich_help_panel=_FAULTS,
        ),
    ] = None,
    refuse_uploads: Annotated[
        list[str] | None,
        typer.Option(
            metavar="EXTENSION",
            help="Refuse upload URLs for this extension, as a relay that hosts only images does "
            "(repeatable): mp4, wav...",
            rich_help_panel=_MEDIA,
        ),
    ] = None,
    asset_delay: Annotated[
        float,
        typer.Option(
            metavar="SECONDS",
            help="Seconds a portrait's audit takes before it reads Active (or Failed).",
            rich_help_panel=_MEDIA,
        ),
    ] = 0.3,
    fail_portrait: Annotated[
        list[str] | None,
        typer.Option(
            metavar="MD5",
            help="md5 (hex) of a hosted picture whose audit fails (repeatable).",
            rich_help_panel=_MEDIA,
        ),
    ] = None,
    balance: Annotated[
        float | None,
        typer.Option(
            metavar="USD",
            help="The account's balance in US dollars: each submit holds its pre-charge, a "
            "submit that does not fit is refused 403 (default: no limit).",
            rich_help_panel=_ACCOUNT,
        ),
    ] = None,
    balance_error: Annotated[
        bool,
        typer.Option(
            help="The balance routes answer HTTP 200 with an error object.",
            rich_help_panel=_ACCOUNT,
        ),
    ] = False,
    display_currency: Annotated[
        str,
        typer.Option(
            metavar="USD|CNY|TOKENS",
            help="The display currency /api/status names; the balance routes answer in it.",
            rich_help_panel=_ACCOUNT,
        ),
    ] = "USD",
    pricing_version: Annotated[
        str | None,
        typer.Option(
            metavar="VERSION",
            help="The version /api/pricing gives its price list (default: sim-2026-11).",
            rich_help_panel=_ACCOUNT,
        ),
    ] = None,
    concurrency_limit: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="Requests of one key at once to the submit and task routes; over it: 429 "
            "token_concurrency_limit_reached, no Retry-After (default: no gate).",
            rich_help_panel=_ACCOUNT,
        ),
    ] = None,
    gate_hold: Annotated[
        float,
        typer.Option(
            metavar="SECONDS",
            help="Seconds a gated request keeps its slot after it is handled.",
            rich_help_panel=_ACCOUNT,
        ),
    ] = 0.05,
    gate_unavailable_rate: Annotated[
        float,
        typer.Option(
            metavar="SHARE",
            help="Share of gated requests answered 503 token_concurrency_unavailable.",
            rich_help_panel=_ACCOUNT,
        ),
    ] = 0.0,
) -> None:
    """Serve the simulated RelayDance API (and its storage origin) until Ctrl-C."""
    context = CommandContext.start()

    def action() -> None:
        from rdpipe.errors import UsageError
        from rdpipe.sim import Faults, MediaRules, SimConfig, Timing

        try:
            faults = Faults(
                server_error_rate=error_rate, rate_limit_burst=rate_limit_burst,
                rate_limit_rate=rate_limit_rate, retry_after=retry_after, drop_rate=drop_rate,
                truncate_rate=truncate_rate, delay=delay, expired_urls=expired_urls,
                task_failure_rate=failure_rate, extra_unknown=unknown_seconds,
                callback_deliveries=callback_deliveries,
                endpoints=frozenset(fault_endpoint) if fault_endpoint else None,
                failure_code=failure_code, failure_markers=_markers(fail_marker or ()),
                failures_per_marker=failures_per_marker,
            )  # fmt: skip
        except ValueError as error:
            raise UsageError(f"bad fault option: {error}") from None
        try:
            media = MediaRules(
                refused_extensions=frozenset(
                    ext.lower().lstrip(".") for ext in refuse_uploads or ()
                ),
                asset_delay=asset_delay,
                failing_portraits=frozenset(md5.lower() for md5 in fail_portrait or ()),
            )
        except ValueError as error:
            raise UsageError(f"bad media host option: {error}") from None
        try:
            config = SimConfig(
                api_key=None if any_key else api_key,
                timing=Timing.realistic() if realistic else Timing.fast(),
                faults=faults, seed=seed, work_dir=work_dir, environ=dict(context.environ),
                host=host, port=port, storage_port=storage_port, media=media,
                balance_usd=balance, balance_error=balance_error,
                display_currency=display_currency.upper(), concurrency_limit=concurrency_limit,
                gate_hold=gate_hold, gate_unavailable_rate=gate_unavailable_rate,
            )  # fmt: skip
            if pricing_version is not None:
                config = replace(config, pricing_version=pricing_version)
        except ValueError as error:
            raise UsageError(f"bad account option: {error}") from None
        serve_simulator(config, context.out, _wait_for_ctrl_c)

    run_command(action, context)

"""``rdpipe models``: the video models the server offers, with the local catalog's limits.

The server's list is the truth; the catalog adds durations, resolutions, ratios and audio where
it knows the id. Models the catalog knows but the server does not list are shown apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rdpipe.cli.app import app, run_command
from rdpipe.cli.context import CommandContext

if TYPE_CHECKING:
    from rich.table import Table

    from rdpipe.catalog import Catalog, ModelInfo
    from rdpipe.client import ClientConfig, ModelEntry
    from rdpipe.client.retry import OnRetry

OFFLINE_KEY = "sk-offline"


@dataclass(frozen=True)
class ModelRow:
    """One line of the listing: a model id, whether the server offers it, what the catalog says."""

    id: str
    offered: bool
    owned_by: str | None
    info: ModelInfo | None

    def as_json(self) -> dict[str, Any]:
        info = self.info
        return {
            "id": self.id,
            "offered": self.offered,
            "owned_by": self.owned_by,
            "in_catalog": info is not None,
            "family": info.family if info else None,
            "min_seconds": info.min_seconds if info else None,
            "max_seconds": info.max_seconds if info else None,
            "resolutions": list(info.resolutions) if info else None,
            "ratios": list(info.ratios) if info else None,
            "audio": info.audio if info else None,
        }


def is_video_model(entry: ModelEntry, catalog: Catalog) -> bool:
    """Say whether a listed model makes videos (a relay also lists chat models)."""
    types = entry.endpoint_types
    return catalog.get(entry.id) is not None or not types or any("video" in t for t in types)


def merge_models(server: Sequence[ModelEntry], catalog: Catalog) -> list[ModelRow]:
    """Server models first (in id order), then catalog models the server does not offer."""
    offered = {entry.id: entry for entry in server if is_video_model(entry, catalog)}
    rows = [ModelRow(i, True, offered[i].owned_by, catalog.get(i)) for i in sorted(offered)]
    missing = [i for i in catalog.ids() if i not in offered]
    return rows + [ModelRow(i, False, None, catalog.get(i)) for i in missing]


def _audio_text(audio: bool | None) -> str:
    return {None: "optional", True: "always", False: "none"}[audio]


#: Below this many columns the table leaves out the family (``--json`` has it): the model id
#: names its family, and the limits are what the listing is for.
FAMILY_WIDTH = 100


def models_table(rows: Sequence[ModelRow], width: int = FAMILY_WIDTH) -> Table:
    """The listing as a rich table for a terminal of ``width`` columns (aspect ratios are in
    ``--json``); gaps are noted. Audio says whether ``generate_audio`` may be set
    (``optional``), or the model id fixes it (``always``, ``none``). Ids, figures and
    resolutions are never cut: the note wraps, the family is left out when narrow."""
    from rich.table import Table
    from rich.text import Text

    from rdpipe.client.refusals import printable  # a server's id: ESC, line breaks escaped

    family = width >= FAMILY_WIDTH
    table = Table(box=None, pad_edge=False)
    table.add_column("model", no_wrap=True)
    if family:
        table.add_column("family", no_wrap=True)
    table.add_column("seconds", no_wrap=True)
    table.add_column("resolutions")
    table.add_column("audio", no_wrap=True)
    table.add_column("note")
    for row in rows:
        info = row.info
        note = "" if row.offered and info else "not offered" if info else "not in local catalog"
        if info is None:
            cells = [printable(row.id), "", "", "", note]
        else:
            cells = [
                printable(row.id),
                f"{info.min_seconds}-{info.max_seconds}",
                ", ".join(info.resolutions),
                _audio_text(info.audio),
                note,
            ]
        if family:
            cells.insert(1, info.family if info else "")
        table.add_row(*map(Text, cells))  # a server's model id is data, never markup
    return table


async def fetch_models(config: ClientConfig, on_retry: OnRetry | None = None) -> list[ModelEntry]:
    """Ask the server for its models; ``on_retry`` is told of each retry (``-v``)."""
    from rdpipe.client import RelayDanceClient

    async with RelayDanceClient(config, on_retry=on_retry) as client:
        return await client.list_models()


def list_server_models(
    environ: Mapping[str, str], *, offline: bool, on_retry: OnRetry | None = None
) -> list[ModelEntry]:
    """Read the model list from RelayDance, or from a simulator started for the purpose."""
    import anyio

    from rdpipe.client import ApiKey, ClientConfig

    if not offline:
        return anyio.run(fetch_models, ClientConfig.from_environ(environ), on_retry)
    from rdpipe.sim import SimConfig, run_simulator

    async def fetch_offline() -> list[ModelEntry]:
        # Started inside the event loop, where Ctrl-C cancels: outside it, a KeyboardInterrupt
        # landing while anyio's portal thread starts leaves it running, and exit waits forever.
        with run_simulator(SimConfig(api_key=OFFLINE_KEY)) as sim:
            return await fetch_models(ClientConfig(ApiKey(OFFLINE_KEY), sim.base_url))

    return anyio.run(fetch_offline)


@app.command()
def models(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            envvar="RDPIPE_OFFLINE",
            help="Ask the built-in simulator instead of RelayDance.",
        ),
    ] = False,
) -> None:
    """List the video models the server offers, with the local catalog's limits."""
    context = CommandContext.start()

    def action() -> None:
        from rdpipe.catalog import load_catalog

        server = list_server_models(
            context.environ, offline=offline, on_retry=context.retry_teller()
        )
        rows = merge_models(server, load_catalog())
        if as_json:
            from rdpipe.cli.machine_output import Kind, document, dumps

            shown = document(Kind.MODELS, {"models": [row.as_json() for row in rows]})
            typer.echo(dumps(shown))
        else:
            context.out.print(models_table(rows, context.out.width))

    run_command(action, context, as_json=as_json)

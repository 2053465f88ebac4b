"""Model ids checked against the models the server serves, before anything is submitted.

``GET /v1/models`` (relaydance-api.md §5; free, it needs the key) is the truth about model
ids: an id it does not list is answered ``503 model_not_found`` at every submit. ``validate
--online`` and a ``run`` that generates (offline: the simulator's list) read the list once
and refuse such an id (:class:`~rdpipe.errors.PipelineInvalid`, exit 2, naming
file:line:field, the id and the closest id served), before any
``POST /v1/video/generations``. A list that cannot be read (no key, no answer) is a note,
once, and the command goes on: the catalog's warning stands.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rdpipe.errors import Diagnostic, PipelineInvalid, RdpipeError
from rdpipe.prepare.model_ids import ModelUse, did_you_mean, model_uses
from rdpipe.prepare.pipeline import PreparedPipeline
from rdpipe.render import RenderedShot

if TYPE_CHECKING:
    from rdpipe.client import RelayDanceClient
    from rdpipe.send_record import SendRecord
    from rdpipe.session.events import AsyncRunner
    from rdpipe.session.session import PipelineSession
    from rdpipe.session.settings import RunSettings
    from rdpipe.session.workspace import Workspace


@dataclass(frozen=True)
class ServedModels:
    """The model ids ``host`` lists (``GET /v1/models``), in its order."""

    host: str
    ids: tuple[str, ...]


@dataclass(frozen=True)
class ModelsUnavailable:
    """The model list could not be read from ``host``; ``reason`` says why (one clause)."""

    host: str
    reason: str

    @property
    def message(self) -> str:
        """The note printed once: that the ids were checked against the catalog only."""
        return (
            f"the model list could not be read from {self.host} ({self.reason}); model ids "
            "were checked against rdpipe's catalog only"
        )


ModelsReading = ServedModels | ModelsUnavailable


def read_served_models(
    settings: RunSettings,
    workspace: Workspace,
    environ: Mapping[str, str],
    *,
    sends: SendRecord,
    run_async: AsyncRunner,
) -> ModelsReading:
    """Read the server's model list through a client for a command's reads (two quick tries);
    never raises for the server: an error is a :class:`ModelsUnavailable`."""
    from rdpipe.session.connections import open_api

    host = environ.get("RELAYDANCE_BASE_URL", "").strip() or "RelayDance"

    async def read() -> ModelsReading:
        async with open_api(settings, workspace, environ, sends=sends, reads=True) as api:
            return await fetch_served_models(api)

    try:
        return run_async(read)
    except (RdpipeError, OSError) as error:  # a bad address
        return ModelsUnavailable(host, _reason(error))


async def fetch_served_models(api: RelayDanceClient, host: str | None = None) -> ModelsReading:
    """The ids ``api`` lists (``GET /v1/models``); an error is a :class:`ModelsUnavailable`.
    ``host`` names the server in messages (default: the API's host)."""
    named = api.api_host if host is None else host
    try:
        listed = await api.list_models()
    except RdpipeError as error:
        return ModelsUnavailable(named, _reason(error))
    return ServedModels(named, tuple(entry.id for entry in listed))


def served_problems(uses: Sequence[ModelUse], served: ServedModels) -> list[Diagnostic]:
    """One error per model id ``served`` does not list, at its first place, with the closest
    id it does list."""
    problems = []
    for use in uses:
        if use.model in served.ids:
            continue
        close = did_you_mean(use.model, served.ids)
        tail = f"; did you mean {close!r}?" if close else "; `rdpipe models` lists the ids served"
        message = f"model {use.model!r} is not served by {served.host}{tail}"
        problems.append(use.diagnostic(message))
    return problems


def without_refused(
    warnings: Sequence[Diagnostic], refused: Sequence[Diagnostic]
) -> list[Diagnostic]:
    """``warnings`` less the catalog warning of each id ``refused`` names (the refusal is at
    the same place and says more): one id, one message."""
    places = {(d.file, d.line, d.column, d.field) for d in refused}
    return [
        w
        for w in warnings
        if not ((w.file, w.line, w.column, w.field) in places and "rdpipe's catalog" in w.message)
    ]


def check_served(
    prepared: PreparedPipeline, served: ServedModels, shots: Sequence[RenderedShot] | None = None
) -> None:
    """Raise :class:`PipelineInvalid` (exit 2) when ``shots`` (all of ``prepared``'s by
    default) use a model id ``served`` does not list."""
    chosen = prepared.shots if shots is None else shots
    problems = served_problems(model_uses(prepared.loaded, chosen), served)
    if problems:
        raise PipelineInvalid(problems)


def _reason(error: RdpipeError | OSError) -> str:
    said = error.message if isinstance(error, RdpipeError) else str(error)
    return said.removesuffix("; nothing was sent.").rstrip(".") or type(error).__name__


def check_run_models(
    session: PipelineSession, reading: ModelsReading | None, *, note: Callable[[str], None]
) -> None:
    """Before a run's first submit: refuse (:class:`PipelineInvalid`, exit 2) a model id of a
    shot to generate that the server (offline: the simulator) does not serve. ``reading``: the
    list the run read with its prices (:func:`~rdpipe.session.pricing.read_prices`), ``None``
    when not read (nothing to generate); ``note`` is told once when the list could not be
    read. The read is a free GET that changes nothing on the server: the refusal still means
    nothing was submitted."""
    from rdpipe.plan import Action

    if reading is None:
        return
    if isinstance(reading, ModelsUnavailable):
        note(reading.message)
        return
    shots = [job.shot for job in session.plan.jobs if job.action is Action.GENERATE]
    check_served(session.prepared, reading, shots)

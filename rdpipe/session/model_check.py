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

from rdpipe.errors import Diagnostic, ExitCode, PipelineInvalid, RdpipeError
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


#: Seconds without the model list after which ``validate --online`` says it is waiting.
SLOW_READ = 3.0


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
    asked: bool = False,
    waiting: Callable[[str], None] | None = None,
) -> ModelsReading:
    """Read the server's model list through a client for a command's reads (two quick tries);
    an error of the server is a :class:`ModelsUnavailable`.

    ``asked``: the user asked for this check (``validate --online``), so what only the user
    can mend is an error (exit 2, as ``rdpipe models`` says it), not a note: no API key or a
    malformed one (:class:`~rdpipe.client.MissingApiKey`...), an unusable
    ``RELAYDANCE_BASE_URL`` (:class:`~rdpipe.client.InvalidBaseUrl`), a key the server
    refuses (:class:`~rdpipe.client.AuthenticationFailed`). ``waiting`` is told once, after
    :data:`SLOW_READ` seconds without the list, that rdpipe is still waiting (a slow server
    would otherwise leave the terminal silent for up to two read timeouts)."""
    from rdpipe.client.config import ClientConfig
    from rdpipe.session.connections import open_api

    host = environ.get("RELAYDANCE_BASE_URL", "").strip() or "RelayDance"
    if asked:
        ClientConfig.from_environ(environ)  # raises for the key and the address, sends nothing

    async def read() -> ModelsReading:
        import anyio

        async with open_api(settings, workspace, environ, sends=sends, reads=True) as api:
            if waiting is None:
                return await fetch_served_models(api, asked=asked)
            told = waiting

            async def tell() -> None:
                await anyio.sleep(SLOW_READ)
                told(f"waiting for the model list from {api.api_host} (GET /v1/models)...")

            async with anyio.create_task_group() as group:
                group.start_soon(tell)
                reading = await fetch_served_models(api, asked=asked)
                group.cancel_scope.cancel()
            return reading

    try:
        return run_async(read)
    except (RdpipeError, OSError) as error:  # a bad address
        if asked and isinstance(error, RdpipeError) and _for_the_user(error):
            raise
        return ModelsUnavailable(host, _reason(error))


async def fetch_served_models(
    api: RelayDanceClient, host: str | None = None, *, asked: bool = False
) -> ModelsReading:
    """The ids ``api`` lists (``GET /v1/models``); an error is a :class:`ModelsUnavailable`
    (``asked``: but a refused key or a request that cannot be built is raised).
    ``host`` names the server in messages (default: the API's host)."""
    named = api.api_host if host is None else host
    try:
        listed = await api.list_models()
    except RdpipeError as error:
        if asked and _for_the_user(error):
            raise
        return ModelsUnavailable(named, _reason(error))
    return ServedModels(named, tuple(entry.id for entry in listed))


def _for_the_user(error: RdpipeError) -> bool:
    """Whether ``error`` is one only the user's settings can mend (key, address)."""
    from rdpipe.client.errors import AuthenticationFailed, RequestNotBuilt

    return isinstance(error, AuthenticationFailed | RequestNotBuilt) or (
        error.exit_code == ExitCode.INVALID_INPUT
    )


def pipeline_model_uses(prepared: PreparedPipeline) -> list[ModelUse]:
    """Every model id ``prepared`` will ever send, each once with its places: its shots'
    (drafts, finals, regenerations) and the finals of drafted shots awaiting a pick."""
    return model_uses(prepared.loaded, [*prepared.shots, *prepared.awaited_finals])


def online_warnings(
    prepared: PreparedPipeline, refused: Sequence[Diagnostic], served: Sequence[ModelsReading]
) -> list[Diagnostic]:
    """``prepared``'s warnings once the server's list (``served``: read, or empty) is known:
    less the catalog's warnings about each id ``refused`` names (the refusal says more: one
    mistake, one message) and about each id the server serves (the server's list wins over
    rdpipe's catalog)."""
    reading = served[0] if served else None
    if not isinstance(reading, ServedModels):
        return without_refused(prepared.warnings, refused)
    return settled_warnings(prepared.warnings, pipeline_model_uses(prepared), refused, reading)


def settled_warnings(
    warnings: Sequence[Diagnostic],
    uses: Sequence[ModelUse],
    refused: Sequence[Diagnostic],
    served: ServedModels,
) -> list[Diagnostic]:
    """``warnings`` of a pipeline or fragment whose model ids (``uses``) were checked against
    ``served``: less the catalog's warnings about ids ``refused`` names (one mistake, one
    message) and about ids ``served`` lists (the server's list wins over the catalog)."""
    listed = set(served.ids)
    places = [*refused, *(use.diagnostic("") for use in uses if use.model in listed)]
    # a draft's "cannot tell the family" warning about a refused id says the mistake twice
    unserved = [f"({use.model} is not in its catalog)" for use in uses if use.model not in listed]
    kept = without_refused(warnings, places)
    return [w for w in kept if not any(u in w.message for u in unserved)]


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
    chosen = [*prepared.shots, *prepared.awaited_finals] if shots is None else shots
    problems = served_problems(model_uses(prepared.loaded, chosen), served)
    if problems:
        raise PipelineInvalid(problems)


def _reason(error: RdpipeError | OSError) -> str:
    said = error.message if isinstance(error, RdpipeError) else str(error)
    return said.removesuffix("; nothing was sent.").rstrip(".") or "no reason given"


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
    check_served(session.prepared, reading, [*shots, *session.prepared.awaited_finals])

"""A run's local reference files: how each goes to RelayDance, and the host that sends them.

:func:`media_views` says, for ``rdpipe plan``, how each local file of a pipeline goes
(inline, to upload, already hosted, a portrait to register or registered), from the run state
alone. :func:`hosting_problems` refuses, before anything is spent, a file that has nowhere to
go: its extension was refused by the relay before and no shared store can publish it.
:func:`media_hosting` builds the run's :class:`~rdpipe.scheduler.hosting.MediaHosting`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from rdpipe.errors import Diagnostic
from rdpipe.state import redact_url

if TYPE_CHECKING:
    from rdpipe.plan import Job
    from rdpipe.prepare.pipeline import PreparedPipeline
    from rdpipe.remote import RemoteSetting, SharedClipStore
    from rdpipe.request import LocalFile
    from rdpipe.scheduler.hosting import MediaHostApi, MediaHosting
    from rdpipe.session.session import PipelineSession
    from rdpipe.session.settings import RunSettings
    from rdpipe.state import StateStore


How = Literal[
    "inline", "to upload", "hosted", "to register", "registered", "refused", "waiting",
    "not sent", "to publish", "no host",
]  # fmt: skip
#: The name an offline run's state records hosted files and portraits under: each offline run
#: starts its simulator on another port, keeping what it hosts in the same folder.
OFFLINE_HOST = "offline simulator"


@dataclass(frozen=True)
class MediaView:
    """One local file of a pipeline as the next run sends it.

    ``name``: the reference's name (``None`` for a first or last frame); ``size`` in bytes;
    ``how``: ``inline`` (inside each request), ``to upload``, ``hosted`` (already: nothing to
    upload), ``to register``/``registered``/``waiting``/``refused`` (a portrait), ``not sent``
    (no shot the next run submits uses it), ``to publish`` (through the shared store: the
    relay refused its extension), ``no host`` (refused, and no store can publish it).
    """

    name: str | None
    file: str
    kind: str
    size: int
    how: How
    detail: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "file": self.file, "kind": self.kind, "size": self.size,
                "how": self.how, "detail": self.detail}  # fmt: skip


def reference_names(prepared: PreparedPipeline) -> dict[str, str]:
    """The reference name each local file is known by (md5 → name), for portraits and notes:
    the first reference sending it as a portrait (``asset: true``), else the first one."""
    names: dict[str, str] = {}
    portraits: dict[str, str] = {}
    for located in prepared.local_files:
        name = _reference_name(located.where)
        if name is not None:
            chosen = portraits if located.file.send_as == "asset" else names
            chosen.setdefault(located.file.md5, name)
    return names | portraits


def _reference_name(where: tuple[str | int, ...]) -> str | None:
    """The reference a place defines (``("references", name, kind)``); ``None`` for a frame."""
    return str(where[1]) if where[:1] == ("references",) and len(where) > 1 else None


def media_views(
    prepared: PreparedPipeline,
    state: StateStore | None,
    media_host: str,
    sending: set[LocalFile] | None = None,
    remote: RemoteSetting | None = None,
    sending_references: set[str] | None = None,
) -> list[MediaView]:
    """How each local file of ``prepared`` goes in the next run; ``state`` may be ``None``
    (nothing recorded yet); ``sending``: the files of the shots the run submits, and
    ``sending_references`` the names of their references (default: all); ``remote``: the
    shared store, where the relay refused an extension. Each reference and each frame path
    under its own name, once."""
    refused = {} if state is None else state.refused_extensions(media_host, since=_since())
    views = [
        _inline_view(reference, name, prepared)
        if sending_references is None or name in sending_references
        else replace(_inline_view(reference, name, prepared), how="not sent")
        for name, reference in _inline(prepared)
    ]
    for located in prepared.local_files:
        file = located.file
        name = _reference_name(located.where)
        if sending is not None and file not in sending:
            views.append(MediaView(name, file.shown, file.kind, file.size, "not sent"))
            continue
        refusal = refused.get(file.extension)
        # A portrait goes through the store too when the relay refuses it (its URL registered).
        if refusal is not None and (file.send_as == "hosted" or not store_publishes(remote)):
            views.append(_refused_view(file, name, state, refusal, remote))
            continue
        views.append(_hosted_view(file, name, state, media_host))
    return list(dict.fromkeys(views))  # a frame path of several shots: one row


def _refused_view(
    file: LocalFile,
    name: str | None,
    state: StateStore | None,
    refusal: str,
    remote: RemoteSetting | None,
) -> MediaView:
    """A file whose extension the relay refused: through the store, or nowhere."""
    if remote is None or not store_publishes(remote):
        return MediaView(name, file.shown, file.kind, file.size, "no host", refusal)
    hosted = None if state is None else state.hosted(file.md5, file.extension, remote.url)
    if hosted is not None:
        return MediaView(name, file.shown, file.kind, file.size, "hosted", "the shared store")
    return MediaView(name, file.shown, file.kind, file.size, "to publish", remote.url)


def _since() -> float:
    """Refusals older than this are asked again (:data:`scheduler.hosting.REFUSAL_MEMORY`)."""
    import time

    from rdpipe.scheduler.hosting import REFUSAL_MEMORY

    return time.time() - REFUSAL_MEMORY


def _inline(prepared: PreparedPipeline) -> Iterable[tuple[str, Any]]:
    hosted = {str(located.where[1]) for located in prepared.local_files
              if located.where[:1] == ("references",)}  # fmt: skip
    from rdpipe.prepare.media import source_form

    for name, reference in prepared.loaded.pipeline.references.items():
        source = reference.source
        if reference.kind == "image" and name not in hosted and source_form(source) == "local":
            yield name, reference


def _inline_view(reference: Any, name: str, prepared: PreparedPipeline) -> MediaView:
    path = (prepared.loaded.base_dir(("references", name, "image")) / reference.source).resolve()
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    return MediaView(name, reference.source, "image", size, "inline")


def _hosted_view(
    file: LocalFile, name: str | None, state: StateStore | None, media_host: str
) -> MediaView:
    if file.send_as == "asset":
        record = None if state is None else state.portrait(file.md5, media_host)
        if record is None:
            return MediaView(name, file.shown, file.kind, file.size, "to register")
        status = record.status.lower()
        if status == "active":
            return MediaView(name, file.shown, file.kind, file.size, "registered", record.uri)
        if status == "failed":
            return MediaView(name, file.shown, file.kind, file.size, "refused", record.reason)
        return MediaView(name, file.shown, file.kind, file.size, "waiting", record.status)
    hosted = None if state is None else state.hosted(file.md5, file.extension, media_host)
    if hosted is None:
        return MediaView(name, file.shown, file.kind, file.size, "to upload")
    return MediaView(name, file.shown, file.kind, file.size, "hosted", redact_url(hosted.url))


def store_publishes(remote: RemoteSetting | None) -> bool:
    """Whether the shared store of ``remote`` can hand out presigned URLs (S3, GCS, Azure),
    as far as its kind tells (:func:`rdpipe.remote.publish_refusal`)."""
    from rdpipe.remote import publish_refusal

    return remote is not None and publish_refusal(remote.url) is None


def hosting_problems(
    prepared: PreparedPipeline,
    refused: Mapping[str, str],
    *,
    remote: RemoteSetting | None,
    only: set[LocalFile] | None = None,
) -> list[Diagnostic]:
    """A file whose extension the relay refused before (``refused``: extension → the relay's
    message), with no shared store able to publish it: located at its line, with the ways
    out. Empty when every file has somewhere to go, as far as this machine knows. ``only``:
    the files to check (default: all)."""
    if store_publishes(remote):
        return []
    from rdpipe.scheduler.hosting import no_host_text

    problems: list[Diagnostic] = []
    for located in prepared.local_files:
        if only is not None and located.file not in only:
            continue
        refusal = refused.get(located.file.extension)
        if refusal is None:
            continue
        message = no_host_text(
            located.file, refusal, store_url=None if remote is None else remote.url
        )
        problems.append(prepared.loaded.diagnostic(located.where, message))
    return problems


def media_hosting(
    api: MediaHostApi,
    prepared: PreparedPipeline,
    state: StateStore,
    jobs: Sequence[Job],
    *,
    store: SharedClipStore | None,
    transfers: int,
    poll: float | None = None,
    offline: bool = False,
) -> MediaHosting | None:
    """The run's media host, or ``None`` when no job has a local file to send. ``poll``:
    seconds between reads of a portrait's registration (default: the relay's 3 s)."""
    if not any(job.shot.request.local_files for job in jobs):
        return None
    from rdpipe.scheduler.blocking import in_worker_thread, one_worker_thread
    from rdpipe.scheduler.hosting import HostingOptions, MediaHosting

    return MediaHosting(
        api,
        state,
        store=store,
        state_call=one_worker_thread(),
        file_call=in_worker_thread,
        names=reference_names(prepared),
        transfers=transfers,
        options=None if poll is None else HostingOptions.polling_every(poll),
        host=OFFLINE_HOST if offline else None,
    )


def _sending(jobs: Sequence[Job]) -> list[Job]:
    """The jobs that may submit (a generated or resumed shot)."""
    from rdpipe.plan import Action

    return [job for job in jobs if job.action in (Action.GENERATE, Action.RESUME)]


def files_to_send(jobs: Sequence[Job]) -> set[LocalFile]:
    """The local files of the jobs that may submit (a generated or resumed shot)."""
    return {file for job in _sending(jobs) for file in job.shot.request.local_files}


def check_hosting(session: PipelineSession, environ: Mapping[str, str]) -> None:
    """Refuse a run, before anything is sent, when a local file it sends has nowhere to go.

    Raises :class:`~rdpipe.errors.PipelineInvalid` (exit 2) naming each file's line. Offline
    runs are not checked: the simulator hosts every kind.
    """
    if session.settings.offline:
        return
    sending = files_to_send(session.plan.jobs)
    if not sending:
        return
    refused = session.store.refused_extensions(media_host_of(environ), since=_since())
    problems = hosting_problems(
        session.prepared, refused, remote=session.settings.remote, only=sending
    )
    if problems:
        from rdpipe.errors import PipelineInvalid

        raise PipelineInvalid(problems)


@contextmanager
def _recorded_state(prepared: PreparedPipeline, *, offline: bool) -> Iterator[StateStore | None]:
    """The pipeline's state opened read-only (never written), or ``None`` before any run."""
    import time

    from rdpipe.session.workspace import Workspace
    from rdpipe.state import StateStore

    paths = Workspace.for_pipeline(prepared.loaded, offline=offline).state
    if not paths.database.exists():
        yield None
        return
    with StateStore.open(
        paths.database, pipeline=paths.pipeline, clock=time.time, read_only=True
    ) as state:
        yield state


def read_media_views(
    prepared: PreparedPipeline,
    settings: RunSettings,
    environ: Mapping[str, str],
    jobs: Sequence[Job],
) -> list[MediaView]:
    """:func:`media_views` of the next run's ``jobs``, from a read-only look at the
    pipeline's state, if it has one."""
    names = {name for job in _sending(jobs) for name in job.shot.references}
    if not prepared.local_files:  # inline images at most: no host to ask about (no httpx)
        return media_views(prepared, None, "", sending_references=names)
    host = OFFLINE_HOST if settings.offline else media_host_of(environ)
    with _recorded_state(prepared, offline=settings.offline) as state:
        sending = files_to_send(jobs)
        return media_views(prepared, state, host, sending, settings.remote, names)


def media_host_of(environ: Mapping[str, str]) -> str:
    """``host[:port]`` of the media host ``environ`` names (``RELAYDANCE_MEDIA_URL``, else the
    one that goes with ``RELAYDANCE_BASE_URL``); no key needed. Raises the client's
    :class:`~rdpipe.client.InvalidBaseUrl` for a bad address."""
    from rdpipe.client.config import host_of, media_url_from

    return host_of(media_url_from(environ))


def read_hosting_problems(
    prepared: PreparedPipeline, remote: RemoteSetting | None, environ: Mapping[str, str]
) -> list[Diagnostic]:
    """:func:`hosting_problems` from a read-only look at the state (``validate``): the
    extensions the relay refused lately, as this folder's runs recorded them."""
    if not prepared.local_files:
        return []
    with _recorded_state(prepared, offline=False) as state:
        if state is None:
            return []
        refused = state.refused_extensions(media_host_of(environ), since=_since())
    return hosting_problems(prepared, refused, remote=remote)

"""Local reference files to the URLs a request carries: each file hosted once (issue 14 §1).

A shot's request names its local references as :class:`~rdpipe.request.LocalFile` entries;
before its submit the scheduler asks :class:`MediaHosting` for their URLs. Each distinct file
(md5 and extension) is hosted once per run, however many shots use it, and at most once ever:
the run state records md5 → URL, so a rerun or another pipeline of the same folder uploads
nothing. Where a file goes, in order:

1. a URL the state recorded, if the file is still there (a ``HEAD`` without the key; a file
   that is gone is uploaded again, never dropped);
2. the relay's upload URL for its md5 (``GET /api/upload-url``, relaydance-api.md §9): used as
   it is when the relay already has those bytes, else the bytes are ``PUT`` to the presigned
   ``upload_url`` (without the key);
3. where the relay refuses the extension (only image uploads are confirmed), the team's shared
   clip store, through a presigned GET URL valid for :attr:`HostingOptions.store_url_lifetime`.

A portrait (``asset: true``) is hosted so, then registered in the asset library
(:mod:`rdpipe.scheduler.portraits`).
"""

from __future__ import annotations

import base64
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import anyio

from rdpipe.client import (
    AuthenticationFailed,
    NotSent,
    QuotaExceeded,
    RelayDanceError,
    UploadRefused,
    UploadSource,
)
from rdpipe.errors import RdpipeError

if TYPE_CHECKING:
    from rdpipe.client import AssetState, UploadSlot
    from rdpipe.remote import PublishedMedia
    from rdpipe.request import GenerationRequest, LocalFile
    from rdpipe.scheduler.blocking import BlockingRunner
    from rdpipe.state import StateStore

#: Errors that concern every shot alike: the scheduler stops the run at the first one.
FATAL_ERRORS = (AuthenticationFailed, QuotaExceeded, NotSent)
#: Seconds a relay's refusal of an extension is believed: after a day it is asked again (a
#: relay may start to take video or audio; relaydance-api.md §9 calls them uncertain).
REFUSAL_MEMORY = 24 * 3600.0
#: Seconds a presigned URL of the shared store stays valid: a task fetches its references
#: within minutes of its submit; a day leaves room for a queue (relaydance-api.md §8).
STORE_URL_LIFETIME = 24 * 3600.0
#: A recorded store URL with less than this left is signed anew before it is sent.
STORE_URL_MARGIN = 6 * 3600.0


class MediaHostApi(Protocol):
    """The part of the RelayDance client that hosts files and registers portraits."""

    @property
    def media_host(self) -> str:
        """``host[:port]`` of the media host (upload URLs and the asset library)."""

    async def upload_slot(self, md5: str, ext: str) -> UploadSlot: ...

    async def upload(
        self,
        slot: UploadSlot,
        source: UploadSource,
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> None: ...

    async def hosted_file_exists(self, url: str) -> bool | None: ...

    async def create_asset(self, source_url: str, *, name: str = "") -> AssetState: ...

    async def asset_state(self, asset_id: str) -> AssetState: ...


class MediaPublisher(Protocol):
    """The shared clip store, as a host of last resort (presigned GET URLs)."""

    @property
    def url(self) -> str: ...

    @property
    def can_publish(self) -> bool: ...

    def publish_media(
        self, source: Path | bytes, md5: str, ext: str, *, expires_in: float
    ) -> PublishedMedia: ...


class HostingFailed(RdpipeError):
    """A reference could not be hosted; the shots using it fail with this message."""


@dataclass(frozen=True)
class HostingOptions:
    """How files are hosted and portraits waited for.

    ``portrait_poll``/``portrait_polls``: seconds between reads of a registration's state and
    how many reads at most (relaydance-api.md §10: a client seen polls every 3 s, 40 times).
    """

    portrait_poll: float = 3.0
    portrait_polls: int = 40
    store_url_lifetime: float = STORE_URL_LIFETIME
    store_url_margin: float = STORE_URL_MARGIN

    @classmethod
    def polling_every(cls, seconds: float) -> HostingOptions:
        """Portraits' states read every ``seconds``, for as long in all as the default's
        (3 s, 40 times: 120 s)."""
        default = cls()
        total = default.portrait_poll * default.portrait_polls
        return cls(portrait_poll=seconds, portrait_polls=max(1, math.ceil(total / seconds)))


#: Tells the shot waiting on a file what is happening to it (one short sentence).
Note = Callable[[str], None]


@dataclass
class _Once:
    """One file's hosting, shared by every shot that uses it."""

    done: anyio.Event = field(default_factory=anyio.Event)
    url: str | None = None
    error: HostingFailed | None = None
    file: LocalFile | None = None  # the file whose work it was


class MediaHosting:
    """Hosts the local files of a run's requests; one per run.

    ``transfers``: uploads at once. ``journal``'s calls go through ``state_call`` (the
    scheduler's journal thread), the shared store's through ``file_call``. ``names`` maps a
    file's md5 to the reference name it is known by (for portraits and messages). ``host``:
    the name the state records what is hosted under (default: the media host's
    ``host[:port]``; offline runs give one name to simulators on changing ports).
    """

    def __init__(
        self,
        api: MediaHostApi,
        journal: StateStore,
        *,
        store: MediaPublisher | None = None,
        state_call: BlockingRunner,
        file_call: BlockingRunner,
        options: HostingOptions | None = None,
        names: Mapping[str, str] | None = None,
        transfers: int = 4,
        host: str | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        from rdpipe.scheduler.portraits import PortraitRegistry

        self._api = api
        self.host = host or api.media_host
        self._journal = journal
        self._store = store
        self._state_call = state_call
        self._file_call = file_call
        self.options = options or HostingOptions()
        self._names = dict(names or {})
        self._clock = clock
        self._transfers = anyio.CapacityLimiter(transfers)
        self._hosted: dict[tuple[str, str], _Once] = {}
        self._portraits: dict[tuple[str, str], _Once] = {}
        self._registry = PortraitRegistry(
            api,
            journal,
            state_call=state_call,
            host_file=self.hosted_url,
            options=self.options,
            name_of=self.name_of,
            host=self.host,
            sleep=sleep,
            clock=clock,
        )

    def name_of(self, file: LocalFile) -> str:
        """The reference name a file is known by, else its path as written."""
        return self._names.get(file.md5, file.shown)

    async def urls(self, request: GenerationRequest, note: Note) -> dict[LocalFile, str]:
        """The URL each local file of ``request`` goes by (hosted, or ``asset://``), for
        :meth:`~rdpipe.request.GenerationRequest.with_hosted`.

        Raises :class:`HostingFailed` (the shot fails; others go on).
        """
        return {file: await self.url_for(file, note) for file in request.local_files}

    async def url_for(self, file: LocalFile, note: Note) -> str:
        """The URL ``file`` is sent by: once per file, shared by every shot using it."""
        if file.send_as == "asset":
            return await self._once(self._portraits, file, note, self._registry.uri_for)
        return await self.hosted_url(file, note)

    async def hosted_url(self, file: LocalFile, note: Note) -> str:
        """Where ``file``'s bytes can be fetched from (the relay, else the shared store)."""
        return await self._once(self._hosted, file, note, self._host)

    async def _once(
        self,
        table: dict[tuple[str, str], _Once],
        file: LocalFile,
        note: Note,
        work: Callable[[LocalFile, Note], Awaitable[str]],
    ) -> str:
        key = (file.md5, file.extension)
        once = table.get(key)
        if once is None:
            once = table[key] = _Once()
            try:
                once.url = await work(file, note)
            except HostingFailed as error:
                once.error = error
            except RelayDanceError as error:
                if isinstance(error, FATAL_ERRORS) and not isinstance(error, AuthenticationFailed):
                    raise  # the run stops: every shot would meet it (not the media host's key
                    # refusal: it concerns only the shots with local files)
                done = "registered" if table is self._portraits else "uploaded"
                said = error.message  # it may name the file itself ("… changed while …")
                if not said.startswith(file.shown):
                    said = f"{file.shown} could not be {done}: {said}"
                once.error = HostingFailed(said)
            finally:
                once.file = file
                once.done.set()
        else:
            await once.done.wait()
        if once.error is not None:
            first = once.file
            if first is None or first.shown == file.shown:
                raise once.error
            raise HostingFailed(
                f"{file.shown} has the same bytes as {first.shown}: {once.error.message}"
            )
        if once.url is None:  # the first shot's work was cancelled: one waiting shot does it,
            if table.get(key) is once:  # the others wait for that one (not each its own)
                del table[key]
            return await self._once(table, file, note, work)
        return once.url

    # Hosting ----------------------------------------------------------------------------

    async def _host(self, file: LocalFile, note: Note) -> str:
        host = self.host
        since = self._clock() - REFUSAL_MEMORY
        refused = await self._state_call(
            lambda: self._journal.refused_extensions(host, since=since)
        )
        if file.extension not in refused:
            url = await self._recorded(file, host)
            if url is not None:
                return url
            try:
                return await self._upload(file, host, note)
            except UploadRefused as error:
                message = error.message
                await self._state_call(
                    lambda: self._journal.record_refused_extension(host, file.extension, message)
                )
                refused = {**refused, file.extension: message}
        return await self._publish(file, note, refused[file.extension])

    async def _recorded(self, file: LocalFile, host: str) -> str | None:
        """A URL recorded for ``file`` on ``host`` that still serves it, else ``None``."""
        record = await self._state_call(
            lambda: self._journal.hosted(file.md5, file.extension, host)
        )
        if record is None:
            return None
        there = await self._api.hosted_file_exists(record.url)
        if there:
            return record.url
        if there is False:  # gone: uploaded again below, never silently dropped
            await self._state_call(
                lambda: self._journal.forget_hosted(file.md5, file.extension, host)
            )
        return None

    async def _upload(self, file: LocalFile, host: str, note: Note) -> str:
        slot = await self._api.upload_slot(file.md5, file.extension)
        if not slot.exists:
            from rdpipe.scheduler.upload_progress import UploadProgress

            note(f"uploading {file.shown} ({_size_text(file.size)})")
            progress = UploadProgress(file.shown, file.size, note)
            async with self._transfers:
                await self._api.upload(slot, upload_source(file), on_progress=progress)
        await self._state_call(
            lambda: self._journal.record_hosted(
                file.md5, file.extension, file.size, slot.source_url, host=host, expires_at=None
            )
        )
        return slot.source_url

    async def _publish(self, file: LocalFile, note: Note, refusal: str) -> str:
        """The shared store's presigned URL for ``file``, the host of last resort."""
        store = self._store
        if store is None or not store.can_publish:
            raise HostingFailed(no_host_text(file, refusal, store_url=None if store is None
                                              else store.url))  # fmt: skip
        now = self._clock()
        record = await self._state_call(
            lambda: self._journal.hosted(file.md5, file.extension, store.url)
        )
        left = None if record is None or record.expires_at is None else record.expires_at - now
        fresh = record is not None and left is not None and left > self.options.store_url_margin
        # Its credentials may have ended sooner (temporary ones), or the object gone: asked.
        if record is not None and fresh and await self._api.hosted_file_exists(record.url):
            return record.url
        note(f"publishing {file.shown} ({_size_text(file.size)}) through the shared clip store")
        source: Path | bytes = _inline_bytes(file) if file.data_url is not None else file.path
        from rdpipe.remote import RemoteError

        lifetime = self.options.store_url_lifetime
        try:
            async with self._transfers:
                published = await self._file_call(
                    lambda: store.publish_media(
                        source, file.md5, file.extension, expires_in=lifetime
                    )
                )
        except RemoteError as error:
            raise HostingFailed(
                f"{file.shown} could not be published through the shared clip store: {error.reason}"
            ) from error
        await self._state_call(
            lambda: self._journal.record_hosted(
                file.md5, file.extension, file.size, published.url, host=store.url,
                expires_at=published.expires_at,
            )
        )  # fmt: skip
        return published.url


def upload_source(file: LocalFile) -> UploadSource:
    """What a ``PUT`` sends for ``file``: an image's bytes as checked (converted ones
    included), else the file itself, streamed; with the md5 it was checked with, so a file
    changed since is not sent whole."""
    if file.data_url is not None:
        data = _inline_bytes(file)
        return UploadSource(path=None, data=data, size=len(data), md5=file.md5, shown=file.shown)
    return UploadSource(path=file.path, data=None, size=file.size, md5=file.md5, shown=file.shown)


def _inline_bytes(file: LocalFile) -> bytes:
    assert file.data_url is not None
    return base64.b64decode(file.data_url.partition(",")[2])


def no_host_text(file: LocalFile, refusal: str, *, store_url: str | None) -> str:
    """Why ``file`` has nowhere to go, and the ways out that apply to it."""
    store = (
        "no shared clip store is set up"
        if store_url is None
        else f"the shared clip store {store_url} cannot hand out presigned URLs"
    )
    ways = [] if file.send_as == "asset" else ["give the file as an https URL"]
    ways.append("set up an S3, GCS or Azure store ([remote] url in rdpipe.toml)")
    if file.send_as == "asset":
        formats = {"png": "PNG", "jpg": "JPEG", "webp": "WebP"}  # uploads seen working (§9)
        others = [
            name for ext, name in formats.items() if ext != file.extension.replace("jpeg", "jpg")
        ]
        named = ", ".join(others[:-1]) + f" or {others[-1]}" if len(others) > 1 else others[0]
        ways.append(f"save the portrait as {named}")
    elif file.kind == "image" and file.role in ("first_frame", "last_frame"):
        ways.append("send it inline (send_images_as: inline)")
    elif file.kind == "image":
        ways.append("send it inline (send_as: inline)")
    hours = REFUSAL_MEMORY / 3600
    advice = ", or ".join(ways)
    return (
        f"{file.shown} cannot be hosted: RelayDance does not take .{file.extension} uploads "
        f"(it answered: {refusal}; rdpipe asks again {hours:.0f} h after that answer) and "
        f"{store}. "
        f"{advice[0].upper()}{advice[1:]}"
    )


def _size_text(size: int) -> str:
    """``27.9 kB``, ``4.2 MB``: decimal units, as file managers show them."""
    from rich.filesize import decimal

    return decimal(size)

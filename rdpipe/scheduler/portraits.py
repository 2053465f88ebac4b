"""Portraits to ``asset://`` URIs: registered once, waited for, never re-audited blindly.

The upstream model refuses reference images showing real faces; RelayDance's asset library
turns an approved portrait into an ``asset://`` reference (relaydance-api.md §10). A portrait
is hosted (:mod:`rdpipe.scheduler.hosting`), registered with ``POST
/api/assets/virtual/create``, and its state read every :attr:`HostingOptions.portrait_poll`
seconds until ``Active`` or ``Failed``, at most :attr:`HostingOptions.portrait_polls` times.
The run state records each registration by the image's md5 and the media host:

- ``Active``: sent as its URI from then on (its state is read once per run, to learn that the
  library still has it; one it no longer has is registered again);
- ``Failed``: the audit refused the image. Every later run reports that refusal again without
  asking the library anew: only another image (another md5) is audited again;
- still ``Processing`` when the wait ends: a later run waits for the same registration.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from rdpipe.client import AssetNotFound
from rdpipe.scheduler.hosting import HostingFailed, HostingOptions, MediaHostApi, Note
from rdpipe.state import PortraitRecord

if TYPE_CHECKING:
    from rdpipe.client import AssetState
    from rdpipe.request import LocalFile
    from rdpipe.scheduler.blocking import BlockingRunner
    from rdpipe.state import StateStore


class PortraitRegistry:
    """Registers the portraits of one run; :meth:`uri_for` is called once per image."""

    def __init__(
        self,
        api: MediaHostApi,
        journal: StateStore,
        *,
        state_call: BlockingRunner,
        host_file: Callable[[LocalFile, Note], Awaitable[str]],
        options: HostingOptions,
        name_of: Callable[[LocalFile], str],
        host: str,
        sleep: Callable[[float], Awaitable[None]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._api = api
        self._journal = journal
        self._state_call = state_call
        self._host_file = host_file
        self._options = options
        self._name_of = name_of
        self._host = host
        self._sleep = sleep
        self._clock = clock

    async def uri_for(self, file: LocalFile, note: Note) -> str:
        """The ``asset://`` URI of ``file``'s portrait; raises :class:`HostingFailed`."""
        host = self._host
        record = await self._state_call(lambda: self._journal.portrait(file.md5, host))
        state: AssetState | None = None
        if record is not None:
            if record.status.lower() == "failed":
                raise HostingFailed(refused_text(record.name, record.file, record.reason))
            try:
                state = await self._api.asset_state(record.asset_id)
            except AssetNotFound:  # the library no longer has it: registered again
                record, state = None, None
        if record is None:
            source_url = await self._host_file(file, note)
            state = await self._api.create_asset(source_url, name=self._name_of(file))
            now = self._clock()
            record = PortraitRecord(
                md5=file.md5, host=host, asset_id=state.id, uri=state.uri, status=state.status,
                reason=state.reason, source_url=source_url, name=self._name_of(file),
                file=file.shown, registered_at=now, updated_at=now,
            )  # fmt: skip
            await self._save(record)
        assert state is not None
        return await self._wait(record, state, note)

    async def _wait(self, record: PortraitRecord, state: AssetState, note: Note) -> str:
        """Read the registration's state until it is Active or Failed, or the wait ends."""
        options = self._options
        total = options.portrait_poll * options.portrait_polls
        for poll in range(options.portrait_polls + 1):
            record = await self._update(record, state)
            if state.active:
                uri = state.uri or record.uri
                if uri is None:
                    raise HostingFailed(
                        f"portrait {record.name!r} is Active at the asset library, but the "
                        "library gave no asset:// URI for it; rerun later"
                    )
                return uri
            if state.failed:
                raise HostingFailed(refused_text(record.name, record.file, state.reason))
            if poll == options.portrait_polls:
                break
            waited = poll * options.portrait_poll
            note(
                f"portrait {record.name!r}: {state.status} at the asset library "
                f"({waited:.0f} s of at most {total:.0f} s)"
            )
            await self._sleep(options.portrait_poll)
            state = await self._api.asset_state(record.asset_id)
        raise HostingFailed(
            f"portrait {record.name!r} ({record.file}) is still {state.status} at the asset "
            f"library after {total:.0f} s. Rerun later: rdpipe waits for the same "
            "registration, it does not register the image again"
        )

    async def _update(self, record: PortraitRecord, state: AssetState) -> PortraitRecord:
        """``record`` with ``state``'s status, URI and reason, saved when they changed."""
        from dataclasses import replace

        uri = state.uri or record.uri
        if (record.status, record.uri, record.reason) == (state.status, uri, state.reason):
            return record
        record = replace(
            record, status=state.status, uri=uri, reason=state.reason, updated_at=self._clock()
        )
        await self._save(record)
        return record

    async def _save(self, record: PortraitRecord) -> None:
        await self._state_call(lambda: self._journal.record_portrait(record))


def refused_text(name: str, file: str, reason: str | None) -> str:
    """The one paragraph a refused portrait gets: the relay's reason, and what to do."""
    why = reason.strip().rstrip(".") if reason else "no reason given"
    return (
        f"portrait {name!r} ({file}) was refused by RelayDance's asset library: {why}. The "
        "library's audit accepts synthetic (generated) portraits only; a photograph of a real "
        "person needs the model provider's own consent process, which RelayDance does not "
        "offer. Use a generated portrait, or, if the image shows no real face, send it as a "
        "plain reference (remove `asset: true`). rdpipe does not register this image again: "
        "a changed image is audited anew"
    )

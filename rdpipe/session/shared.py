"""The run's view of the lock file and the shared clip store: where known clips come from.

Offline previews use neither: their clips are the simulator's, which must never mix with paid
clips in a team's store or stand in for the clips a lock file names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from rdpipe.errors import RdpipeError
from rdpipe.hints import Command, Suggestion
from rdpipe.plan import shot_keys
from rdpipe.session.sources import ClipSources
from rdpipe.state import ClipStore, LockFile, ShotLock

if TYPE_CHECKING:
    from rdpipe.prepare.pipeline import PreparedPipeline
    from rdpipe.remote import IndexEntry, SharedClipStore
    from rdpipe.session.settings import RunSettings
    from rdpipe.session.workspace import Workspace


class StoreUnusable(RdpipeError):
    """The shared clip store failed where a run needs it before paying: looking up the clips
    made before, or claiming the shots to generate. Nothing was submitted."""

    def __init__(self, url: str, doing: str, error: RdpipeError) -> None:
        self.cause = error
        super().__init__(
            f"the shared clip store {url} could not be used to {doing}: "
            f"{error.message.rstrip('.')}; nothing was submitted",
            suggestion=Suggestion(
                "Fix the store's settings or access (`{0}` names the store and where it is set), "
                "or run `{1}` without it; a teammate's run may then pay for the same shots.",
                (Command("status"), Command("run", options=("--no-remote",))),
            ),
        )


def open_remote(settings: RunSettings) -> SharedClipStore | None:
    """The shared clip store the settings name; ``None`` offline or when none is set.

    Raises the store's error (exit 2) when its URL names a back-end that is not installed.
    """
    if settings.offline or settings.remote is None:
        return None
    from rdpipe.remote import open_shared_store

    return open_shared_store(settings.remote.url, claim_timeout=settings.remote.claim_timeout)


def clip_sources(
    prepared: PreparedPipeline,
    workspace: Workspace,
    clips: ClipStore,
    shared: SharedClipStore | None,
) -> ClipSources | None:
    """What the lock file and the shared store know of the plan's keys; ``None`` offline.

    Read when first asked: the lock file (:class:`~rdpipe.state.LockFileInvalid` when it is not
    one) and, with a store, its index for every key and take of the plan (network: one listing
    where the back-end allows it).
    """
    if workspace.offline:
        return None

    def read_lock() -> tuple[ShotLock, ...]:
        return LockFile(workspace.state.lock_file).read()

    def read_index() -> Mapping[tuple[str, int], IndexEntry]:
        if shared is None:
            return {}
        from rdpipe.remote import RemoteError

        keys = shot_keys(prepared.shots)
        try:
            return shared.lookup_many([(keys[shot.label], shot.take) for shot in prepared.shots])
        except RemoteError as error:
            raise StoreUnusable(shared.url, "look up the clips made before", error) from error

    return ClipSources(clips, read_lock, read_index)

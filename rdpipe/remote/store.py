"""The shared clip store: a team's clips in one place (S3, GCS, Azure, ssh or a shared folder).

Content-addressed, so identical clips are stored once; an index from request key and take to
the clip, so a clip is found by the shot that made it; and claims, so two runs do not both pay
for the same new shot (issue 13). On object stores it also publishes local media files for the
relay, as presigned URLs (issue 14). The layout is in :mod:`rdpipe.remote.layout`.

Every method blocks on the network: call them from worker threads. Errors are
:class:`rdpipe.remote.RemoteError` subclasses; a store that fails raises
:class:`RemoteUnavailable`, which the caller may treat as "no store" and carry on.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from .backends import Backend, open_backend
from .claiming import ClaimBook
from .claims import Claim, HeldBy
from .config_file import DEFAULT_CLAIM_TIMEOUT
from .entries import IndexEntry
from .errors import LocalClipMismatch
from .layout import clip_path, index_path
from .publishing import PublishedMedia, publish_media
from .transfer import Progress, download_clip, upload_clip

_LOOKUP_BATCH = 32  # index entries read at once by lookup_many on asynchronous back-ends


class SharedClipStore:
    """One shared store, opened from its URL (:func:`open_shared_store`).

    ``clock`` gives epoch seconds: when a damaged clip is moved aside, and when a published
    media file's URL expires (claims are given their time by the caller, ``now``).
    """

    def __init__(
        self, backend: Backend, *, claim_timeout: float, clock: Callable[[], float] = time.time
    ) -> None:
        self._backend = backend
        self._clock = clock
        self.claim_timeout = claim_timeout  # seconds a claim lives without a heartbeat
        supported = backend.kind.create != ""
        self._claims = ClaimBook(backend, claim_timeout) if supported else None

    @property
    def url(self) -> str:
        """The store's URL, as it was opened (with its scheme)."""
        return self._backend.url

    @property
    def supports_claims(self) -> bool:
        """Whether runs can claim shots here (the back-end has an atomic create-if-absent)."""
        return self._claims is not None

    @property
    def claims_unsupported_reason(self) -> str | None:
        """Why runs cannot claim shots here, for ``status``; ``None`` when they can."""
        return None if self._claims is not None else self._backend.kind.no_claims_reason

    @property
    def can_publish(self) -> bool:
        """Whether :meth:`publish_media` can work here: the back-end presigns GET URLs (S3,
        GCS, Azure; not a shared folder, ssh or memory store). Known without connecting; the
        credentials are tried only by a publish."""
        return not self._backend.kind.no_publish_reason

    def publish_media(
        self, source: Path | bytes, md5: str, ext: str, *, expires_in: float
    ) -> PublishedMedia:
        """Publish a local media file for the relay: a presigned GET URL of its copy in the store.

        ``source`` is the file (streamed from disk, memory flat) or its bytes; ``md5`` (32
        lowercase hex digits) is the md5 of those bytes and ``ext`` their kind (``"mp4"``,
        lowercase, no dot). The copy at ``media/<md5>.<ext>`` is uploaded unless one of its size
        is there already, atomically like a pushed clip, its md5 checked as it is sent; then a
        URL valid ``expires_in`` seconds (at most 7 days) is signed, with ``expires_at`` read
        from this store's clock. Blocks: call it from a worker thread.

        Raises :class:`CannotPublish` when the store cannot presign (:attr:`can_publish` is
        false, checked first; or its credentials cannot sign), :class:`LocalMediaMismatch`
        when the bytes sent do not hash to ``md5`` (the file changed; nothing is published),
        :class:`RemoteUnavailable` when the store fails, ``OSError`` when the file cannot be
        read, ``ValueError`` for a malformed ``md5``, ``ext`` or ``expires_in``.
        """
        return publish_media(
            self._backend, source, md5, ext, expires_in=expires_in, clock=self._clock
        )

    def lookup(self, key: str, take: int) -> IndexEntry | None:
        """The clip the store has for ``key``'s take ``take``; ``None`` when none (or when the
        entry is not one this rdpipe can read)."""
        path = self._backend.path(index_path(key, take))
        data = self._backend.read_bytes(path, "read the index entry")
        return None if data is None else IndexEntry.from_json(data)

    def lookup_many(self, pairs: Iterable[tuple[str, int]]) -> dict[tuple[str, int], IndexEntry]:
        """:meth:`lookup` for many (key, take) pairs; only those found are in the answer.

        The entries are read concurrently (up to 32 at once on network back-ends), so a
        thousand shots cost about as many round trips as 32 sequential lookups.
        """
        wanted = {self._backend.path(index_path(key, take)): (key, take) for key, take in pairs}
        if not wanted:
            return {}
        options = {"batch_size": _LOOKUP_BATCH} if self._backend.fs.async_impl else {}
        with self._backend.guard("read the index", self._backend.path("index")):
            found = self._backend.fs.cat(list(wanted), on_error="return", **options)
        entries: dict[tuple[str, int], IndexEntry] = {}
        for path, pair in wanted.items():
            data = found.get(path, FileNotFoundError(path))
            if isinstance(data, FileNotFoundError):
                continue
            if isinstance(data, BaseException):
                with self._backend.guard("read the index entry", path):
                    raise data
            entry = IndexEntry.from_json(data)
            if entry is not None:
                entries[pair] = entry
        return entries

    def has_clip(self, sha256: str) -> bool:
        """Whether the store holds the clip whose bytes hash to ``sha256`` (lowercase hex)."""
        path = self._backend.path(clip_path(sha256))
        return self._backend.size_of(path, "look for the clip") is not None

    def pull(self, sha256: str, dest: Path, *, progress: Progress | None = None) -> None:
        """Download the clip ``sha256`` to ``dest``, verified, replacing ``dest`` atomically.

        Streams in 1 MiB chunks (memory stays flat), calling ``progress(done, total)`` in
        bytes, first ``(0, size)``. Raises :class:`RemoteClipMissing`,
        :class:`RemoteClipCorrupt` (nothing written; the object is read a second time, and only
        when that read hashes wrong too is it moved to ``damaged/<sha256>-<epoch>.mp4`` in the
        store, never deleted, so the next push of the clip uploads a good copy),
        :class:`RemoteUnavailable`, or ``OSError`` for a local write that fails.
        """
        source = self._backend.path(clip_path(sha256))
        download_clip(
            self._backend, source, dest, sha256=sha256, progress=progress, clock=self._clock
        )

    def push(self, path: Path, entry: IndexEntry, *, progress: Progress | None = None) -> bool:
        """Store the local clip ``path`` described by ``entry``, then index it.

        The clip is uploaded unless the store holds an object of its size under its sha256
        already (one of another size, a truncated one, is replaced; one of the same size but
        damaged is found and moved aside by the next :meth:`pull`); it becomes visible under its
        final name only whole and verified (see :mod:`rdpipe.remote.transfer`), with
        ``progress(done, total)`` in bytes, ``(0, size)`` first, then after each chunk. Then
        ``index/<entry.key>/<entry.take>.json`` is written atomically (the newest push names
        the clip). Returns ``True`` when bytes were uploaded, ``False`` when the store had the
        clip. Raises :class:`LocalClipMismatch` when the file's size or sha256 is not the
        entry's, :class:`RemoteUnavailable` when the store fails, ``OSError`` when the file
        cannot be read. Run again after any failure: the push completes.
        """
        size = path.stat().st_size
        if size != entry.size:
            raise LocalClipMismatch(str(path), "size", f"{entry.size} bytes", f"{size} bytes")
        target = self._backend.path(clip_path(entry.sha256))
        uploaded = self._backend.size_of(target, "look for the clip") != size
        if uploaded:
            upload_clip(
                self._backend, path, target, sha256=entry.sha256, size=size, progress=progress
            )
        index = self._backend.path(index_path(entry.key, entry.take))
        if self._backend.read_bytes(index, "read the index entry") != entry.to_json():
            self._backend.write_bytes(index, entry.to_json(), "write the index entry")
        return uploaded

    def claim(
        self, key: str, take: int, owner: str, *, now: float, host: str | None = None
    ) -> Claim | HeldBy:
        """Claim ``key``'s take ``take`` before paying for it (see :mod:`rdpipe.remote.claims`).

        ``owner`` identifies the run's machine and pipeline state (the same owner takes its own
        live claim over at once); ``host`` defaults to this machine's name; ``now`` is epoch
        seconds. Returns the :class:`Claim` (its ``taken_from_task``: the task the claim taken
        over had noted), or :class:`HeldBy` when another live run holds it. Raises
        ``ValueError`` when the store does not :attr:`supports_claims`.
        """
        claims = self._claim_book()
        return claims.claim(key, take, owner, now=now, host=host or socket.gethostname())

    def heartbeat(self, claim: Claim, now: float) -> bool:
        """Keep ``claim`` alive at ``now``; ``False`` when another run has taken it over."""
        return self._claim_book().heartbeat(claim, now)

    def note_task(self, claim: Claim, task_id: str, now: float) -> bool:
        """Note in ``claim`` that this run submitted ``task_id`` (with a heartbeat at ``now``),
        so that a run taking the claim over after a crash follows that task instead of paying
        again (:attr:`Claim.taken_from_task`; :attr:`HeldBy.task_id` for runs waiting). Later
        heartbeats and the release keep it. Returns ``False`` (nothing written) when another
        run has taken the claim over."""
        return self._claim_book().note_task(claim, task_id, now)

    def release(self, claim: Claim, now: float) -> None:
        """Give ``claim`` up at ``now`` (the clip is in the store, or the run gave up)."""
        self._claim_book().release(claim, now)

    def claim_holder(self, key: str, take: int, *, now: float) -> HeldBy | None:
        """Who holds a live claim on ``key``'s take ``take`` at ``now``; ``None``: nobody."""
        return self._claim_book().holder(key, take, now=now)

    def _claim_book(self) -> ClaimBook:
        if self._claims is None:
            raise ValueError(f"{self.url} cannot hold claims: {self.claims_unsupported_reason}")
        return self._claims


def open_shared_store(
    url: str,
    *,
    claim_timeout: float = DEFAULT_CLAIM_TIMEOUT,
    clock: Callable[[], float] = time.time,
) -> SharedClipStore:
    """The store at ``url``, in the normal form :class:`RemoteSetting` gives it (with its
    scheme; a ``file://`` path as it is, not percent-encoded). ``memory://`` URLs, refused in
    a user's setting, are accepted here: the tests' in-process stores. ``clock``: see
    :class:`SharedClipStore`.

    Cheap: imports no back-end and connects to nothing (about 0.4 s saved for ``s3://`` when
    a run needs nothing from the store); the first operation that needs the back-end builds
    it, once, whichever thread calls it. :attr:`SharedClipStore.supports_claims` is known
    without it. A ``file://`` store's folder is looked at once, here (one ``stat``): it is
    never made. Raises :class:`RemoteBackendMissing` (exit code 2, with the pip command) when
    the scheme's package is not installed, :class:`SharedFolderMissing` (exit code 2) when a
    ``file://`` store's folder does not exist or is a file, :class:`RemoteUnavailable` when it
    cannot be looked at.
    """
    backend = open_backend(url)
    backend.check_root()
    return SharedClipStore(backend, claim_timeout=claim_timeout, clock=clock)

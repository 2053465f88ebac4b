"""MediaHosting and PortraitRegistry against a real run state, a fake media host and a fake
shared store: each file hosted once per run and once ever, the store as the host of last
resort, portraits registered once and waited for on a fake clock (no real waiting)."""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.lowlevel
import pytest

from rdpipe.client import (
    AssetNotFound,
    AssetState,
    AuthenticationFailed,
    MediaHostUnreachable,
    NotSent,
    QuotaExceeded,
    RelayDanceError,
    ServerError,
    UploadFailed,
    UploadRefused,
    UploadSlot,
    UploadSource,
)
from rdpipe.remote import CannotPublish, PublishedMedia, RemoteError
from rdpipe.request import GenerationRequest, LocalFile
from rdpipe.scheduler.hosting import (
    REFUSAL_MEMORY,
    STORE_URL_LIFETIME,
    STORE_URL_MARGIN,
    HostingFailed,
    HostingOptions,
    MediaHosting,
    no_host_text,
    upload_source,
)
from rdpipe.scheduler.portraits import refused_text
from rdpipe.state import HostedRecord, PortraitRecord, StateStore

pytestmark = pytest.mark.anyio

_T = TypeVar("_T")
HOST = "relay.test:8443"
STORAGE = "https://storage.relay.test"
START = 1_780_000_000.0
AUDIT = (
    "the portrait shows a real person; the virtual library accepts synthetic portraits only "
    "(InputImageSensitiveContentDetected.PrivacyInformation)"
)
REFUSAL = "unsupported file type: mp4"


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def quiet(text: str) -> None:
    """A note nobody reads."""


async def inline(call: Callable[[], _T]) -> _T:
    """The blocking runner of these tests: the call runs on the event loop itself."""
    return call()


@dataclass
class FakeClock:
    """Epoch seconds that move only when the code under test sleeps."""

    now: float = START
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await anyio.lowlevel.checkpoint()


def source_url(md5: str, ext: str) -> str:
    return f"{STORAGE}/media/{md5}.{ext}"


@dataclass
class FakeMediaHost:
    """The media host's calls, recorded in order; each yields to the loop like a request.

    ``gate``: set, uploads wait on it. ``exists``: what ``hosted_file_exists`` says per URL
    (unknown URLs: False). An asset answers Processing ``processing_reads`` times, then
    ``outcome``.
    """

    media_host: str = HOST
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    slot_exists: bool = False
    refuse: dict[str, str] = field(default_factory=dict)
    slot_error: RelayDanceError | None = None
    upload_error: RelayDanceError | None = None
    gate: anyio.Event | None = None
    exists: dict[str, bool | None] = field(default_factory=dict)
    processing_reads: int = 0
    outcome: str = "Active"
    reason: str | None = None
    assets: set[str] = field(default_factory=set)
    reads: Counter[str] = field(default_factory=Counter)

    async def upload_slot(self, md5: str, ext: str) -> UploadSlot:
        self.calls.append(("upload_slot", md5, ext))
        await anyio.lowlevel.checkpoint()
        if self.slot_error is not None:
            raise self.slot_error
        if ext in self.refuse:
            raise UploadRefused(ext, self.refuse[ext], status=400, host=self.media_host)
        upload_url = f"{STORAGE}/uploads/{md5}.{ext}?expires=1&signature=ab"
        return UploadSlot(self.slot_exists, upload_url, source_url(md5, ext), "video/mp4")

    async def upload(
        self,
        slot: UploadSlot,
        source: UploadSource,
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        self.calls.append(("upload", slot.source_url, source))
        if self.gate is not None:
            await self.gate.wait()
        await anyio.lowlevel.checkpoint()
        if self.upload_error is not None:
            raise self.upload_error

    async def hosted_file_exists(self, url: str) -> bool | None:
        self.calls.append(("hosted_file_exists", url))
        await anyio.lowlevel.checkpoint()
        return self.exists.get(url, False)

    async def create_asset(self, source_url: str, *, name: str = "") -> AssetState:
        self.calls.append(("create_asset", source_url, name))
        await anyio.lowlevel.checkpoint()
        asset_id = f"asset-{len(self.assets) + 1:024x}"
        self.assets.add(asset_id)
        return AssetState(asset_id, "Processing", f"asset://{asset_id}")

    async def asset_state(self, asset_id: str) -> AssetState:
        self.calls.append(("asset_state", asset_id))
        await anyio.lowlevel.checkpoint()
        if asset_id not in self.assets:
            raise AssetNotFound(asset_id)
        self.reads[asset_id] += 1
        uri = f"asset://{asset_id}"
        if self.reads[asset_id] <= self.processing_reads:
            return AssetState(asset_id, "Processing", uri)
        reason = self.reason if self.outcome == "Failed" else None
        return AssetState(asset_id, self.outcome, uri, reason)


@dataclass
class FakeStore:
    """A shared clip store that presigns URLs valid ``expires_in`` from ``clock``'s now."""

    clock: FakeClock
    url: str = "s3://team-bucket/films"
    can_publish: bool = True
    error: RemoteError | None = None
    published: list[tuple[Path | bytes, str, str, float]] = field(default_factory=list)

    def publish_media(
        self, source: Path | bytes, md5: str, ext: str, *, expires_in: float
    ) -> PublishedMedia:
        self.published.append((source, md5, ext, expires_in))
        if self.error is not None:
            raise self.error
        url = f"https://team-bucket.s3.test/films/media/{md5}.{ext}?sig={len(self.published)}"
        return PublishedMedia(url=url, expires_at=self.clock.now + expires_in)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def journal(tmp_path: Path, clock: FakeClock) -> Iterator[StateStore]:
    with StateStore.open(tmp_path / "state.db", pipeline="film", clock=clock) as store:
        yield store


def _local_file(
    path: Path, data: bytes, *, kind: str, ext: str, send_as: str = "hosted"
) -> LocalFile:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    image = kind == "image"
    return LocalFile(
        kind="image" if image else "video",
        role="reference_image" if image else "reference_video",
        path=path,
        shown=f"{path.parent.name}/{path.name}",
        size=len(data),
        md5=hashlib.md5(data).hexdigest(),
        sha256=hashlib.sha256(data).hexdigest(),
        extension=ext,
        content_type="image/png" if image else "video/mp4",
        send_as="asset" if send_as == "asset" else "hosted",
        data_url=f"data:image/png;base64,{base64.b64encode(data).decode()}" if image else None,
        duration=None if image else 4.0,
    )


@pytest.fixture
def video(tmp_path: Path) -> LocalFile:
    """``clips/walk.mp4``, 1 234 bytes."""
    data = b"\x00\x00\x00\x18ftypmp42".ljust(1234, b"\x00")
    return _local_file(tmp_path / "clips" / "walk.mp4", data, kind="video", ext="mp4")


@pytest.fixture
def portrait(tmp_path: Path) -> LocalFile:
    """``portraits/hero.png`` sent as an asset, 2 000 bytes."""
    data = b"\x89PNG" + b"h" * 1996
    path = tmp_path / "portraits" / "hero.png"
    return _local_file(path, data, kind="image", ext="png", send_as="asset")


def hosting_for(
    api: FakeMediaHost,
    journal: StateStore,
    clock: FakeClock,
    *,
    store: FakeStore | None = None,
    options: HostingOptions | None = None,
    transfers: int = 4,
) -> MediaHosting:
    """One run's hosting; the portrait's md5 is known as the reference ``hero``."""
    return MediaHosting(
        api,
        journal,
        store=store,
        state_call=inline,
        file_call=inline,
        options=options,
        names={hashlib.md5(b"\x89PNG" + b"h" * 1996).hexdigest(): "hero"},
        transfers=transfers,
        clock=clock,
        sleep=clock.sleep,
    )


async def _all_of(calls: list[Callable[[], Awaitable[_T]]]) -> list[_T | BaseException]:
    """Each call's result or RdpipeError, the calls run at once (one task each)."""
    results: list[_T | BaseException] = [RuntimeError("not run")] * len(calls)

    async def one(index: int) -> None:
        try:
            results[index] = await calls[index]()
        except HostingFailed as error:
            results[index] = error

    async with anyio.create_task_group() as group:
        for index in range(len(calls)):
            group.start_soon(one, index)
    return results


# Hosting once ------------------------------------------------------------------------------


async def test_three_shots_sharing_a_file_ask_one_slot_and_put_it_once(
    journal: StateStore, clock: FakeClock, video: LocalFile
) -> None:
    """Three shots resolving the same file at once share one slot and one PUT; each gets the
    relay's source URL, which the state records for the media host."""
    api = FakeMediaHost(gate=anyio.Event())
    hosting = hosting_for(api, journal, clock)
    notes: list[str] = []
    requests = [GenerationRequest("m", f"shot {i}", "5").with_content([video]) for i in range(3)]
    results: dict[int, dict[LocalFile, str]] = {}

    async def shot(index: int) -> None:
        results[index] = await hosting.urls(requests[index], notes.append)

    url = source_url(video.md5, "mp4")
    first_two = [
        ("upload_slot", video.md5, "mp4"),
        ("upload", url, upload_source(video)),
    ]
    async with anyio.create_task_group() as group:
        for index in range(3):
            group.start_soon(shot, index)
        await anyio.wait_all_tasks_blocked()
        assert api.calls == first_two  # the other two shots wait for the first one's PUT
        assert api.gate is not None
        api.gate.set()
    assert results == {0: {video: url}, 1: {video: url}, 2: {video: url}}
    assert api.calls == first_two
    assert notes == ["uploading clips/walk.mp4 (1.2 kB)"]
    assert journal.hosted(video.md5, "mp4", HOST) == HostedRecord(
        video.md5, "mp4", 1234, url, HOST, None, START
    )


async def test_uploads_wait_for_a_transfer_slot(
    journal: StateStore, clock: FakeClock, video: LocalFile, tmp_path: Path
) -> None:
    """With ``transfers=1`` a second file's PUT starts only when the first one's ends."""
    other = _local_file(tmp_path / "clips" / "run.mp4", b"run" * 100, kind="video", ext="mp4")
    api = FakeMediaHost(gate=anyio.Event())
    hosting = hosting_for(api, journal, clock, transfers=1)
    async with anyio.create_task_group() as group:
        group.start_soon(hosting.url_for, video, quiet)
        group.start_soon(hosting.url_for, other, quiet)
        await anyio.wait_all_tasks_blocked()
        assert Counter(call[0] for call in api.calls) == {"upload_slot": 2, "upload": 1}
        assert api.gate is not None
        api.gate.set()
    assert Counter(call[0] for call in api.calls) == {"upload_slot": 2, "upload": 2}


def test_upload_source_sends_an_images_checked_bytes_and_streams_other_files(
    video: LocalFile, portrait: LocalFile
) -> None:
    """An image's PUT carries the bytes of its data URL; a video's is read from its path;
    each with the md5 it was checked with and its path as written, for the uploader's check."""
    assert upload_source(portrait) == UploadSource(
        path=None,
        data=b"\x89PNG" + b"h" * 1996,
        size=2000,
        md5=portrait.md5,
        shown=portrait.shown,
    )
    assert upload_source(video) == UploadSource(
        path=video.path, data=None, size=1234, md5=video.md5, shown="clips/walk.mp4"
    )


# A recorded URL ----------------------------------------------------------------------------

OLD_URL = "https://old-storage.relay.test/media/walk.mp4"


async def test_a_recorded_url_still_there_is_sent_without_asking_for_a_slot(
    journal: StateStore, clock: FakeClock, video: LocalFile
) -> None:
    """A URL the state recorded that a HEAD finds is used as it is: no slot, no PUT."""
    journal.record_hosted(video.md5, "mp4", 1234, OLD_URL, host=HOST, expires_at=None)
    api = FakeMediaHost(exists={OLD_URL: True})
    notes: list[str] = []
    assert await hosting_for(api, journal, clock).url_for(video, notes.append) == OLD_URL
    assert api.calls == [("hosted_file_exists", OLD_URL)]
    assert notes == []


async def test_a_recorded_url_that_is_gone_is_forgotten_and_the_file_uploaded_again(
    journal: StateStore, clock: FakeClock, video: LocalFile
) -> None:
    """A recorded file the host no longer has is uploaded again and recorded anew."""
    journal.record_hosted(video.md5, "mp4", 1234, OLD_URL, host=HOST, expires_at=None)
    clock.now += 100.0
    api = FakeMediaHost(exists={OLD_URL: False})
    url = await hosting_for(api, journal, clock).url_for(video, quiet)
    assert url == source_url(video.md5, "mp4")
    assert [call[0] for call in api.calls] == ["hosted_file_exists", "upload_slot", "upload"]
    assert journal.hosted(video.md5, "mp4", HOST) == HostedRecord(
        video.md5, "mp4", 1234, url, HOST, None, START + 100.0
    )


async def test_a_gone_file_is_forgotten_even_when_its_upload_fails(
    journal: StateStore, clock: FakeClock, video: LocalFile
) -> None:
    """The record of a gone file is dropped before the upload: a failed PUT leaves none."""
    journal.record_hosted(video.md5, "mp4", 1234, OLD_URL, host=HOST, expires_at=None)
    failed = UploadFailed(f"storage.relay.test/uploads/{video.md5}.mp4", status=500)
    api = FakeMediaHost(exists={OLD_URL: False}, upload_error=failed)
    with pytest.raises(HostingFailed):
        await hosting_for(api, journal, clock).url_for(video, quiet)
    assert journal.hosted(video.md5, "mp4", HOST) is None


async def test_a_recorded_url_that_cannot_be_checked_asks_for_a_slot(
    journal: StateStore, clock: FakeClock, video: LocalFile
) -> None:
    """A HEAD that cannot tell leads to the slot; ``exists`` there means no PUT, and the
    slot's source URL is recorded in place of the old one."""
    journal.record_hosted(video.md5, "mp4", 1234, OLD_URL, host=HOST, expires_at=None)
    api = FakeMediaHost(exists={OLD_URL: None}, slot_exists=True)
    notes: list[str] = []
    url = await hosting_for(api, journal, clock).url_for(video, notes.append)
    assert url == source_url(video.md5, "mp4")
    assert api.calls == [("hosted_file_exists", OLD_URL), ("upload_slot", video.md5, "mp4")]
    assert notes == []
    record = journal.hosted(video.md5, "mp4", HOST)
    assert record is not None and record.url == url


# The shared store, where the relay refuses ---------------------------------------------------


async def test_a_refused_extension_is_recorded_and_published_through_the_store(
    journal: StateStore, clock: FakeClock, video: LocalFile
) -> None:
    """The relay's refusal of .mp4 is kept in the state; the store publishes the file for a
    day and its presigned URL is sent and recorded under the store's URL."""
    api = FakeMediaHost(refuse={"mp4": REFUSAL})
    store = FakeStore(clock)
    notes: list[str] = []
    url = await hosting_for(api, journal, clock, store=store).url_for(video, notes.append)
    assert url == f"https://team-bucket.s3.test/films/media/{video.md5}.mp4?sig=1"
    assert api.calls == [("upload_slot", video.md5, "mp4")]
    assert journal.refused_extensions(HOST) == {"mp4": REFUSAL}
    assert store.published == [(video.path, video.md5, "mp4", STORE_URL_LIFETIME)]
    assert STORE_URL_LIFETIME == 86400.0
    assert notes == ["publishing clips/walk.mp4 (1.2 kB) through the shared clip store"]
    assert journal.hosted(video.md5, "mp4", store.url) == HostedRecord(
        video.md5, "mp4", 1234, url, store.url, START + 86400.0, START
    )

    # The next run asks the relay nothing: the extension is refused, the URL still valid and
    # still serving the file (asked without the key).
    again = FakeMediaHost(exists={url: True})
    assert await hosting_for(again, journal, clock, store=store).url_for(video, quiet) == url
    assert again.calls == [("hosted_file_exists", url)]
    assert len(store.published) == 1

    # A URL that no longer serves it (its credentials ended, the object went) is signed anew.
    gone = FakeMediaHost(exists={url: False})
    renewed = await hosting_for(gone, journal, clock, store=store).url_for(video, quiet)
    assert renewed.endswith("?sig=2") and len(store.published) == 2


async def test_a_refused_image_is_published_as_its_checked_bytes(
    journal: StateStore, clock: FakeClock, portrait: LocalFile
) -> None:
    """An image the store publishes is the bytes of its data URL, not the file at its path."""
    image = replace(portrait, send_as="hosted")
    store = FakeStore(clock)
    api = FakeMediaHost(refuse={"png": "unsupported file type: png"})
    await hosting_for(api, journal, clock, store=store).url_for(image, quiet)
    assert store.published == [(b"\x89PNG" + b"h" * 1996, image.md5, "png", STORE_URL_LIFETIME)]


@pytest.mark.parametrize(
    ("left", "publishes"),
    [
        (STORE_URL_MARGIN + 1.0, False),
        (STORE_URL_MARGIN, True),
        (STORE_URL_MARGIN - 1.0, True),
        (None, True),
    ],
)
async def test_a_recorded_store_url_is_reused_only_with_more_than_the_margin_left(
    journal: StateStore,
    clock: FakeClock,
    video: LocalFile,
    left: float | None,
    publishes: bool,
) -> None:
    """A store URL valid for more than six hours more is sent again; one nearer its end (or
    with no known end) is signed anew, and the new one recorded."""
    store = FakeStore(clock)
    journal.record_refused_extension(HOST, "mp4", REFUSAL)
    expires_at = None if left is None else START + left
    journal.record_hosted(video.md5, "mp4", 1234, OLD_URL, host=store.url, expires_at=expires_at)
    api = FakeMediaHost(exists={OLD_URL: True})
    url = await hosting_for(api, journal, clock, store=store).url_for(video, quiet)
    assert api.calls == ([] if publishes else [("hosted_file_exists", OLD_URL)])
    if not publishes:
        assert (url, store.published) == (OLD_URL, [])
        return
    assert url == f"https://team-bucket.s3.test/films/media/{video.md5}.mp4?sig=1"
    assert store.published == [(video.path, video.md5, "mp4", STORE_URL_LIFETIME)]
    record = journal.hosted(video.md5, "mp4", store.url)
    assert record is not None and (record.url, record.expires_at) == (url, START + 86400.0)


NO_STORE_TEXT = (
    "clips/walk.mp4 cannot be hosted: RelayDance does not take .mp4 uploads (it answered: "
    "unsupported file type: mp4; rdpipe asks again 24 h after that answer) and no shared clip "
    "store is set up. Give the file as an https URL, or set up an S3, GCS or Azure store "
    "([remote] url in rdpipe.toml)"
)


async def test_a_refused_extension_without_a_store_fails_with_the_ways_out(
    journal: StateStore, clock: FakeClock, video: LocalFile
) -> None:
    """No store: the file cannot be hosted, and the message says why and what to do; the next
    run says the same without asking the relay for a slot."""
    api = FakeMediaHost(refuse={"mp4": REFUSAL})
    with pytest.raises(HostingFailed) as failed:
        await hosting_for(api, journal, clock).url_for(video, quiet)
    assert failed.value.message == NO_STORE_TEXT
    assert no_host_text(video, REFUSAL, store_url=None) == NO_STORE_TEXT
    assert journal.refused_extensions(HOST) == {"mp4": REFUSAL}

    again = FakeMediaHost()
    with pytest.raises(HostingFailed) as next_run:
        await hosting_for(again, journal, clock).url_for(video, quiet)
    assert next_run.value.message == NO_STORE_TEXT
    assert again.calls == []


async def test_an_image_with_a_store_that_cannot_sign_is_offered_inline(
    journal: StateStore, clock: FakeClock, portrait: LocalFile
) -> None:
    """A store that cannot presign is named; an image's ways out include sending it inline."""
    image = replace(portrait, send_as="hosted")
    store = FakeStore(clock, url="file:///srv/clips", can_publish=False)
    api = FakeMediaHost(refuse={"png": "unsupported file type: png"})
    with pytest.raises(HostingFailed) as failed:
        await hosting_for(api, journal, clock, store=store).url_for(image, quiet)
    assert failed.value.message == (
        "portraits/hero.png cannot be hosted: RelayDance does not take .png uploads (it answered: "
        "unsupported file type: png; rdpipe asks again 24 h after that answer) and the shared clip "
        "store file:///srv/clips cannot hand out presigned URLs. Give the file as an https URL, "
        "or set up an S3, GCS or Azure store ([remote] url in rdpipe.toml), or send it inline "
        "(send_as: inline)"
    )
    assert store.published == []


async def test_a_store_that_fails_to_publish_fails_the_file(
    journal: StateStore, clock: FakeClock, video: LocalFile
) -> None:
    """A store error becomes the file's HostingFailed, with the store's reason; nothing is
    recorded."""
    store = FakeStore(clock, error=CannotPublish("s3://team-bucket/films", "the SSO token ended"))
    api = FakeMediaHost(refuse={"mp4": REFUSAL})
    with pytest.raises(HostingFailed) as failed:
        await hosting_for(api, journal, clock, store=store).url_for(video, quiet)
    assert failed.value.message == (
        "clips/walk.mp4 could not be published through the shared clip store: the shared clip "
        "store s3://team-bucket/films cannot publish media files for the relay: the SSO token "
        "ended"
    )
    assert journal.hosted(video.md5, "mp4", store.url) is None


# Portraits -----------------------------------------------------------------------------------


def _asset(number: int) -> str:
    return f"asset-{number:024x}"


async def test_a_portrait_is_registered_once_and_waited_for_until_active(
    journal: StateStore, clock: FakeClock, portrait: LocalFile
) -> None:
    """Two shots citing one portrait: one upload, one registration, three reads 3 s apart
    (Processing, Processing, Active), each wait told; both get the asset URI, and the state
    keeps the Active registration."""
    api = FakeMediaHost(processing_reads=2)
    hosting = hosting_for(api, journal, clock)
    notes: list[str] = []
    request = GenerationRequest("m", "p", "5").with_content([portrait])
    results = await _all_of([lambda: hosting.urls(request, notes.append)] * 2)
    uri = f"asset://{_asset(1)}"
    assert results == [{portrait: uri}, {portrait: uri}]
    hosted = source_url(portrait.md5, "png")
    assert api.calls == [
        ("upload_slot", portrait.md5, "png"),
        ("upload", hosted, upload_source(portrait)),
        ("create_asset", hosted, "hero"),
        ("asset_state", _asset(1)),
        ("asset_state", _asset(1)),
        ("asset_state", _asset(1)),
    ]
    assert clock.sleeps == [3.0, 3.0, 3.0]
    assert notes == [
        "uploading portraits/hero.png (2.0 kB)",
        "portrait 'hero': Processing at the asset library (0 s of at most 120 s)",
        "portrait 'hero': Processing at the asset library (3 s of at most 120 s)",
        "portrait 'hero': Processing at the asset library (6 s of at most 120 s)",
    ]
    assert journal.portrait(portrait.md5, HOST) == PortraitRecord(
        md5=portrait.md5, host=HOST, asset_id=_asset(1), uri=uri, status="Active", reason=None,
        source_url=hosted, name="hero", file="portraits/hero.png", registered_at=START,
        updated_at=START + 9.0,
    )  # fmt: skip

    # The next run reads the registration's state once and sends its URI.
    api.calls.clear()
    assert await hosting_for(api, journal, clock).url_for(portrait, quiet) == uri
    assert api.calls == [("asset_state", _asset(1))]


REFUSED_TEXT = (
    "portrait 'hero' (portraits/hero.png) was refused by RelayDance's asset library: the "
    "portrait shows a real person; the virtual library accepts synthetic portraits only "
    "(InputImageSensitiveContentDetected.PrivacyInformation). The library's audit accepts "
    "synthetic (generated) portraits only; a photograph of a real person needs the model "
    "provider's own consent process, which RelayDance does not offer. Use a generated portrait, "
    "or, if the image shows no real face, send it as a plain reference (remove `asset: true`). "
    "rdpipe does not register this image again: a changed image is audited anew"
)


async def test_a_failed_audit_is_reported_recorded_and_never_asked_again(
    journal: StateStore, clock: FakeClock, portrait: LocalFile
) -> None:
    """A Failed audit fails the portrait with its reason in one paragraph and is saved Failed;
    the next run reports it again without a single call to the relay."""
    api = FakeMediaHost(processing_reads=1, outcome="Failed", reason=AUDIT)
    with pytest.raises(HostingFailed) as failed:
        await hosting_for(api, journal, clock).url_for(portrait, quiet)
    assert failed.value.message == REFUSED_TEXT
    record = journal.portrait(portrait.md5, HOST)
    assert record is not None
    assert (record.status, record.reason, record.asset_id) == ("Failed", AUDIT, _asset(1))
    assert [call[0] for call in api.calls].count("create_asset") == 1

    again = FakeMediaHost()
    with pytest.raises(HostingFailed) as next_run:
        await hosting_for(again, journal, clock).url_for(portrait, quiet)
    assert next_run.value.message == REFUSED_TEXT
    assert again.calls == []


def test_refused_text_drops_a_final_stop_and_names_a_missing_reason() -> None:
    """The audit's reason goes in without its full stop; no reason reads as such."""
    assert refused_text("hero", "a.png", "Blurred face.").startswith(
        "portrait 'hero' (a.png) was refused by RelayDance's asset library: Blurred face. The "
    )
    assert refused_text("hero", "a.png", None).startswith(
        "portrait 'hero' (a.png) was refused by RelayDance's asset library: no reason given. "
    )


async def test_a_portrait_still_processing_is_kept_and_waited_for_by_the_next_run(
    journal: StateStore, clock: FakeClock, portrait: LocalFile
) -> None:
    """Still Processing after 40 reads 3 s apart: the shot fails saying so, the registration
    stays recorded, and the next run reads the same asset instead of registering again."""
    api = FakeMediaHost(processing_reads=40)
    with pytest.raises(HostingFailed) as failed:
        await hosting_for(api, journal, clock).url_for(portrait, quiet)
    assert failed.value.message == (
        "portrait 'hero' (portraits/hero.png) is still Processing at the asset library after "
        "120 s. Rerun later: rdpipe waits for the same registration, it does not register the "
        "image again"
    )
    assert [call[0] for call in api.calls].count("asset_state") == 40
    assert clock.sleeps == [3.0] * 40
    record = journal.portrait(portrait.md5, HOST)
    assert record is not None and (record.status, record.asset_id) == ("Processing", _asset(1))

    api.calls.clear()
    assert await hosting_for(api, journal, clock).url_for(portrait, quiet) == (
        f"asset://{_asset(1)}"
    )
    assert api.calls == [("asset_state", _asset(1))]
    record = journal.portrait(portrait.md5, HOST)
    assert record is not None and record.status == "Active"


async def test_an_active_portrait_the_library_lost_is_registered_again(
    journal: StateStore, clock: FakeClock, portrait: LocalFile
) -> None:
    """A recorded Active asset the library no longer knows is registered anew from the hosted
    file, and the new registration replaces the old record."""
    hosted = source_url(portrait.md5, "png")
    journal.record_hosted(portrait.md5, "png", 2000, hosted, host=HOST, expires_at=None)
    journal.record_portrait(
        PortraitRecord(
            md5=portrait.md5, host=HOST, asset_id="asset-gone", uri="asset://asset-gone",
            status="Active", reason=None, source_url=hosted, name="hero",
            file="portraits/hero.png", registered_at=START - 10.0, updated_at=START - 10.0,
        )
    )  # fmt: skip
    api = FakeMediaHost(exists={hosted: True})
    uri = await hosting_for(api, journal, clock).url_for(portrait, quiet)
    assert uri == f"asset://{_asset(1)}"
    assert api.calls == [
        ("asset_state", "asset-gone"),
        ("hosted_file_exists", hosted),
        ("create_asset", hosted, "hero"),
        ("asset_state", _asset(1)),
    ]
    record = journal.portrait(portrait.md5, HOST)
    assert record is not None
    assert (record.asset_id, record.status, record.registered_at) == (_asset(1), "Active", START)


def test_polling_every_keeps_the_default_wait_in_all() -> None:
    """Polling faster reads more often for the same 120 s; a poll longer than that reads
    once."""
    assert HostingOptions() == HostingOptions(portrait_poll=3.0, portrait_polls=40)
    assert HostingOptions.polling_every(0.5) == HostingOptions(0.5, 240)
    assert HostingOptions.polling_every(0.7).portrait_polls == 172  # 120.4 s: never less
    assert HostingOptions.polling_every(500.0).portrait_polls == 1


async def test_a_portrait_polled_every_half_second_waits_120_s(
    journal: StateStore, clock: FakeClock, portrait: LocalFile
) -> None:
    """With polling_every(0.5) a registration still Processing is given up after 240 reads,
    120 s of the fake clock."""
    api = FakeMediaHost(processing_reads=1000)
    hosting = hosting_for(api, journal, clock, options=HostingOptions.polling_every(0.5))
    with pytest.raises(HostingFailed, match=r"still Processing at the asset library after 120 s"):
        await hosting.url_for(portrait, quiet)
    assert (len(clock.sleeps), sum(clock.sleeps)) == (240, 120.0)


# Errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["upload_slot", "upload"])
async def test_a_relay_error_fails_every_shot_waiting_on_the_file(
    journal: StateStore, clock: FakeClock, video: LocalFile, where: str
) -> None:
    """A non-fatal relay error is each waiting shot's HostingFailed naming the file, met once
    per run; nothing is recorded, and the next run tries again."""
    label = f"storage.relay.test/uploads/{video.md5}.mp4"
    if where == "upload":
        error: RelayDanceError = UploadFailed(
            label, status=403, code="AccessDenied", server_message="Request has expired"
        )
        said = f"the storage refused the upload to {label} (403 AccessDenied): Request has expired."
    else:
        error = ServerError("GET /api/upload-url", 502, None, "bad gateway")
        said = "RelayDance failed while handling GET /api/upload-url (502): bad gateway"
    api = (
        FakeMediaHost(upload_error=error) if where == "upload" else FakeMediaHost(slot_error=error)
    )
    hosting = hosting_for(api, journal, clock)
    results = await _all_of([lambda: hosting.url_for(video, quiet)] * 3)
    calls = list(api.calls)
    assert [call[0] for call in calls] == ["upload_slot", "upload"][: 2 if where == "upload" else 1]
    texts = [str(result) if isinstance(result, HostingFailed) else result for result in results]
    assert texts == [f"clips/walk.mp4 could not be uploaded: {said}"] * 3
    with pytest.raises(HostingFailed):  # a fourth shot of the run: no new attempt
        await hosting.url_for(video, quiet)
    assert api.calls == calls
    assert journal.hosted(video.md5, "mp4", HOST) is None

    fixed = FakeMediaHost()
    await hosting_for(fixed, journal, clock).url_for(video, quiet)
    assert [call[0] for call in fixed.calls] == ["upload_slot", "upload"]


async def test_a_media_host_that_cannot_be_reached_fails_only_the_files_shots(
    journal: StateStore, clock: FakeClock, video: LocalFile
) -> None:
    """MediaHostUnreachable is not a run-stopping error: the file's shots fail with a
    HostingFailed that names the media host and RELAYDANCE_MEDIA_URL."""
    error = MediaHostUnreachable("GET /api/upload-url", "ConnectError: refused", host="127.0.0.1:1")
    with pytest.raises(HostingFailed) as caught:
        await hosting_for(FakeMediaHost(slot_error=error), journal, clock).url_for(video, quiet)
    assert str(caught.value) == (
        "clips/walk.mp4 could not be uploaded: could not reach the media host 127.0.0.1:1 "
        "(RELAYDANCE_MEDIA_URL) for GET /api/upload-url: ConnectError: refused; the request "
        "never left."
    )


@pytest.mark.parametrize(
    "error",
    [
        QuotaExceeded("GET /api/upload-url", 403, None, "quota exhausted"),
        NotSent("GET /api/upload-url", "connection refused"),
    ],
    ids=["quota", "not-sent"],
)
async def test_a_fatal_error_propagates_and_stops_the_run(
    journal: StateStore, clock: FakeClock, video: LocalFile, error: RelayDanceError
) -> None:
    """An error every shot would meet is raised as it is, not turned into HostingFailed."""
    api = FakeMediaHost(slot_error=error)
    with pytest.raises(type(error)) as raised:
        await hosting_for(api, journal, clock).url_for(video, quiet)
    assert raised.value is error
    assert journal.refused_extensions(HOST) == {}

    hosting = hosting_for(FakeMediaHost(slot_error=error), journal, clock)
    with pytest.raises(ExceptionGroup) as group:
        await _all_of([lambda: hosting.url_for(video, quiet)] * 3)
    assert all(isinstance(found, type(error)) for found in group.value.exceptions)


async def test_the_media_hosts_refusal_of_the_key_fails_only_the_files_shots(
    journal: StateStore, clock: FakeClock, video: LocalFile
) -> None:
    """The media host is another host than the API: its refusal of the key fails the shots
    that send local files, not the run (the others' submits do not need it)."""
    error = AuthenticationFailed("GET /api/upload-url", 401, None, "invalid token")
    with pytest.raises(HostingFailed) as failed:
        await hosting_for(FakeMediaHost(slot_error=error), journal, clock).url_for(video, quiet)
    assert failed.value.message == f"clips/walk.mp4 could not be uploaded: {error.message}"


# Cancellation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("which", "url", "calls"),
    [
        ("video", source_url, ["upload_slot", "upload"] * 2),
        (
            "portrait",
            lambda md5, ext: f"asset://{_asset(1)}",
            ["upload_slot", "upload"] * 2 + ["create_asset", "asset_state"],
        ),
    ],
    ids=["video", "portrait"],
)
async def test_a_cancelled_first_shot_leaves_the_work_to_one_waiting_shot(
    journal: StateStore,
    clock: FakeClock,
    request: pytest.FixtureRequest,
    which: str,
    url: Callable[[str, str], str],
    calls: list[str],
) -> None:
    """The shot doing the upload is cancelled mid-PUT: exactly one of the two shots waiting on
    it asks for a slot and uploads again (a portrait: registers it once), and both get the
    URL (the URI). Each waiting shot used to redo the work, PUT and registration included."""
    file: LocalFile = request.getfixturevalue(which)
    api = FakeMediaHost(gate=anyio.Event())
    hosting = hosting_for(api, journal, clock)
    results: dict[str, str] = {}
    first = anyio.CancelScope()

    async def first_shot() -> None:
        with first:
            await hosting.url_for(file, quiet)
        results["first"] = "cancelled" if first.cancelled_caught else "done"

    async def waiting_shot(name: str) -> None:
        results[name] = await hosting.url_for(file, quiet)

    async with anyio.create_task_group() as group:
        group.start_soon(first_shot)
        await anyio.wait_all_tasks_blocked()
        group.start_soon(waiting_shot, "second")
        group.start_soon(waiting_shot, "third")
        await anyio.wait_all_tasks_blocked()
        assert [call[0] for call in api.calls] == ["upload_slot", "upload"]
        first.cancel()
        await anyio.wait_all_tasks_blocked()
        assert [call[0] for call in api.calls] == ["upload_slot", "upload"] * 2
        assert api.gate is not None
        api.gate.set()
    sent = url(file.md5, file.extension)
    assert results == {"first": "cancelled", "second": sent, "third": sent}
    assert [call[0] for call in api.calls] == calls


async def test_a_shot_after_a_cancelled_one_does_the_work_itself(
    journal: StateStore, clock: FakeClock, video: LocalFile
) -> None:
    """A shot arriving after the first was cancelled (nobody waiting) hosts the file."""
    api = FakeMediaHost(gate=anyio.Event())
    hosting = hosting_for(api, journal, clock)
    async with anyio.create_task_group() as group:
        group.start_soon(hosting.url_for, video, quiet)
        await anyio.wait_all_tasks_blocked()  # in its PUT, the gate shut
        group.cancel_scope.cancel()
    assert [call[0] for call in api.calls] == ["upload_slot", "upload"]
    assert api.gate is not None
    api.gate.set()
    assert await hosting.url_for(video, quiet) == source_url(video.md5, "mp4")
    assert [call[0] for call in api.calls] == ["upload_slot", "upload"] * 2


async def test_a_refusal_is_asked_again_after_a_day(
    journal: StateStore, clock: FakeClock, video: LocalFile
) -> None:
    """A relay may start to take an extension: a refusal older than REFUSAL_MEMORY is not
    believed, the relay is asked again and, taking the file now, hosts it."""
    with pytest.raises(HostingFailed):
        await hosting_for(FakeMediaHost(refuse={"mp4": REFUSAL}), journal, clock).url_for(
            video, quiet
        )
    clock.now += REFUSAL_MEMORY - 1
    within = FakeMediaHost()
    with pytest.raises(HostingFailed):
        await hosting_for(within, journal, clock).url_for(video, quiet)
    assert within.calls == []

    clock.now += 2
    later = FakeMediaHost()
    url = await hosting_for(later, journal, clock).url_for(video, quiet)
    assert url == source_url(video.md5, "mp4")
    assert [call[0] for call in later.calls] == ["upload_slot", "upload"]


async def test_the_same_bytes_under_another_name_fail_naming_each_file(
    journal: StateStore, clock: FakeClock, video: LocalFile
) -> None:
    """Two paths holding the same bytes are hosted once; when that fails, each shot's message
    names its own file, then the one whose hosting failed."""
    twin = replace(video, shown="clips/walk-copy.mp4")
    hosting = hosting_for(FakeMediaHost(refuse={"mp4": REFUSAL}), journal, clock)
    with pytest.raises(HostingFailed):
        await hosting.url_for(video, quiet)
    with pytest.raises(HostingFailed) as failed:
        await hosting.url_for(twin, quiet)
    assert failed.value.message == (
        f"clips/walk-copy.mp4 has the same bytes as clips/walk.mp4: {NO_STORE_TEXT}"
    )


def test_the_ways_out_fit_the_file() -> None:
    """A portrait is not offered an https URL or send_as; a frame is offered
    send_images_as, a reference image send_as."""
    portrait = LocalFile(kind="image", role="reference_image", path=Path("/f/p.bmp"),
                         shown="p.bmp", size=1, md5="0" * 32, sha256="0" * 64, extension="bmp",
                         content_type="image/bmp", send_as="asset")  # fmt: skip
    frame = replace(portrait, role="last_frame", send_as="hosted")
    head = (
        "p.bmp cannot be hosted: RelayDance does not take .bmp uploads (it answered: no; rdpipe "
        "asks again 24 h after that answer) and no shared clip store is set up. "
    )
    assert no_host_text(portrait, "no", store_url=None) == head + (
        "Set up an S3, GCS or Azure store ([remote] url in rdpipe.toml), or save the portrait "
        "as PNG, JPEG or WebP"
    )
    assert no_host_text(frame, "no", store_url=None) == head + (
        "Give the file as an https URL, or set up an S3, GCS or Azure store ([remote] url in "
        "rdpipe.toml), or send it inline (send_images_as: inline)"
    )


async def test_an_error_naming_the_file_is_not_prefixed_with_it_again(
    journal: StateStore, clock: FakeClock, video: LocalFile
) -> None:
    from rdpipe.client import UploadSourceChanged

    error = UploadSourceChanged("storage", "clips/walk.mp4", "its md5 is no longer the one checked")
    with pytest.raises(HostingFailed) as failed:
        await hosting_for(FakeMediaHost(slot_error=error), journal, clock).url_for(video, quiet)
    assert failed.value.message == error.message
    assert failed.value.message.count("clips/walk.mp4") == 1


def test_a_portrait_is_offered_only_other_formats(portrait: LocalFile) -> None:
    text = no_host_text(portrait, "no", store_url=None)
    assert text.endswith(
        "Set up an S3, GCS or Azure store ([remote] url in rdpipe.toml), or save the portrait "
        "as JPEG or WebP"
    )

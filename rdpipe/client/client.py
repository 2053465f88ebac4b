"""The RelayDance client: submit a request, read a task, list models, download a clip; host a
local file (an upload URL by md5, then a ``PUT`` without the key) and register a portrait in the
asset library (issue 14); read the relay's prices, its display currency and the account's
balance (issue 15).

It takes request bodies already rendered and serialised by another layer (the JSON bytes of
``{"model", "prompt", "seconds": "5", "metadata": {...}}``) and never sees YAML. Every outside
influence enters through the constructor: the transports, ``sleep``, ``random``, the monotonic
``clock``, the ``wall_clock`` used to read ``Retry-After`` dates, and ``on_send``, called as
each request leaves (the command's :class:`rdpipe.send_record.SendRecord` counts them).

Polling reads the relay envelope ``GET /v1/video/generations/{id}`` by default, because it alone
carries the upstream seed, duration and failure reason; on 404 (a relay without that route) it
falls back to ``GET /v1/videos/{id}`` and keeps using whichever form answered.
"""

from __future__ import annotations

import logging
import random as random_module
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType

import anyio

from rdpipe.client.balance import (
    CREDITS,
    SUBSCRIPTION,
    Balance,
    credits_balance,
    credits_remaining_of,
    hard_limit_of,
    subscription_balance,
    total_usage_of,
)
from rdpipe.client.config import ClientConfig, host_of
from rdpipe.client.download import DownloadedClip, Downloader, ProgressCallback
from rdpipe.client.errors import (
    ApiError,
    AuthenticationFailed,
    BalanceUnavailable,
    GateUnavailable,
    LinkExpired,
    MalformedResponse,
    NoAnswer,
    ServerError,
    SubmitOutcomeUnknown,
    TaskNotFinished,
    TaskNotFound,
)
from rdpipe.client.http import Answer, HttpSession, Transport
from rdpipe.client.media import AssetState, UploadSlot, UploadSource
from rdpipe.client.media_host import MediaHost
from rdpipe.client.refusals import error_for_answer
from rdpipe.client.retry import (
    OnRetry,
    Retrier,
    parse_retry_after,
    should_retry_read,
    should_retry_submit,
)
from rdpipe.client.shapes import (
    ModelEntry,
    ModelListUnreadable,
    TaskState,
    TaskStatus,
    is_known_status,
    parse_models,
    parse_task,
    parse_task_id,
)
from rdpipe.client.upload import ProgressReport, Uploader
from rdpipe.prices import (
    Currency,
    PriceBook,
    PricingUnreadable,
    error_of,
    parse_currency,
    parse_price_book,
)

SUBMIT_PATH = "/v1/video/generations"
ENVELOPE_PATH = "/v1/video/generations/{task_id}"
VIDEO_OBJECT_PATH = "/v1/videos/{task_id}"
CONTENT_PATH = "/v1/videos/{task_id}/content"
MODELS_PATH = "/v1/models"
PRICING_PATH = "/api/pricing"
STATUS_PATH = "/api/status"
SUBSCRIPTION_PATH = "/v1/dashboard/billing/subscription"
USAGE_PATH = "/v1/dashboard/billing/usage"
CREDITS_PATH = "/v1/credits"

logger = logging.getLogger("rdpipe.client")


class RelayDanceClient:
    """An async client of the RelayDance video API; use it as ``async with``.

    ``transport`` reaches the API, ``storage_transport`` the storage hosts (clip downloads,
    uploads to presigned URLs), ``media_transport`` the media host when its origin is not the
    API's (by default, ``transport``).
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        transport: Transport | None = None,
        storage_transport: Transport | None = None,
        media_transport: Transport | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        random: random_module.Random | None = None,
        clock: Callable[[], float] = anyio.current_time,
        wall_clock: Callable[[], float] = time.time,
        on_send: Callable[[], None] | None = None,
        on_retry: OnRetry | None = None,
    ) -> None:
        """``on_retry`` is told of each retry of a request before its wait (``rdpipe -v``)."""
        self.config = config
        self._session = HttpSession(
            config,
            transport=transport,
            storage_transport=storage_transport,
            media_transport=media_transport,
            on_send=on_send,
        )
        self._retrier = Retrier(
            config.retry,
            sleep=sleep,
            random=random or random_module.Random(),
            clock=clock,
            on_retry=on_retry,
        )
        self._wall_clock = wall_clock
        self._downloader = Downloader(self._session, self._retrier, wall_clock)
        self._uploader = Uploader(self._session, self._retrier, wall_clock)
        self._media = MediaHost(self._session, self._retrier, wall_clock)
        self._task_paths = [ENVELOPE_PATH, VIDEO_OBJECT_PATH]
        self._unknown_statuses: set[str] = set()

    @property
    def api_host(self) -> str:
        """``host[:port]`` of the API, without any user info: recorded with each submit."""
        return host_of(self.config.base_url)

    @property
    def media_host(self) -> str:
        """``host[:port]`` of the media host (upload URLs, the asset library), without any
        user info: the run state records what it hosts under it."""
        return host_of(self.config.media_url)

    async def __aenter__(self) -> RelayDanceClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close both connection pools."""
        await self._session.aclose()

    async def submit(self, body: bytes) -> str:
        """Submit one generation request and return its task id.

        ``body`` is the JSON body, already serialised: it is sent byte for byte. Retried only
        when the request provably created nothing (no connection, a 429, or the concurrency
        gate unavailable: 503 ``token_concurrency_unavailable``, raised as
        :class:`GateUnavailable` when the retries run out). The gate's own 429 raises
        :class:`ConcurrencyLimitReached` at once, not retried: nothing was created, and the
        caller lowers its concurrency. When it was sent and no clear answer came back, raises
        :class:`SubmitOutcomeUnknown`.
        """
        operation = f"POST {SUBMIT_PATH}"

        async def attempt() -> Answer:
            return self._checked(
                await self._session.send("POST", SUBMIT_PATH, operation=operation, body=body)
            )

        try:
            answer = await self._retrier.run(
                operation, self._session.api_host, attempt, retry_on=should_retry_submit
            )
            task_id = parse_task_id(answer.json())
        except GateUnavailable:
            raise  # refused before the relay handled it: provably nothing was created
        except (NoAnswer, ServerError, MalformedResponse) as error:
            raise SubmitOutcomeUnknown(operation, _why_unknown(error)) from error
        if task_id is None:
            raise SubmitOutcomeUnknown(operation, "the answer carried no task id")
        logger.info("submitted task %s", task_id)
        return task_id

    async def get_task(self, task_id: str) -> TaskStatus:
        """Read the task's current status, in whichever form the server offers.

        The envelope form (§3) is asked first: only it carries the settled charge
        (:attr:`TaskStatus.settled_quota`) and the upstream status. The concurrency gate's 429
        raises :class:`ConcurrencyLimitReached` at once (not retried: the caller's gate
        decides); other 429s and 5xx are retried.
        """
        for index, template in enumerate(self._task_paths):
            try:
                answer = await self._read(template.format(task_id=task_id), task_id=task_id)
            except TaskNotFound as error:
                if error.status != 404 or index == len(self._task_paths) - 1:
                    raise
                continue
            if index:  # remember the form that answered, so later polls go there first
                self._task_paths.insert(0, self._task_paths.pop(index))
            return self._status_from(answer, task_id)
        raise AssertionError("unreachable: the loop returns or raises")

    async def list_models(self) -> list[ModelEntry]:
        """List the models the server offers. Raises :class:`MalformedResponse` for an answer
        that is not a model list (:func:`~rdpipe.client.shapes.parse_models`), and the
        client's errors when no answer came."""
        answer = await self._read(MODELS_PATH)
        try:
            return parse_models(answer.json())
        except ModelListUnreadable as error:
            raise MalformedResponse(answer.operation, str(error)) from error

    async def get_price_book(self) -> PriceBook:
        """The relay's price list: ``GET /api/pricing`` (§11, public; the key goes with it, as
        to any API path), read with :func:`rdpipe.prices.parse_price_book`.

        Retried like any read. Raises :class:`PricingUnreadable` for an answer that is not
        new-api's price list (not JSON, ``success: false``, no ``data`` list), and the client's
        errors (:class:`ApiError`, :class:`NotSent`...) when no answer came: a relay without
        the route answers 404.
        """
        answer = await self._read(PRICING_PATH)
        try:
            document = answer.json()
        except MalformedResponse as error:
            raise PricingUnreadable("the answer is not JSON") from error
        return parse_price_book(document)

    async def get_currency(self) -> Currency:
        """The account's display currency: ``GET /api/status`` (§11, public), read with
        :func:`rdpipe.prices.parse_currency` (fields missing: US dollars, 500,000 quota units
        each). Retried like any read; :class:`MalformedResponse` when the answer is not JSON."""
        return parse_currency((await self._read(STATUS_PATH)).json())

    async def get_balance(self) -> Balance:
        """The account's balance (§13), from the first way that answers.

        First ``GET /v1/dashboard/billing/subscription`` and ``GET /v1/dashboard/billing/usage``
        (remaining = ``hard_limit_usd`` - ``total_usage`` / 100; ``source``
        ``"billing/subscription"``), then ``GET /v1/credits`` (``data.total_usage`` is the
        remaining amount; ``source`` ``"credits"``). Amounts are in the relay's display unit
        (:mod:`rdpipe.client.balance`); 100,000,000 means ``unlimited``. Each read is retried
        like any read. An HTTP 200 carrying ``{"error": {...}}``, an error status or an answer
        without its figure moves on to the other way; when neither answers, raises
        :class:`BalanceUnavailable` with what each said. A refused key
        (:class:`AuthenticationFailed`) and a relay that cannot be reached (:class:`NotSent`,
        :class:`NoAnswer`) raise at once.
        """
        failures: list[tuple[str, str]] = []
        last: BaseException | None = None
        for read in (self._subscription_balance, self._credits_balance):
            try:
                return await read()
            except AuthenticationFailed:
                raise
            except BalanceUnavailable as error:
                failures += error.failures
                last = error
            except (ApiError, MalformedResponse) as error:
                failures.append((_endpoint_of(error.operation), _balance_reason(error)))
                last = error
            logger.info("the balance could not be read: %s", failures[-1][1])
        raise BalanceUnavailable(tuple(failures)) from last

    async def _subscription_balance(self) -> Balance:
        limit = hard_limit_of(await self._balance_document(SUBSCRIPTION_PATH, SUBSCRIPTION))
        if limit is None:
            raise BalanceUnavailable(((SUBSCRIPTION, "its answer has no hard_limit_usd"),))
        usage = total_usage_of(await self._balance_document(USAGE_PATH, "billing/usage"))
        if usage is None:
            raise BalanceUnavailable((("billing/usage", "its answer has no total_usage"),))
        return subscription_balance(limit, usage)

    async def _credits_balance(self) -> Balance:
        remaining = credits_remaining_of(await self._balance_document(CREDITS_PATH, CREDITS))
        if remaining is None:
            raise BalanceUnavailable(((CREDITS, "its answer has no data.total_usage"),))
        return credits_balance(remaining)

    async def _balance_document(self, path: str, endpoint: str) -> object:
        """The JSON of a balance endpoint; its 200-with-error is :class:`BalanceUnavailable`."""
        document = (await self._read(path)).json()
        said = error_of(document)
        if said is not None:
            raise BalanceUnavailable(((endpoint, said),))
        return document

    async def download(
        self,
        task_id: str,
        dest: Path,
        *,
        video_url: str | None = None,
        through_api: bool = False,
        on_progress: ProgressCallback | None = None,
    ) -> DownloadedClip:
        """Download the finished clip of ``task_id`` to ``dest`` and return its size and hash.

        If the storage link has expired, the task is read again for a fresh link, and as a last
        resort the clip is streamed through the API (``GET /v1/videos/{id}/content``), where
        ``through_api`` goes at once: for a clip that storage sent broken.
        """
        fetch = self._downloader.fetch
        if through_api:
            content = CONTENT_PATH.format(task_id=task_id)
            return await fetch(content, dest, on_progress=on_progress, task_id=task_id)
        if video_url is None:
            video_url = await self._finished_url(task_id)
        try:
            return await fetch(video_url, dest, on_progress=on_progress, task_id=task_id)
        except LinkExpired as error:
            logger.info("%s; asking task %s for a fresh link", error.message, task_id)
        fresh = await self.get_task(task_id)
        if fresh.video_url and fresh.video_url != video_url:
            try:
                return await fetch(fresh.video_url, dest, on_progress=on_progress, task_id=task_id)
            except LinkExpired as error:
                logger.info("%s; streaming task %s through the API", error.message, task_id)
        content = CONTENT_PATH.format(task_id=task_id)
        return await fetch(content, dest, on_progress=on_progress, task_id=task_id)

    async def upload_slot(self, md5: str, ext: str) -> UploadSlot:
        """Ask the media host where the file with ``md5`` (32 lower-case hex digits) and
        extension ``ext`` (``"png"``; a leading dot and capitals are dropped) goes.

        When ``exists`` is true the bytes are hosted already; the caller decides. Retried like
        a read. Raises :class:`UploadRefused` when the media host takes no such file (or has no
        upload route), :class:`AuthenticationFailed` when it refuses the key, and
        ``ValueError`` for a malformed md5 or extension.
        """
        return await self._media.upload_slot(md5, ext)

    async def upload(
        self,
        slot: UploadSlot,
        source: UploadSource,
        *,
        on_progress: ProgressReport | None = None,
    ) -> None:
        """``PUT`` ``source`` to ``slot.upload_url``, streamed, never with the key.

        Only ``Content-Type: slot.content_type`` and the length go with it. Retried from the
        start on a connection failure, a 408, a 429 or a 5xx; ``on_progress(bytes sent so
        far)`` after each chunk. Raises :class:`UploadSourceChanged` (before the last byte
        leaves) when the bytes read are not those checked (``source.size``, ``source.md5``),
        :class:`UploadFailed` on another 4xx (with the storage's code and message), when the
        file cannot be read or the storage reached, or when it is still busy (408/429) after
        the retries; :class:`ServerError` or :class:`NoAnswer` when the retries run out.
        """
        await self._uploader.put(slot, source, on_progress)

    async def hosted_file_exists(self, url: str) -> bool | None:
        """Whether the hosted file at ``url`` is still there, asked without the key:
        ``True``, ``False`` (403/404/410), or ``None`` when it cannot tell."""
        return await self._uploader.exists(url)

    async def create_asset(self, source_url: str, *, name: str = "") -> AssetState:
        """Register the hosted image at ``source_url`` in the asset library (its audit then
        runs); its state right after, usually ``Processing``. Retried only when it provably
        created nothing."""
        return await self._media.create_asset(source_url, name)

    async def asset_state(self, asset_id: str) -> AssetState:
        """The current state of a registered portrait; raises :class:`AssetNotFound`."""
        return await self._media.asset_state(asset_id)

    async def _finished_url(self, task_id: str) -> str:
        status = await self.get_task(task_id)
        if status.state is not TaskState.SUCCEEDED:
            raise TaskNotFinished(task_id, status.state.value)
        return status.video_url or CONTENT_PATH.format(task_id=task_id)

    async def _read(self, path: str, *, task_id: str | None = None) -> Answer:
        operation = f"GET {path}"

        async def attempt() -> Answer:
            return self._checked(
                await self._session.send("GET", path, operation=operation), task_id
            )

        return await self._retrier.run(
            operation, self._session.api_host, attempt, retry_on=should_retry_read
        )

    def _checked(self, answer: Answer, task_id: str | None = None) -> Answer:
        """Return a 2xx answer; raise the typed error for anything else."""
        if answer.status < 300:
            return answer
        retry_after = parse_retry_after(answer.headers.get("retry-after"), self._wall_clock())
        raise error_for_answer(
            answer.operation, answer.status, answer.text, retry_after=retry_after, task_id=task_id
        )

    def _status_from(self, answer: Answer, task_id: str) -> TaskStatus:
        document = answer.json()
        if isinstance(document, dict) and document.get("data", "") is None and document.get("code"):
            # A relay-style error delivered with a 2xx status.
            raise error_for_answer(answer.operation, 400, answer.text, task_id=task_id)
        status = parse_task(document, task_id)
        if (
            not is_known_status(status.raw_status)
            and status.raw_status not in self._unknown_statuses
        ):
            self._unknown_statuses.add(status.raw_status)
            logger.warning(
                "task %s has status %r, which rdpipe does not know; treating it as pending",
                task_id,
                status.raw_status,
            )
        return status


def _endpoint_of(operation: str) -> str:
    """``GET /v1/dashboard/billing/usage`` -> ``billing/usage``; ``GET /v1/credits`` ->
    ``credits``."""
    path = operation.split(" ", 1)[-1]
    return path.removeprefix("/v1/").removeprefix("dashboard/")


def _balance_reason(error: ApiError | MalformedResponse) -> str:
    if isinstance(error, MalformedResponse):
        return error.problem
    label = f"{error.status} {error.code}" if error.code else str(error.status)
    said = f": {error.server_message}" if error.server_message else ""
    return f"it answered {label}{said}"


def _why_unknown(error: NoAnswer | ServerError | MalformedResponse) -> str:
    if isinstance(error, NoAnswer):
        return error.reason
    if isinstance(error, ServerError):
        said = f": {error.server_message}" if error.server_message else ""
        return f"the server answered {error.status}{said}"
    return error.problem

"""The media host's routes: upload URLs by md5, and the asset library (relaydance-api.md §9, §10).

They carry the key (the routes are authenticated) and go to ``ClientConfig.media_url``. Reads
(an upload URL, an asset's state) are retried like the API's reads (connection failures, 408,
429 with its ``Retry-After``, 5xx); registering a portrait is retried only when it provably
created nothing (as a submit is), since a lost answer would leave an asset the run does not
know of. A media host that cannot be reached is :class:`MediaHostUnreachable` once the retries
run out: it concerns the shots with files to host, not the whole run. Error bodies lose URL
query strings before they become messages: a relay may quote a presigned URL it refuses.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from rdpipe.client.errors import (
    ApiError,
    AssetNotFound,
    AuthenticationFailed,
    InvalidRequest,
    MediaHostUnreachable,
    RelayDanceError,
    UploadRefused,
)
from rdpipe.client.http import Answer, HttpSession, without_queries
from rdpipe.client.media import (
    AssetState,
    Refusal,
    UploadSlot,
    check_md5,
    normalise_extension,
    parse_asset_state,
    parse_upload_slot,
    unwrap,
)
from rdpipe.client.refusals import error_for_answer, read_error_body
from rdpipe.client.retry import Retrier, parse_retry_after, should_retry_read, should_retry_submit

UPLOAD_URL_PATH = "/api/upload-url"
CREATE_ASSET_PATH = "/api/assets/virtual/create"
ASSET_STATUS_PATH = "/api/assets/{asset_id}/status"

#: Statuses of ``GET /api/upload-url`` that mean "not this kind of file" (404: no route).
_REFUSED = frozenset({400, 404, 415, 422})


def _retry_read(error: RelayDanceError) -> bool:
    """A read's policy; a media host that could not be reached sent nothing: tried again."""
    return isinstance(error, MediaHostUnreachable) or should_retry_read(error)


def _retry_create(error: RelayDanceError) -> bool:
    """A registration's policy: again only when it provably created nothing."""
    return isinstance(error, MediaHostUnreachable) or should_retry_submit(error)


class MediaHost:
    """Asks the media host for upload URLs and registers portraits, under the retry policy."""

    def __init__(
        self, session: HttpSession, retrier: Retrier, wall_clock: Callable[[], float]
    ) -> None:
        self._session = session
        self._retrier = retrier
        self._wall_clock = wall_clock

    async def upload_slot(self, md5: str, ext: str) -> UploadSlot:
        """Where the file with ``md5`` and extension ``ext`` goes; raises
        :class:`UploadRefused` when the media host takes no such file (or no upload at all)."""
        params = {"ext": normalise_extension(ext), "md5": check_md5(md5)}
        operation = f"GET {UPLOAD_URL_PATH}"
        answer = await self._call("GET", UPLOAD_URL_PATH, operation, params=params)
        data = self._object(answer, params["ext"])
        return parse_upload_slot(data, operation)

    async def create_asset(self, source_url: str, name: str) -> AssetState:
        """Register the hosted image at ``source_url`` as a portrait; its state right after."""
        body = {"source_url": source_url, "asset_type": "Image", "name": name}
        operation = f"POST {CREATE_ASSET_PATH}"
        answer = await self._call(
            "POST", CREATE_ASSET_PATH, operation, body=json.dumps(body).encode(), creates=True
        )
        return parse_asset_state(self._object(answer), operation)

    async def asset_state(self, asset_id: str) -> AssetState:
        """The current state of portrait ``asset_id``; raises :class:`AssetNotFound`."""
        path = ASSET_STATUS_PATH.format(asset_id=quote(asset_id, safe=""))
        operation = f"GET {ASSET_STATUS_PATH.format(asset_id=asset_id)}"
        try:
            answer = await self._call("GET", path, operation)
            data = self._object(answer)
        except ApiError as error:
            refused = error.status < 300 and "not found" in error.server_message.lower()
            if error.status == 404 or refused:
                raise AssetNotFound(asset_id) from error
            raise
        return parse_asset_state(data, operation, asset_id)

    async def _call(
        self,
        method: str,
        path: str,
        operation: str,
        *,
        body: bytes | None = None,
        params: Mapping[str, str] | None = None,
        creates: bool = False,
    ) -> Answer:
        extension = params.get("ext") if params else None

        async def attempt() -> Answer:
            answer = await self._session.send_media(
                method, path, operation=operation, body=body, params=params
            )
            if answer.status >= 300:
                raise self._error(answer, extension)
            return answer

        retry_on = _retry_create if creates else _retry_read
        host = self._session.media_host
        return await self._retrier.run(operation, host, attempt, retry_on=retry_on)

    def _object(self, answer: Answer, extension: str | None = None) -> Mapping[str, Any]:
        """The answer's object, flat or wrapped; a ``success: false`` one (new-api answers
        some with 200) raised as the refusal a 400 with that message would be."""
        found = unwrap(answer.json(), answer.operation)
        if not isinstance(found, Refusal):
            return found
        message = without_queries(found.message)
        if extension is not None:
            reason = message or f"GET {UPLOAD_URL_PATH} said no"
            host = self._session.media_host
            raise UploadRefused(extension, reason, status=answer.status, host=host)
        raise InvalidRequest(answer.operation, answer.status, None, message)

    def _error(self, answer: Answer, extension: str | None) -> ApiError | UploadRefused:
        """The error for a status of 300 or more."""
        text = without_queries(answer.text)
        if extension is not None and answer.status in _REFUSED:
            return UploadRefused(
                extension,
                self._refusal_reason(answer.status, text),
                status=answer.status,
                host=self._session.media_host,
            )
        retry_after = parse_retry_after(answer.headers.get("retry-after"), self._wall_clock())
        error = error_for_answer(answer.operation, answer.status, text, retry_after=retry_after)
        if answer.status == 403 and "quota" not in (error.code or "").lower():
            # The media routes answer a key they do not accept with 403 as well as 401.
            return AuthenticationFailed(answer.operation, 403, error.code, error.server_message)
        return error

    def _refusal_reason(self, status: int, text: str) -> str:
        if status == 404:
            return (
                f"{self._session.media_host} has no upload route "
                f"(GET {UPLOAD_URL_PATH} answered 404)"
            )
        _, message = read_error_body(text)
        return message or f"GET {UPLOAD_URL_PATH} answered {status}"

"""The only module that imports httpx: requests out, answers and byte streams back.

Swapping the HTTP library means rewriting this file alone. httpx exceptions are translated
where they enter, chained with ``from``: a request that could not be built (a header value or
URL the library refuses) becomes :class:`RequestNotBuilt` and a connection that never opened
:class:`NotSent`, both "never sent"; anything that fails after the request may have left becomes
:class:`NoAnswer`. Reasons are redacted with the client's own key, since h11 quotes a refused
header whole. Error statuses are *not* raised here; callers decide what they mean. Each request
is reported to ``on_send`` as it leaves, so the command knows whether it has sent anything.

Two httpx clients are used: one for the API host, which adds the key, and one without any
credentials for the storage host that serves signed video URLs. A URL is fetched with the key
only when its origin is the API's own. The media host (upload URLs, the asset library) gets the
key too: through the API's pool when it has the API's origin, else through a third pool, made
on first use. Uploads (``PUT`` to a presigned URL) and looks at hosted files always go through
the storage pool, whatever their origin: they never carry the key.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterable, AsyncIterator, Callable, Generator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx

from rdpipe.client.config import ClientConfig
from rdpipe.client.errors import (
    MalformedResponse,
    MediaHostUnreachable,
    NoAnswer,
    NotSent,
    RequestNotBuilt,
)
from rdpipe.redaction import Redactor

Transport = httpx.AsyncBaseTransport
"""The network seam: tests pass ``httpx.MockTransport`` or ``httpx.ASGITransport``."""

_NEVER_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)
_ERROR_BODY_LIMIT = 64 * 1024

#: Idle connections kept per origin when the pool has no limit: enough for a few hundred
#: tasks in flight.
KEEPALIVE = 256


#: Raised while the request is put together, before a byte of it leaves: h11 refuses a header
#: value (a key with a line break), httpx a URL or text it cannot encode.
_NOT_BUILT = (httpx.LocalProtocolError, httpx.InvalidURL, UnicodeError)


#: A URL's query string (a presigned URL's signature), also inside JSON with escaped slashes.
_QUERY = re.compile(r"(https?:(?:\\?/){2}[^\s?#\"'<>]*)\?[^\s#\"'<>]*")


def without_queries(text: str) -> str:
    """``text`` with the query string of every http(s) URL in it removed: a signed URL's
    query is a credential for its object, and no message shows one."""
    return _QUERY.sub(r"\1", text)


#: What each timeout's phase was waiting for, in a reason's words.
_TIMEOUT_PHASES: tuple[tuple[type[httpx.TimeoutException], str, str], ...] = (
    (httpx.ConnectTimeout, "connect", "the connection did not open within {} s"),
    (httpx.ReadTimeout, "read", "timed out after {} s waiting for the answer"),
    (httpx.WriteTimeout, "write", "timed out after {} s sending the request"),
    (httpx.PoolTimeout, "pool", "no free connection within {} s"),
)
_REFUSED = ("all connection attempts failed", "connection refused")
_UNRESOLVED = ("name or service not known", "nodename nor servname", "name resolution")


def plain_reason(error: Exception) -> str:
    """Why an HTTP exchange failed, in a user's words, never a Python class name: ``timed out
    after 60 s waiting for the answer``, ``connection refused``, ``the connection closed
    mid-answer``; else the library's own sentence."""
    said = str(error)
    if isinstance(error, httpx.TimeoutException):
        seconds = _timeout_of(error)
        for kind, phase, words in _TIMEOUT_PHASES:
            if isinstance(error, kind):
                limit = seconds.get(phase)
                if limit:
                    return words.format(f"{limit:g}")
                return words.replace("after {} s ", "").replace(" within {} s", "")
        return "timed out"
    if isinstance(error, httpx.ConnectError):
        if any(words in said.lower() for words in _REFUSED) or not said:
            return "connection refused"
        if any(words in said.lower() for words in _UNRESOLVED):
            return "the host name could not be resolved"
        return f"the connection could not be opened ({said})"
    if isinstance(error, httpx.RemoteProtocolError):
        return "the connection closed mid-answer"
    if isinstance(error, httpx.ReadError | httpx.WriteError):
        phase = "the answer was read" if isinstance(error, httpx.ReadError) else "it was sent"
        return f"the connection broke while {phase}" + (f" ({said})" if said else "")
    return said or "the HTTP exchange failed"


def _timeout_of(error: httpx.TimeoutException) -> dict[str, float]:
    """The request's timeouts in seconds, by phase (empty when the error carries none)."""
    try:
        limits = error.request.extensions.get("timeout", {})
    except RuntimeError:  # raised outside a request
        return {}
    return {phase: float(v) for phase, v in limits.items() if isinstance(v, int | float)}


def _translate(error: Exception, operation: str, redactor: Redactor) -> NotSent | NoAnswer:
    reason = without_queries(redactor.redact(plain_reason(error)))
    if isinstance(error, _NOT_BUILT):
        return RequestNotBuilt(operation, reason)
    if isinstance(error, _NEVER_SENT):
        return NotSent(operation, reason)
    return NoAnswer(operation, reason)


def origin(url: str) -> tuple[str, str, int | None]:
    """Return the scheme, host and port of ``url``, with default ports filled in."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def url_label(url: str) -> str:
    """Name ``url`` for messages and logs: host and path, never the (signed) query string."""
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}"


@dataclass(frozen=True)
class Answer:
    """A complete, small answer: status, headers and the body as text."""

    status: int
    headers: Mapping[str, str]
    text: str
    operation: str

    def json(self) -> Any:
        """Parse the body as JSON, or raise :class:`MalformedResponse`."""
        try:
            return json.loads(self.text)
        except ValueError as error:
            raise MalformedResponse(self.operation, "the body is not JSON") from error


class _BearerAuth(httpx.Auth):
    """Adds the key per request, so it sits in no default header and follows no redirect.
    An empty key (:meth:`ClientConfig.public_from_environ`, for public reads) adds none."""

    def __init__(self, config: ClientConfig) -> None:
        self._key = config.api_key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._key.reveal():
            request.headers["Authorization"] = f"Bearer {self._key.reveal()}"
        yield request


class BodyStream:
    """An answer whose body is read in chunks, for downloads of any size."""

    def __init__(self, response: httpx.Response, operation: str, redactor: Redactor) -> None:
        self._response = response
        self.operation = operation
        self._redactor = redactor
        self.status = response.status_code
        self.headers: Mapping[str, str] = response.headers

    async def chunks(self) -> AsyncIterator[bytes]:
        """Yield the body as it arrives, undecoded, nothing held back."""
        try:
            async for chunk in self._response.aiter_raw():
                yield chunk
        except httpx.HTTPError as error:
            raise _translate(error, self.operation, self._redactor) from error

    async def error_text(self) -> str:
        """Read up to 64 KiB of an error body as text."""
        collected = bytearray()
        async for chunk in self.chunks():
            collected += chunk
            if len(collected) >= _ERROR_BODY_LIMIT:
                break
        return collected.decode("utf-8", errors="replace")


async def _read_text(response: httpx.Response, limit: int) -> str:
    """Up to about ``limit`` bytes of ``response``'s body, decoded, as text."""
    collected = bytearray()
    async for chunk in response.aiter_bytes():
        collected += chunk
        if len(collected) >= limit:
            break
    return collected.decode("utf-8", errors="replace")


class _StreamContext:
    def __init__(
        self,
        session: HttpSession,
        client: httpx.AsyncClient,
        url: str,
        headers: Mapping[str, str],
        operation: str,
    ) -> None:
        self._session = session
        self._url = url
        self._headers = dict(headers)
        self._client = client
        self._operation = operation
        self._response: httpx.Response | None = None

    async def __aenter__(self) -> BodyStream:
        redactor = self._session.redactor
        try:
            request = self._client.build_request("GET", self._url, headers=self._headers)
            self._session.on_send()
            self._response = await self._client.send(request, stream=True, follow_redirects=True)
        except (httpx.HTTPError, *_NOT_BUILT) as error:
            raise _translate(error, self._operation, redactor) from error
        return BodyStream(self._response, self._operation, redactor)

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._response is not None:
            await self._response.aclose()


def _nothing() -> None:
    return None


def _limits(pool_size: int | None) -> httpx.Limits:
    """``pool_size`` connections per host, all kept alive; without a size, no limit and
    :data:`KEEPALIVE` kept alive (httpx keeps only 20 by default)."""
    if pool_size is None:
        return httpx.Limits(max_connections=None, max_keepalive_connections=KEEPALIVE)
    return httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size)


class HttpSession:
    """The client's two connection pools: the API host (with the key) and storage (without).

    ``on_send`` is called as each request leaves, before its first byte (and before it is
    known whether the connection opens).
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        transport: Transport | None = None,
        storage_transport: Transport | None = None,
        media_transport: Transport | None = None,
        on_send: Callable[[], None] | None = None,
    ) -> None:
        self.on_send = on_send or _nothing
        self.redactor = Redactor((config.api_key.reveal(),))
        t = config.timeouts
        timeout = httpx.Timeout(connect=t.connect, read=t.read, write=t.write, pool=t.pool)
        self.base_url = config.base_url
        self.media_url = config.media_url
        self._config = config
        self._timeout = timeout
        self._media_transport = media_transport or transport
        limits = _limits(config.pool_size)
        self._api = httpx.AsyncClient(
            base_url=config.base_url,
            auth=_BearerAuth(config),
            transport=transport,
            timeout=timeout,
            limits=limits,
        )
        self._storage = httpx.AsyncClient(
            transport=storage_transport, timeout=timeout, limits=limits
        )
        same_origin = origin(config.media_url) == origin(config.base_url)
        self._media: httpx.AsyncClient | None = self._api if same_origin else None

    @property
    def api_host(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def media_host(self) -> str:
        return urlsplit(self.media_url).netloc

    def is_api_url(self, url: str) -> bool:
        """Say whether ``url`` (absolute, or a path on the API) belongs to the API origin."""
        return not urlsplit(url).netloc or origin(url) == origin(self.base_url)

    async def send(
        self, method: str, path: str, *, operation: str, body: bytes | None = None
    ) -> Answer:
        """Send one request to the API host and read the whole answer; ``body`` is JSON."""
        return await self._send_json(self._api, method, path, operation, body)

    async def _send_json(
        self,
        client: httpx.AsyncClient,
        method: str,
        url: str,
        operation: str,
        body: bytes | None,
        params: Mapping[str, str] | None = None,
    ) -> Answer:
        """One request with a JSON body (if any) through ``client``, its answer read whole;
        a failure translated to :class:`NotSent` or :class:`NoAnswer`."""
        headers = None if body is None else {"Content-Type": "application/json"}
        try:
            request = client.build_request(
                method, url, content=body, headers=headers, params=params
            )
            self.on_send()
            response = await client.send(request)
        except (httpx.HTTPError, *_NOT_BUILT) as error:
            raise _translate(error, operation, self.redactor) from error
        return Answer(response.status_code, response.headers, response.text, operation)

    async def send_media(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        body: bytes | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Answer:
        """Send one request to the media host (with the key) and read the whole answer.

        A connection that never opened is :class:`MediaHostUnreachable` (not :class:`NotSent`:
        only the files to host are concerned, and its message names ``RELAYDANCE_MEDIA_URL``).
        """
        url = self.media_url.rstrip("/") + path
        client = self._media_client()
        try:
            return await self._send_json(client, method, url, operation, body, params)
        except NotSent as error:
            if isinstance(error, RequestNotBuilt):
                raise
            # Names the media host and its variable; not NotSent, which stops a whole run.
            raise MediaHostUnreachable(operation, error.reason, host=self.media_host) from error

    async def send_storage(
        self,
        method: str,
        url: str,
        *,
        operation: str,
        headers: Mapping[str, str] | None = None,
        content: AsyncIterable[bytes] | None = None,
        body_limit: int = _ERROR_BODY_LIMIT,
    ) -> Answer:
        """Send one request without any credentials, through the storage pool whatever the
        origin of ``url``, and read at most ``body_limit`` bytes of the answer's body.

        ``content`` is streamed as it is iterated (give ``Content-Length`` in ``headers``, or
        it goes chunked). Redirects are followed for reads, not for anything that sends a body.
        """
        try:
            request = self._storage.build_request(method, url, headers=headers, content=content)
            self.on_send()
            response = await self._storage.send(
                request, stream=True, follow_redirects=content is None
            )
        except (httpx.HTTPError, *_NOT_BUILT) as error:
            raise _translate(error, operation, self.redactor) from error
        try:
            text = await _read_text(response, body_limit) if body_limit else ""
        except httpx.HTTPError as error:
            raise _translate(error, operation, self.redactor) from error
        finally:
            await response.aclose()
        return Answer(response.status_code, response.headers, text, operation)

    def _media_client(self) -> httpx.AsyncClient:
        if self._media is None:
            self._media = httpx.AsyncClient(
                auth=_BearerAuth(self._config),
                transport=self._media_transport,
                timeout=self._timeout,
                limits=_limits(self._config.pool_size),
            )
        return self._media

    def stream(
        self, url: str, *, operation: str, headers: Mapping[str, str] | None = None
    ) -> _StreamContext:
        """Open a GET whose body is read in chunks; the key is sent to the API origin only."""
        client = self._api if self.is_api_url(url) else self._storage
        return _StreamContext(self, client, url, headers or {}, operation)

    async def aclose(self) -> None:
        await self._api.aclose()
        await self._storage.aclose()
        if self._media is not None and self._media is not self._api:
            await self._media.aclose()

"""The storage origin: serves finished clips at signed, expiring URLs, like an object store,
and the media host's files (:mod:`rdpipe.sim.uploads`).

It is a separate app on its own port, so a client that sends its API key there can be caught
(every request is logged with its headers).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from rdpipe.sim.clips import ClipResponse, ClipSource
from rdpipe.sim.faults import Faults, StoredBody
from rdpipe.sim.media_host import MediaHost
from rdpipe.sim.middleware import ConnectionDropped
from rdpipe.sim.responses import xml_error
from rdpipe.sim.signing import UrlSigner
from rdpipe.sim.uploads import hosted_file_routes

CLIP_PREFIX = "/clips/"


class ClipLookup(Protocol):
    """Finds the clip stored under an object name (an upstream ``cgt-`` id)."""

    def stored_clip(self, name: str) -> ClipSource | None: ...

    @property
    def faults(self) -> Faults: ...


def clip_path(name: str) -> str:
    """The storage path of the clip stored under ``name``."""
    return f"{CLIP_PREFIX}{name}.mp4"


async def replaced_body(replacement: StoredBody, clip: ClipSource) -> Response:
    """A 200 carrying ``replacement`` instead of the clip (see :attr:`Faults.stored_body`)."""
    data = replacement.data
    if data is None:
        data = b"".join([chunk async for chunk in clip.read(0, clip.size)])
    if replacement.fraction is not None:
        cut = data[: int(len(data) * replacement.fraction)]
        return _UnannouncedResponse(cut, 200, media_type=replacement.content_type)
    if replacement.declared_length is None:
        return Response(data, 200, media_type=replacement.content_type)
    response = _ShortResponse(data, 200, media_type=replacement.content_type)
    response.headers["content-length"] = str(replacement.declared_length)
    return response


class _ShortResponse(Response):
    """Announces more bytes than it sends, then drops the connection (a server dying mid-body)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})  # fmt: skip
        await send({"type": "http.response.body", "body": self.body, "more_body": True})
        raise ConnectionDropped("simulated short body")


class _UnannouncedResponse(Response):
    """A body sent with no ``Content-Length``, then the connection closed: it looks complete."""

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        super().init_headers(headers)
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self.raw_headers.append((b"connection", b"close"))


def build_storage_app(
    clips: ClipLookup, signer: UrlSigner, clock: Callable[[], float], media: MediaHost
) -> Starlette:
    """The storage origin's ASGI app: clips at ``/clips/``, and the media host's files."""

    async def download(request: Request) -> Response:
        path = request.url.path
        refusal = signer.refusal(path, request.query_params, clock())
        if refusal is not None:
            return xml_error(403, "AccessDenied", refusal)
        name = request.path_params["name"]
        clip = clips.stored_clip(name)
        if clip is None:
            return xml_error(404, "NoSuchKey", "The specified key does not exist.")
        head = request.method == "HEAD"
        replacement = clips.faults.stored_body
        if replacement is not None and "storage" in replacement.endpoints:
            return await replaced_body(replacement, clip)
        return ClipResponse(clip, request.headers.get("range"), head=head)

    routes = [
        Route(CLIP_PREFIX + "{name}.mp4", download, methods=["GET", "HEAD"]),
        *hosted_file_routes(media),
    ]
    return Starlette(routes=routes)

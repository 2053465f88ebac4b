"""The storage origin: serves finished clips at signed, expiring URLs, like an object store.

It is a separate app on its own port, so a client that sends its API key there can be caught
(every request is logged with its headers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rdpipe.sim.clips import ClipResponse, ClipSource
from rdpipe.sim.signing import UrlSigner

CLIP_PREFIX = "/clips/"


class ClipLookup(Protocol):
    """Finds the clip stored under an object name (an upstream ``cgt-`` id)."""

    def stored_clip(self, name: str) -> ClipSource | None: ...


def clip_path(name: str) -> str:
    """The storage path of the clip stored under ``name``."""
    return f"{CLIP_PREFIX}{name}.mp4"


def _xml_error(status: int, code: str, message: str) -> Response:
    body = f"<?xml version='1.0' encoding='UTF-8'?>\n<Error><Code>{code}</Code>"
    body += f"<Message>{message}</Message></Error>"
    return Response(body, status_code=status, media_type="application/xml")


def build_storage_app(
    clips: ClipLookup, signer: UrlSigner, clock: Callable[[], float]
) -> Starlette:
    """The storage origin's ASGI app."""

    async def download(request: Request) -> Response:
        path = request.url.path
        refusal = signer.refusal(path, request.query_params, clock())
        if refusal is not None:
            return _xml_error(403, "AccessDenied", refusal)
        name = request.path_params["name"]
        clip = clips.stored_clip(name)
        if clip is None:
            return _xml_error(404, "NoSuchKey", "The specified key does not exist.")
        head = request.method == "HEAD"
        return ClipResponse(clip, request.headers.get("range"), head=head)

    routes = [Route(CLIP_PREFIX + "{name}.mp4", download, methods=["GET", "HEAD"])]
    return Starlette(routes=routes)

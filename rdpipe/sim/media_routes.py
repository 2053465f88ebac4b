"""The media host's routes on the API origin: upload slots and the asset library (§9, §10).

They want the same bearer key as the ``/v1`` routes and answer errors as
``{"success": false, "message"}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from rdpipe.sim.auth import authorize
from rdpipe.sim.media_host import MediaHost
from rdpipe.sim.responses import media_error


def media_routes(
    media: MediaHost, api_key: str | None, url_lifetime: Callable[[], float]
) -> list[Route]:
    """The three routes; ``url_lifetime()`` is how long an upload URL issued now stays valid."""

    async def upload_url(request: Request) -> Response:
        authorize(request, api_key)
        query = request.query_params
        expires = int(media.clock() + url_lifetime())
        slot = media.upload_slot(query.get("md5", ""), query.get("ext", ""), expires)
        return JSONResponse(slot)

    async def create_asset(request: Request) -> Response:
        authorize(request, api_key)
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise media_error(400, "request body is not valid JSON") from None
        return JSONResponse(media.create_asset(body))

    async def asset_status(request: Request) -> Response:
        authorize(request, api_key)
        return JSONResponse(media.asset_view(request.path_params["asset_id"]))

    return [
        Route("/api/upload-url", upload_url, methods=["GET"]),
        Route("/api/assets/virtual/create", create_asset, methods=["POST"]),
        Route("/api/assets/{asset_id}/status", asset_status, methods=["GET"]),
    ]

"""The media host's files on the storage origin: presigned ``PUT /uploads/<md5>.<ext>`` and
``GET|HEAD /media/<md5>.<ext>`` (issue 14's design, wire contract items 2 and 3).

A ``PUT`` is refused, S3-style, when it carries an ``Authorization`` header (the API key must
never reach the storage), when its signature is bad or expired, when its ``Content-Type`` is
not the one issued for the extension, or when the body's md5 is not the one in its name. A
refused request's body is still read (and thrown away), so a client that sends it whole gets
the answer rather than a broken pipe.
"""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from rdpipe.sim.clips import ClipResponse, FileClip
from rdpipe.sim.media import CONTENT_TYPES, MEDIA_PREFIX, UPLOAD_PREFIX, split_hosted_name
from rdpipe.sim.media_host import MediaHost
from rdpipe.sim.responses import xml_error

KEY_REFUSED = "Only one auth mechanism allowed: a presigned URL takes no Authorization header"
BAD_DIGEST = "The MD5 of the body did not match the one in the object name."
NO_SUCH_KEY = "The specified key does not exist."


def hosted_file_routes(media: MediaHost) -> list[Route]:
    """The upload route and the route serving hosted files."""

    async def upload(request: Request) -> Response:
        refusal = _refusal(request, media)
        if refusal is not None:
            await _drain(request)
            return refusal
        name = request.path_params["name"]
        md5 = name.split(".", 1)[0]
        try:
            written = await media.hosted.receive(name, md5, request.stream())
        except ClientDisconnect:
            return Response(b"", status_code=400)  # nobody is left to read it
        if not written:
            return xml_error(400, "BadDigest", BAD_DIGEST)
        return Response(b"", status_code=200, headers={"etag": f'"{md5}"'})

    async def serve(request: Request) -> Response:
        name = request.path_params["name"]
        path = media.hosted.path(name)
        parts = split_hosted_name(name)
        if path is None or parts is None:
            return xml_error(404, "NoSuchKey", NO_SUCH_KEY)
        try:
            return ClipResponse(FileClip(path), request.headers.get("range"),
                                head=request.method == "HEAD",
                                content_type=CONTENT_TYPES[parts[1]])  # fmt: skip
        except FileNotFoundError:  # removed since it was looked up
            return xml_error(404, "NoSuchKey", NO_SUCH_KEY)

    return [
        Route(UPLOAD_PREFIX + "{name}", upload, methods=["PUT"]),
        Route(MEDIA_PREFIX + "{name}", serve, methods=["GET", "HEAD"]),
    ]


def _refusal(request: Request, media: MediaHost) -> Response | None:
    """The error a ``PUT`` gets before its body is looked at, or ``None`` if it may proceed."""
    if "authorization" in request.headers:
        return xml_error(403, "AccessDenied", KEY_REFUSED)
    refusal = media.signer.refusal(request.url.path, request.query_params, media.clock())
    parts = split_hosted_name(request.path_params["name"])
    if refusal is not None or parts is None:
        return xml_error(403, "AccessDenied", refusal or "Request is missing a signature")
    wanted = CONTENT_TYPES[parts[1]]
    given = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if given != wanted:
        message = f"Content-Type must be {wanted} for .{parts[1]} (got {given or 'none'})"
        return xml_error(400, "InvalidContentType", message)
    return None


async def _drain(request: Request) -> None:
    """Read and discard the body, a chunk at a time."""
    try:
        async for _ in request.stream():
            pass
    except ClientDisconnect:
        return

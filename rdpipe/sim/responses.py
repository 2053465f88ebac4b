"""The error formats the relay speaks, and the exception that carries one out of a handler.

Auth and routing errors are OpenAI style, ``{"error": {"message", "type", "code"}}``; task
endpoint errors are relay style, ``{"code", "message", "data": null}``. An upstream rejection
is relay style with the upstream's own JSON as the message. The media host's routes answer
``{"success": false, "message"}``; the storage origin answers S3-style XML (:func:`xml_error`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse, Response

from rdpipe.errors import RdpipeError

JsonObject = dict[str, Any]


class Rejection(RdpipeError):
    """A request the simulated service refuses; it becomes one HTTP error response."""

    def __init__(
        self, status: int, payload: JsonObject, headers: Mapping[str, str] | None = None
    ) -> None:
        self.status = status
        self.payload = payload
        self.headers = dict(headers or {})
        super().__init__(f"HTTP {status}: {json.dumps(payload, ensure_ascii=False)}")

    def to_response(self) -> JSONResponse:
        """The response a client sees."""
        return JSONResponse(self.payload, status_code=self.status, headers=self.headers)


def openai_error(
    status: int,
    message: str,
    *,
    kind: str = "new_api_error",
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Rejection:
    """An OpenAI-style error, as the gateway answers auth and routing problems."""
    error: JsonObject = {"message": message, "type": kind}
    if code is not None:
        error["code"] = code
    return Rejection(status, {"error": error}, headers)


def relay_error(status: int, code: str, message: str) -> Rejection:
    """A relay-style error, as the task endpoints answer."""
    return Rejection(status, {"code": code, "message": message, "data": None})


def upstream_rejection(message: str, *, param: str, code: str = "InvalidParameter") -> Rejection:
    """A 400 from the upstream model service, wrapped by the relay with its JSON as message."""
    upstream = {
        "error": {"code": code, "message": message, "param": param, "type": "BadRequest"},
    }
    return relay_error(400, "upstream_error", json.dumps(upstream, ensure_ascii=False))


def invalid_request(message: str) -> Rejection:
    """The relay's own 400 for a malformed submit."""
    return relay_error(400, "invalid_request", message)


def media_error(status: int, message: str) -> Rejection:
    """The media host's error (``/api/upload-url``, ``/api/assets/...``)."""
    return Rejection(status, {"success": False, "message": message})


def xml_error(status: int, code: str, message: str) -> Response:
    """The storage origin's error: ``<Error><Code>..</Code><Message>..</Message></Error>``."""
    body = f"<?xml version='1.0' encoding='UTF-8'?>\n<Error><Code>{code}</Code>"
    body += f"<Message>{message}</Message></Error>"
    return Response(body, status_code=status, media_type="application/xml")

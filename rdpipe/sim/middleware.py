"""The ASGI layer in front of both origins: it records every request and injects faults.

Order of events for one request: count and log it, draw its fault, then either answer with the
fault at once (429; 5xx on a GET), or run the real handler and spoil its response (5xx on a
POST after the task was created; a delay before the status line; a body cut short, after which
the connection is closed without a complete response).
"""

from __future__ import annotations

from typing import Protocol

import anyio
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rdpipe.sim.faults import FaultDecision, FaultInjector, FaultKind
from rdpipe.sim.recorder import RecordedRequest, RequestRecorder, classify

DROP_FRACTION = 0.5
TRUNCATE_FRACTION = 0.9
RATE_LIMIT_MESSAGE = "当前分组上游负载已饱和，请稍后再试 (upstream saturated, try again later)"  # noqa: RUF001


class ConnectionDropped(Exception):
    """Raised inside the ASGI app on purpose, so the server closes the connection mid-body."""


class FaultSource(Protocol):
    """Where the middleware gets the current fault injector (it is replaceable at runtime)."""

    @property
    def injector(self) -> FaultInjector: ...


class FaultMiddleware:
    """Wraps one origin's app (``origin`` is ``"api"`` or ``"storage"``)."""

    def __init__(
        self, app: ASGIApp, *, origin: str, recorder: RequestRecorder, faults: FaultSource
    ) -> None:
        self.app = app
        self.origin = origin
        self.recorder = recorder
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        endpoint, key = classify(self.origin, method, path)
        body = self.recorder.record(_recorded(scope, self.origin, key))
        receive = self._recording(receive, body)
        decision = self.faults.injector.decide(endpoint) if endpoint else FaultDecision()
        await self._apply(decision, scope, receive, send)

    async def _apply(
        self, decision: FaultDecision, scope: Scope, receive: Receive, send: Send
    ) -> None:
        kind = decision.kind
        answers_first = kind is FaultKind.RATE_LIMIT or (
            kind is FaultKind.SERVER_ERROR and scope["method"] != "POST"
        )
        if answers_first:
            await anyio.sleep(decision.delay)
            await self._fault_response(decision)(scope, receive, send)
            return
        if decision.delay:
            send = _delayed(send, decision.delay)
        if kind is FaultKind.SERVER_ERROR:
            await self.app(scope, receive, _discard)
            await self._fault_response(decision)(scope, receive, send)
            return
        if kind in (FaultKind.DROP, FaultKind.TRUNCATE):
            fraction = DROP_FRACTION if kind is FaultKind.DROP else TRUNCATE_FRACTION
            send = _cutting(send, fraction)
        await self.app(scope, receive, send)

    def _fault_response(self, decision: FaultDecision) -> Response:
        retry_after = self.faults.injector.faults.retry_after
        headers = {}
        if decision.kind is FaultKind.RATE_LIMIT and retry_after is not None:
            headers["retry-after"] = str(retry_after)
        if self.origin == "storage":
            code = "SlowDown" if decision.status == 429 else "InternalError"
            xml = f"<Error><Code>{code}</Code><Message>simulated</Message></Error>"
            return Response(xml, decision.status, headers, media_type="application/xml")
        if decision.status == 429:
            error = {"message": RATE_LIMIT_MESSAGE, "type": "new_api_error",
                     "code": "rate_limit_exceeded"}  # fmt: skip
        else:
            error = {"message": f"simulated upstream error (status code {decision.status})",
                     "type": "new_api_error", "code": "bad_response_status_code"}  # fmt: skip
        return JSONResponse({"error": error}, decision.status, headers)

    def _recording(self, receive: Receive, body: bytearray) -> Receive:
        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self.recorder.append_body(body, message.get("body", b""))
            return message

        return recording_receive


def _recorded(scope: Scope, origin: str, key: str) -> RecordedRequest:
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        name_text = name.decode("latin-1").lower()
        value_text = value.decode("latin-1")
        headers[name_text] = (
            f"{headers[name_text]}, {value_text}" if name_text in headers else value_text
        )
    query = scope.get("query_string", b"").decode("latin-1")
    return RecordedRequest(scope["method"], scope["path"], query, origin, key, headers, b"")


async def _discard(message: Message) -> None:
    """A ``send`` that throws the real response away (the 5xx replaces it)."""


def _delayed(send: Send, delay: float) -> Send:
    async def delayed_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            await anyio.sleep(delay)
        await send(message)

    return delayed_send


def _cutting(send: Send, fraction: float) -> Send:
    """A ``send`` that stops after ``fraction`` of the declared body and drops the connection."""
    state = {"left": -1}

    async def cutting_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            state["left"] = int(_content_length(message) * fraction)
            await send(message)
            return
        if message["type"] != "http.response.body":
            await send(message)
            return
        chunk: bytes = message.get("body", b"")
        if len(chunk) < state["left"]:
            state["left"] -= len(chunk)
            await send({**message, "more_body": True})
            return
        await send({"type": "http.response.body", "body": chunk[: state["left"]],
                    "more_body": True})  # fmt: skip
        raise ConnectionDropped("simulated connection drop")

    return cutting_send


def _content_length(message: Message) -> int:
    for name, value in message.get("headers", []):
        if name.lower() == b"content-length":
            return int(value)
    return 0

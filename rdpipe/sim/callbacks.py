"""Webhook delivery: POST a finished task's state to its ``metadata.callback_url``.

A minimal HTTP/1.1 client over an anyio TCP stream (``http://`` only): the simulator talks to
receivers on the local machine, and rdpipe keeps httpx inside its client layer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio

CALLBACK_TIMEOUT = 5.0


@dataclass(frozen=True)
class CallbackDelivery:
    """One webhook POST: where it went, the body, and the receiver's status (0 if none)."""

    url: str
    body: dict[str, Any]
    status: int
    error: str | None = None


async def post_json(url: str, body: dict[str, Any]) -> CallbackDelivery:
    """POST ``body`` to ``url``; never raises, reports failures in the result."""
    try:
        with anyio.fail_after(CALLBACK_TIMEOUT):
            status = await _post(url, json.dumps(body).encode())
    except (OSError, TimeoutError, ValueError, anyio.EndOfStream) as error:
        return CallbackDelivery(url, body, 0, f"{type(error).__name__}: {error}")
    return CallbackDelivery(url, body, status)


async def _post(url: str, payload: bytes) -> int:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"the simulator can only call back http:// URLs, not {url!r}")
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    host = parts.hostname
    port = parts.port or 80
    head = (
        f"POST {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        "User-Agent: rdpipe-sim\r\nConnection: close\r\n\r\n"
    )
    async with await anyio.connect_tcp(host, port) as stream:
        await stream.send(head.encode() + payload)
        status_line = await _read_status_line(stream)
    fields = status_line.split(b" ", 2)
    if len(fields) < 2 or not fields[1].isdigit():
        raise ValueError(f"not an HTTP response: {status_line[:60]!r}")
    return int(fields[1])


async def _read_status_line(stream: anyio.abc.ByteStream) -> bytes:
    received = b""
    while b"\r\n" not in received and len(received) < 8192:
        received += await stream.receive()
    return received.split(b"\r\n", 1)[0]

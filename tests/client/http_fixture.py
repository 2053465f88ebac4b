"""A small real HTTP server on 127.0.0.1 that answers from a script and counts what arrives.

Unlike :class:`tests.client.mock_server.Script` (an ``httpx.MockTransport``), requests cross a
real socket: the client is used as a run uses it, with its own transports. Replies are queued
per ``(method, path)``; the last one repeats. Each request is recorded as it arrives, so a test
counts at the server what the client sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a status, a JSON (or text) body and extra headers."""

    status: int
    body: Any = None
    text: str | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def payload(self) -> bytes:
        if self.text is not None:
            return self.text.encode()
        return json.dumps(self.body, ensure_ascii=False).encode()


@dataclass(frozen=True)
class Arrived:
    """A request as the server received it."""

    method: str
    path: str
    authorization: str | None
    body: bytes


@dataclass
class ScriptedServer:
    """The script and the record; :attr:`base_url` once serving."""

    base_url: str = ""
    replies: dict[tuple[str, str], list[Reply]] = field(default_factory=dict)
    arrived: list[Arrived] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, path: str, *replies: Reply) -> None:
        with self.lock:
            self.replies.setdefault((method, path), []).extend(replies)

    def json(self, method: str, path: str, status: int, body: Any, **headers: str) -> None:
        self.add(method, path, Reply(status, body, headers=tuple(headers.items())))

    def count(self, method: str, path: str) -> int:
        with self.lock:
            return sum(1 for a in self.arrived if a.method == method and a.path == path)

    def paths(self) -> list[str]:
        with self.lock:
            return [f"{a.method} {a.path}" for a in self.arrived]

    def answer(self, arrived: Arrived) -> Reply:
        with self.lock:
            self.arrived.append(arrived)
            queue = self.replies.get((arrived.method, arrived.path))
            if not queue:
                return Reply(404, {"error": {"message": "no such route"}})
            return queue.pop(0) if len(queue) > 1 else queue[0]


def _handler(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.split("?", 1)[0]
            arrived = Arrived(self.command, path, self.headers.get("Authorization"), body)
            reply = server.answer(arrived)
            payload = reply.payload()
            self.send_response(reply.status)
            content_type = "text/plain" if reply.text is not None else "application/json"
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: object) -> None:
            return None

    return Handler


def serve_script() -> Iterator[ScriptedServer]:
    """Serve a fresh :class:`ScriptedServer` on 127.0.0.1 (a free port) until closed."""
    script = ScriptedServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
    httpd.daemon_threads = True
    script.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield script
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)

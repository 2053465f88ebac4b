"""A real HTTP server on 127.0.0.1 that answers ``GET /v1/models`` with whatever a test says
(a malformed list, HTML, a cut-off body) and records every request it gets."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class LyingModels:
    """What ``GET /v1/models`` answers (``status``, ``body``, ``content_type``; ``cut``: send
    only the body's first half and close the connection, its length announced whole;
    ``delay``: seconds before answering), and the requests received (``"GET /v1/models"``...)."""

    body: bytes = b'{"data": []}'
    status: int = 200
    content_type: str = "application/json"
    cut: bool = False
    delay: float = 0.0
    requests: list[str] = field(default_factory=list)
    base_url: str = ""


def _handler(liar: LyingModels) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return None

        def _answer(self) -> None:
            liar.requests.append(f"{self.command} {self.path}")
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            if self.command != "GET" or self.path.split("?")[0] != "/v1/models":
                body, status, kind = b'{"error": {"message": "not here"}}', 404, "application/json"
            else:
                body, status, kind = liar.body, liar.status, liar.content_type
                time.sleep(liar.delay)
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if liar.cut:
                self.wfile.write(body[: len(body) // 2])
                self.close_connection = True
                return
            self.wfile.write(body)

        do_GET = do_POST = _answer

    return Handler


@contextmanager
def lying_models(liar: LyingModels) -> Iterator[LyingModels]:
    """Serve ``liar`` on a free port of 127.0.0.1 (its ``base_url`` set) until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(liar))
    server.daemon_threads = True
    liar.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield liar
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

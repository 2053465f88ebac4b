"""Listening sockets for rdpipe's local servers (simulator, review page, webhook receiver)."""

from __future__ import annotations

import socket


def listen_tcp(host: str, port: int, *, backlog: int = 128) -> socket.socket:
    """A bound, listening, non-blocking TCP socket; raises ``OSError`` if it cannot be had.

    The protocol is given as IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on accepted
    sockets whose protocol says TCP, and without it every response after a connection's first
    waits about 40 ms for a delayed ACK (Nagle).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock

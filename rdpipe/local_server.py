"""rdpipe's local HTTP servers under uvicorn, which leave Ctrl-C (and SIGTERM) to rdpipe.

``uvicorn.Server.serve``, run in the main thread (the offline simulator and the ``--listen``
webhook receiver serve inside the run's own event loop), replaces the SIGINT and SIGTERM
handlers while it serves, puts back on exit the ones it found (two servers stopping in the
order they started leave the first one's stale handler installed), and re-raises each signal
it caught once it has shut down gracefully. rdpipe's Ctrl-C watch
(:func:`rdpipe.cli.run_session.interruptible`) then heard one Ctrl-C twice, as the wake-up byte
of the signal itself and again from the re-raise, and took the second for "Ctrl-C again": it
exited at once without saying "interrupted". A :class:`LocalServer` never touches signal
handlers; rdpipe stops it (``should_exit``, or cancelling its task) when its own handling says
so.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn


class LocalServer(uvicorn.Server):
    """A ``uvicorn.Server`` that serves with the process's signal handlers left as they are."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Take over no signal: the command that started the server handles them."""
        yield

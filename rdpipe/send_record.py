"""Whether one command has sent a request yet, and the error that carries that fact to the CLI.

The README promises exit 2 for "invalid input, nothing was sent". A folder rdpipe cannot write
is found sometimes before anything goes out (a read-only pipeline folder stops the run at its
run lock) and sometimes after (a disk that fills while clips download). The code that runs a
command's work makes one :class:`SendRecord`, gives :meth:`SendRecord.note` to the client as
its ``on_send`` (the HTTP layer calls it as each request leaves), and does the work inside
:meth:`SendRecord.marking`: an error escaping after the first request is wrapped in
:class:`StoppedAfterSending`, so the CLI reads the fact from the error it catches.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class StoppedAfterSending(ExceptionGroup[Exception]):
    """The errors that stopped a command after it had sent at least one request.

    It adds nothing to what they say: it only tells the CLI that "nothing was sent" (exit 2)
    no longer holds.
    """


class SendRecord:
    """How many requests one command has sent; one per command, never shared between them."""

    __slots__ = ("_count",)

    def __init__(self) -> None:
        self._count = 0

    def note(self) -> None:
        """Count a request that is leaving (the client's ``on_send``)."""
        self._count += 1

    @property
    def count(self) -> int:
        """Requests sent so far."""
        return self._count

    @contextmanager
    def marking(self) -> Iterator[None]:
        """Raise an error that escapes the block after a request was sent as
        :class:`StoppedAfterSending`; before the first request, raise it unchanged."""
        try:
            yield
        except Exception as error:
            if not self._count:
                raise
            raise StoppedAfterSending("stopped after sending requests", [error]) from None

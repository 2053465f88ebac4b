"""Whether this command has sent a request yet: before the first, a problem exits 2.

The README promises exit 2 for "invalid input, nothing was sent". A folder rdpipe cannot write
is found sometimes before anything goes out (a read-only pipeline folder stops the run at its
run lock) and sometimes after (a disk that fills while clips download). The HTTP layer notes
the first request here as it leaves; the CLI asks when it turns such an error into an exit code.
One flag for the process, since a process runs one command.
"""

from __future__ import annotations

import threading

_sent = threading.Event()


def note_sent() -> None:
    """Record that a request is leaving (called by the HTTP layer, the only sender)."""
    _sent.set()


def anything_sent() -> bool:
    """Whether a request has left since the command started."""
    return _sent.is_set()


def forget_sent() -> None:
    """Start counting again, for a new command (the CLI calls it as each command starts)."""
    _sent.clear()

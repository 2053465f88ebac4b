"""A test mode for the client's waits: a clock that only moves when the client sleeps.

Pass ``sleep=fake.sleep, clock=fake.clock`` to :class:`~rdpipe.client.RelayDanceClient` and
read back ``fake.waits``: retries then take no real time and every wait is on record.
"""

from __future__ import annotations

import anyio.lowlevel


class RecordingClock:
    """A virtual monotonic clock whose :meth:`sleep` records the wait and jumps ahead."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.waits: list[float] = []

    def clock(self) -> float:
        """Return the virtual time in seconds."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Record ``seconds`` and advance the virtual time by it, without really waiting."""
        self.waits.append(seconds)
        self.now += max(0.0, seconds)
        await anyio.lowlevel.checkpoint()

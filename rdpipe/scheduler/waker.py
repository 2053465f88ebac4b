"""Lets a webhook cut a task's polling wait short: pollers sleep on it, deliveries wake them."""

from __future__ import annotations

import anyio


class Waker:
    """Per-label sleeps that :meth:`wake` ends early; waking a label nobody sleeps on is a no-op.

    Must be used from the event loop's thread (the webhook receiver runs in the same loop).
    """

    def __init__(self) -> None:
        self._events: dict[str, anyio.Event] = {}
        self.woken = 0

    async def sleep(self, label: str, seconds: float) -> None:
        """Sleep up to ``seconds``, or until ``wake(label)``."""
        event = anyio.Event()
        self._events[label] = event
        try:
            with anyio.move_on_after(seconds):
                await event.wait()
        finally:
            if self._events.get(label) is event:
                del self._events[label]

    def wake(self, label: str) -> bool:
        """End the current sleep of ``label``; returns whether anything was sleeping."""
        event = self._events.pop(label, None)
        if event is None:
            return False
        event.set()
        self.woken += 1
        return True

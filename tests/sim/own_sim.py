"""A simulator of the test's own, for settings the shared one cannot change (balance, gate,
display currency): fast timing, one tiny clip served for every task (no render), and an httpx
client with its key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from rdpipe.sim import SimConfig, SimServer, Timing, run_simulator

KEY = "sk-own"
_CLIP_BYTES = b"\x00\x00\x00\x18ftypmp42 a stand-in clip"


@contextmanager
def own_simulator(folder: Path, **settings: Any) -> Iterator[tuple[SimServer, httpx.Client]]:
    """Serve a simulator built with ``settings`` (SimConfig fields); yield it and a client."""
    clip = folder / "clip.mp4"
    clip.write_bytes(_CLIP_BYTES)
    config = SimConfig(**{"api_key": KEY, "timing": Timing.fast(), "clip_file": clip, **settings})
    headers = {"Authorization": f"Bearer {KEY}"}
    with (
        run_simulator(config) as server,
        httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as client,
    ):
        yield server, client

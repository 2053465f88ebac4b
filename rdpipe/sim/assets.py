"""The asset library: portraits registered from hosted images, audited after a delay.

An asset's status is a function of its record and the clock, like a task's lifecycle: it reads
``Processing`` until ``ready_at``, then ``Failed`` (with the audit's reason) or ``Active``.
Both are fixed when the asset is created, from the :class:`~rdpipe.sim.media.MediaRules` then
in force.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from typing import Any

PROCESSING = "Processing"
ACTIVE = "Active"
FAILED = "Failed"
URI_SCHEME = "asset://"


@dataclass(frozen=True)
class Asset:
    """One registered portrait; times are simulator-clock seconds.

    ``failure`` is the audit's reason when it will fail, else ``None``.
    """

    id: str
    source_url: str
    name: str
    created_at: float
    ready_at: float
    failure: str | None

    @property
    def uri(self) -> str:
        """The ``asset://`` URI a submit cites it by."""
        return f"{URI_SCHEME}{self.id}"

    def status(self, now: float) -> str:
        """``Processing``, ``Active`` or ``Failed`` at clock time ``now``."""
        if now < self.ready_at:
            return PROCESSING
        return FAILED if self.failure is not None else ACTIVE

    def view(self, now: float) -> dict[str, Any]:
        """The status body: ``id``, ``status``, ``uri`` and, when ``Failed``, ``reason``."""
        status = self.status(now)
        body: dict[str, Any] = {"id": self.id, "status": status, "uri": self.uri}
        if status == FAILED:
            body["reason"] = self.failure
        return body


class AssetLibrary:
    """The registered assets, by id; thread-safe. Ids are ``asset-`` plus 24 random hex digits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._assets: dict[str, Asset] = {}

    def create(
        self, source_url: str, name: str, *, now: float, delay: float, failure: str | None
    ) -> Asset:
        """Register an asset created at ``now`` that settles ``delay`` seconds later."""
        with self._lock:
            asset_id = f"asset-{secrets.token_hex(12)}"
            while asset_id in self._assets:  # 96 random bits: a guarantee, not an expectation
                asset_id = f"asset-{secrets.token_hex(12)}"
            asset = Asset(asset_id, source_url, name, now, now + delay, failure)
            self._assets[asset_id] = asset
        return asset

    def get(self, asset_id: str) -> Asset | None:
        """The asset with ``asset_id``, or ``None``."""
        with self._lock:
            return self._assets.get(asset_id)

    def all(self) -> list[Asset]:
        """Every asset, oldest first."""
        with self._lock:
            return list(self._assets.values())

"""The handle a running simulator gives its owner: addresses, observations and knobs."""

from __future__ import annotations

from typing import Any

from rdpipe.sim.billing import Charge
from rdpipe.sim.callbacks import CallbackDelivery
from rdpipe.sim.catalog import MODELS
from rdpipe.sim.faults import Faults
from rdpipe.sim.media import MediaRules
from rdpipe.sim.recorder import RecordedRequest
from rdpipe.sim.state import SimState

DEFAULT_SYNTHETIC_MODEL = "doubao-seedance-2-0-480p"


class SimServer:
    """A running simulator. Every method is safe to call from any thread."""

    def __init__(self, state: SimState, base_url: str, storage_url: str) -> None:
        self._state = state
        self.base_url = base_url
        self.storage_url = storage_url

    @property
    def api_key(self) -> str | None:
        """The bearer key the API wants (``None``: any key)."""
        return self._state.config.api_key

    @property
    def faults(self) -> Faults:
        """The faults now injected; assign a new :class:`Faults` to change them."""
        return self._state.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._state.faults = faults

    @property
    def media_rules(self) -> MediaRules:
        """The media host's rules now in force; assign a new :class:`MediaRules` to change them.

        Assets already created keep the delay and verdict of the rules they were created under.
        """
        return self._state.media.rules

    @media_rules.setter
    def media_rules(self, rules: MediaRules) -> None:
        self._state.media.rules = rules

    def hosted_files(self) -> dict[str, int]:
        """The files the media host serves, as name (``<md5>.<ext>``) to size in bytes."""
        return self._state.media.hosted.sizes()

    def remove_hosted(self, name: str) -> None:
        """Delete the hosted file ``name``: its ``/media/`` URL answers 404 afterwards.

        Raises ``KeyError`` when no file is hosted under ``name``.
        """
        self._state.media.hosted.remove(name)

    def assets(self) -> list[dict[str, Any]]:
        """The asset library, oldest first: ``id``, ``status`` (now), ``source_url``, ``uri``,
        ``name``, and ``reason`` when ``Failed``."""
        return self._state.media.asset_list()

    def counters(self) -> dict[str, int]:
        """Requests received so far, by endpoint key (see :func:`rdpipe.sim.recorder.classify`)."""
        return self._state.recorder.counters()

    def requests(self) -> list[RecordedRequest]:
        """The requests received so far (the last 10,000), oldest first."""
        return self._state.recorder.requests()

    def created_task_ids(self) -> list[str]:
        """Ids of the tasks created by ``POST /v1/video/generations``, in order."""
        return self._state.created_task_ids()

    def callbacks(self) -> list[CallbackDelivery]:
        """Webhook POSTs made so far, in order."""
        return self._state.callbacks()

    def charges(self) -> list[Charge]:
        """What each submitted task was charged, oldest first, settled as of now: the
        pre-charge held, and the settled charge of a finished task (0 and ``refunded`` for a
        failure)."""
        self._state.settle(self._state.clock())
        return self._state.account.charges()

    def balance_quota(self) -> int | None:
        """The account's remaining balance in quota units, settled as of now (``None``: no
        limit)."""
        self._state.settle(self._state.clock())
        return self._state.account.remaining

    def used_quota(self) -> int:
        """Quota units spent so far, pre-charges still held included."""
        self._state.settle(self._state.clock())
        return self._state.account.used

    @property
    def gate_rejections(self) -> int:
        """Requests the concurrency gate answered 429 ``token_concurrency_limit_reached``."""
        return self._state.gate.counts().rejections

    @property
    def gate_unavailable(self) -> int:
        """Requests the concurrency gate answered 503 ``token_concurrency_unavailable``."""
        return self._state.gate.counts().unavailable

    @property
    def peak_in_flight(self) -> int:
        """The most requests of one key the gate let in at once (0 without a limit)."""
        return self._state.gate.counts().peak

    def renders(self) -> int:
        """How many clips were rendered (cache hits do not count)."""
        return self._state.cache.renders

    def clear_observations(self) -> None:
        """Forget counters, logged requests, created task ids, webhook deliveries and the
        concurrency gate's counters.

        Hosted files, assets and the account's balance and charges stay, as on the relay.
        """
        self._state.clear_observations()

    def add_completed_task(self, content_size: int, *, model: str = DEFAULT_SYNTHETIC_MODEL) -> str:
        """Add a task that finished long ago; its clip is ``content_size`` synthetic bytes.

        The bytes are streamed in chunks, never held in memory whole; byte ``n`` is ``n % 251``
        (see :func:`rdpipe.sim.synthetic_bytes`). Returns the task id.
        """
        if model not in MODELS:
            raise ValueError(f"unknown model {model!r}")
        if content_size < 0:
            raise ValueError("content_size must not be negative")
        return self._state.add_completed_task(content_size, model)

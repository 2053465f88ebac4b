"""Fault injection: which requests go wrong, and how, decided by a seeded random generator.

A :class:`Faults` value says what to break; a :class:`FaultInjector` draws the decisions for
one request at a time from ``random.Random(seed)``, so a sequence of requests meets the same
faults on every run. Replacing the faults of a running simulator starts a fresh injector.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from rdpipe.sim.failures import TaskFailure, failure_for

ACCOUNT_ENDPOINTS = frozenset({"pricing", "status", "balance"})
ENDPOINTS = (
    frozenset(
        {"submit", "video", "generation", "content", "models", "storage", "upload_url", "assets"}
    )
    | ACCOUNT_ENDPOINTS
)
"""Short endpoint names that faults can target (see :attr:`Faults.endpoints`).

``storage`` is every request to the storage origin (clip downloads, uploads, hosted files);
``upload_url`` is ``GET /api/upload-url``; ``assets`` is both asset-library routes;
``pricing`` is ``GET /api/pricing``, ``status`` ``GET /api/status`` and ``balance`` the three
balance routes (:data:`ACCOUNT_ENDPOINTS`: faults reach these only when named).
"""

DOWNLOAD_ENDPOINTS = frozenset({"content", "storage"})


def _check_rate(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"Faults.{name} must be between 0 and 1, got {value}")


@dataclass(frozen=True)
class StoredBody:
    """What the storage origin sends, with status 200, in place of a clip.

    ``data=None`` sends the clip's own bytes (under another ``content_type``: a mislabelled
    clip). ``declared_length``, larger than the body, is a ``Content-Length`` to claim: the
    connection is cut after the body, as by a server that died mid-way. ``fraction`` sends only
    that share of the body, with no ``Content-Length``, and closes the connection: the body
    ends cleanly, so only its content shows it is short (issue 11 §3). ``endpoints`` are the
    downloads answered so: ``storage``, and ``content`` for ``GET /v1/videos/{id}/content``.
    """

    content_type: str
    data: bytes | None = None
    declared_length: int | None = None
    fraction: float | None = None
    endpoints: frozenset[str] = frozenset({"storage"})

    def __post_init__(self) -> None:
        if self.fraction is not None:
            _check_rate("StoredBody.fraction", self.fraction)
        unknown = sorted(set(self.endpoints) - DOWNLOAD_ENDPOINTS)
        if unknown:
            raise ValueError(f"StoredBody.endpoints: {unknown} are not downloads")


@dataclass(frozen=True)
class Faults:
    """What the simulator breaks on purpose; the default breaks nothing.

    Request faults (``server_error_rate``, ``rate_limit_*``, ``drop_rate``, ``truncate_rate``,
    ``delay``) hit only the endpoints in ``endpoints`` (short names from :data:`ENDPOINTS`;
    ``None`` means all but the account routes of :data:`ACCOUNT_ENDPOINTS`). A 429 is answered
    before the request is handled, so a rate-limited submit creates nothing. A 5xx or a
    dropped connection on ``submit`` happens *after* the task was created, which is what makes
    a submit's outcome unknown to the client.

    - ``server_error_rate``: share of requests answered 500, 502 or 503.
    - ``rate_limit_burst``: the next N targeted requests are answered 429.
    - ``rate_limit_after``: targeted requests let through before that burst begins, so a
      test can have the first submit answered and the second refused, whatever their order.
    - ``rate_limit_rate``: share of requests answered 429 after the burst.
    - ``retry_after``: seconds in the 429's ``Retry-After`` header; ``None`` sends none.
    - ``drop_rate``: share of requests whose connection closes halfway through the body.
    - ``truncate_rate``: share of downloads (``content``, ``storage``) that stop short of
      their ``Content-Length``.
    - ``delay``: seconds to wait before answering.
    - ``expired_urls``: storage URLs are issued already expired.
    - ``task_failure_rate``: share of new tasks that end ``failed`` (moderation).
    - ``failure_code``: the upstream code those tasks fail with (API contract, section 13),
      such as ``InputTextSensitiveContentDetected``, or a failure class name (``expired``...,
      see :mod:`rdpipe.sim.failures`, whose :data:`~rdpipe.sim.failures.FAILURE_MESSAGES`
      give the messages).
    - ``failing_prompts``: only tasks whose prompt contains this text may fail; ``None``: all.
    - ``failure_markers``: prompt text to a failure class name or upstream code: a task whose
      prompt contains the text fails so, whatever ``task_failure_rate`` says (the first
      marker found, in the mapping's order), so one shot of a run can fail with one class.
    - ``failures_per_marker``: how many tasks each marker fails at most; later tasks carrying
      it succeed (``None``: every one fails).

    An ``output_audio`` failure (``OutputAudioSensitiveContentDetected``) spares a request that
    sent ``generate_audio: false``.
    - ``stored_body``: the storage origin answers every clip request 200 with this instead.
    - ``extra_unknown``: seconds new tasks read ``unknown`` beyond :class:`Timing`.
    - ``callback_deliveries``: how many times the final state is POSTed to ``callback_url``.
    - ``channels_down``: model ids ``GET /v1/models`` still lists but no channel serves: every
      submit naming one is answered ``503 model_not_found`` (new-api's "No available channel").
    """

    server_error_rate: float = 0.0
    rate_limit_burst: int = 0
    rate_limit_after: int = 0
    rate_limit_rate: float = 0.0
    retry_after: int | None = None
    drop_rate: float = 0.0
    truncate_rate: float = 0.0
    delay: float = 0.0
    expired_urls: bool = False
    task_failure_rate: float = 0.0
    extra_unknown: float = 0.0
    callback_deliveries: int = 1
    failure_code: str = "OutputVideoSensitiveContentDetected"
    failing_prompts: str | None = None
    failure_markers: Mapping[str, str] = field(default_factory=dict)
    failures_per_marker: int | None = None
    stored_body: StoredBody | None = None
    channels_down: frozenset[str] = frozenset()
    endpoints: frozenset[str] | None = field(default=None)

    def __post_init__(self) -> None:
        for name in (
            "server_error_rate",
            "rate_limit_rate",
            "drop_rate",
            "truncate_rate",
            "task_failure_rate",
        ):
            _check_rate(name, getattr(self, name))
        counts = ("rate_limit_burst", "rate_limit_after", "delay", "extra_unknown")
        for name in (*counts, "callback_deliveries"):
            if getattr(self, name) < 0:
                raise ValueError(f"Faults.{name} must not be negative")
        if self.failures_per_marker is not None and self.failures_per_marker < 0:
            raise ValueError("Faults.failures_per_marker must not be negative")
        for marker, failure in self.failure_markers.items():
            if not marker or not failure:
                raise ValueError("Faults.failure_markers: a marker and its failure must be text")
        if self.endpoints is not None:
            endpoints = frozenset(self.endpoints)
            object.__setattr__(self, "endpoints", endpoints)
            unknown = sorted(endpoints - ENDPOINTS)
            if unknown:
                known = ", ".join(sorted(ENDPOINTS))
                raise ValueError(f"unknown endpoint(s) {unknown}; known: {known}")

    def targets(self, endpoint: str) -> bool:
        """Whether request faults apply to ``endpoint``."""
        if self.endpoints is None:
            return endpoint not in ACCOUNT_ENDPOINTS
        return endpoint in self.endpoints


class FaultKind(Enum):
    """The one thing that goes wrong with a request, if anything."""

    NONE = "none"
    RATE_LIMIT = "rate_limit"
    SERVER_ERROR = "server_error"
    DROP = "drop"
    TRUNCATE = "truncate"


@dataclass(frozen=True)
class FaultDecision:
    """What happens to one request: a kind, a 5xx status when it is one, and a delay."""

    kind: FaultKind = FaultKind.NONE
    status: int = 0
    delay: float = 0.0


_SERVER_ERROR_STATUSES = (500, 502, 503)


class FaultInjector:
    """Draws fault decisions for requests and task outcomes from one seeded generator.

    Not thread-safe by itself: the simulator calls it from its event loop only.
    """

    def __init__(self, faults: Faults, seed: int) -> None:
        self.faults = faults
        self._random = random.Random(seed)
        self._burst_left = faults.rate_limit_burst
        self._passes_left = faults.rate_limit_after
        self._marker_failures: dict[str, int] = {}

    def decide(self, endpoint: str) -> FaultDecision:
        """Decide the fate of one request to ``endpoint``."""
        faults = self.faults
        if not faults.targets(endpoint):
            return FaultDecision()
        delay = faults.delay
        if self._passes_left > 0:
            self._passes_left -= 1
        elif self._burst_left > 0:
            self._burst_left -= 1
            return FaultDecision(FaultKind.RATE_LIMIT, 429, delay)
        if self._draw(faults.rate_limit_rate):
            return FaultDecision(FaultKind.RATE_LIMIT, 429, delay)
        if self._draw(faults.server_error_rate):
            status = self._random.choice(_SERVER_ERROR_STATUSES)
            return FaultDecision(FaultKind.SERVER_ERROR, status, delay)
        if self._draw(faults.drop_rate):
            return FaultDecision(FaultKind.DROP, 0, delay)
        if endpoint in DOWNLOAD_ENDPOINTS and self._draw(faults.truncate_rate):
            return FaultDecision(FaultKind.TRUNCATE, 0, delay)
        return FaultDecision(FaultKind.NONE, 0, delay)

    def task_failure(self, prompt: str = "", *, audio_off: bool = False) -> TaskFailure | None:
        """How a new task with ``prompt`` will fail, or ``None`` when it will succeed.

        ``audio_off``: the request sent ``generate_audio: false`` (an audio failure spares it).
        """
        marked = self._marked_failure(prompt, audio_off)
        if marked is not None:
            return marked
        wanted = self.faults.failing_prompts
        if wanted is not None and wanted not in prompt:
            return None
        if not self._draw(self.faults.task_failure_rate):
            return None
        failure = failure_for(self.faults.failure_code)
        return None if failure.needs_audio and audio_off else failure

    def _marked_failure(self, prompt: str, audio_off: bool) -> TaskFailure | None:
        limit = self.faults.failures_per_marker
        for marker, name in self.faults.failure_markers.items():
            if marker not in prompt:
                continue
            failure = failure_for(name)
            dealt = self._marker_failures.get(marker, 0)
            if (failure.needs_audio and audio_off) or (limit is not None and dealt >= limit):
                return None
            self._marker_failures[marker] = dealt + 1
            return failure
        return None

    def _draw(self, rate: float) -> bool:
        # Draw nothing when the rate is zero, so switching one fault on does not reshuffle
        # the decisions of the others.
        if rate <= 0.0:
            return False
        return self._random.random() < rate

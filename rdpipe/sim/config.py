"""How a simulator instance behaves: the API key it wants, its clock, its timing, its seed.

Everything outside the simulator that influences it (the clock, the seed, the work directory,
the environment used to find ffmpeg) arrives here, so two servers built from equal configs
behave the same, except for task ids: those are unique to each server, as the relay's are.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rdpipe.sim.faults import Faults
from rdpipe.sim.media import MediaRules
from rdpipe.sim.pricing import DEFAULT_PRICING_VERSION, DISPLAY_CURRENCIES


@dataclass(frozen=True)
class Timing:
    """How long a task spends in each state, in seconds of the simulator's clock.

    A task reads ``unknown`` for ``unknown``, then ``queued`` for ``queued``, then
    ``in_progress`` for ``running``, then ``completed`` or ``failed``. Signed storage URLs stay
    valid for ``url_lifetime`` seconds after they are issued.
    """

    unknown: float = 0.05
    queued: float = 0.05
    running: float = 0.2
    url_lifetime: float = 1800.0

    def __post_init__(self) -> None:
        for name in ("unknown", "queued", "running", "url_lifetime"):
            if getattr(self, name) < 0:
                raise ValueError(f"Timing.{name} must not be negative")

    @classmethod
    def fast(cls) -> Timing:
        """The test pace: the whole lifecycle takes about 0.3 s (plus the render)."""
        return cls()

    @classmethod
    def realistic(cls) -> Timing:
        """The pace seen in the wild: started about 6 s after submit, done after about 3 min."""
        return cls(unknown=4.0, queued=2.0, running=174.0)

    @property
    def total(self) -> float:
        """Seconds from submit to the final state."""
        return self.unknown + self.queued + self.running


@dataclass(frozen=True)
class SimConfig:
    """Everything one simulator instance is built from.

    ``api_key=None`` accepts any bearer key (but still wants one). ``work_dir=None`` renders
    into a temporary directory removed when the simulator stops; give a directory to keep the
    clip cache between runs. ``clock`` returns Unix seconds; ``environ`` is where ``ffmpeg`` is
    looked up (see :func:`rdpipe.ffmpeg_path.find_ffmpeg`).

    ``clip_file`` serves that one mp4 as the clip of every task instead of rendering one per
    distinct request, so a benchmark of a thousand tasks costs no ffmpeg run at all.

    ``media`` rules the media host (upload slots, hosted files, the asset library); hosted
    files live in ``work_dir/media``.

    Money (relaydance-api.md §11-13, :mod:`rdpipe.sim.pricing`, :mod:`rdpipe.sim.billing`):
    ``pricing_version`` is the price list's version; ``display_currency`` ("USD", "CNY" or
    "TOKENS") the unit ``/api/status`` names and the balance routes answer in;
    ``balance_usd`` the account's balance in US dollars (``None``: no limit); with
    ``balance_error`` the balance routes answer HTTP 200 with an ``error`` object.

    The concurrency gate (:mod:`rdpipe.sim.gate`): ``concurrency_limit`` requests of one key at
    once to the submit and task routes (``None``: no gate), each holding its slot ``gate_hold``
    seconds beyond its handling; ``gate_unavailable_rate``: share of those requests answered
    503 ``token_concurrency_unavailable``.
    """

    api_key: str | None = "sk-sim"
    timing: Timing = field(default_factory=Timing.fast)
    faults: Faults = field(default_factory=Faults)
    seed: int = 0
    work_dir: Path | None = None
    clock: Callable[[], float] = time.time
    environ: Mapping[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"
    port: int = 0
    storage_port: int = 0
    clip_file: Path | None = None
    media: MediaRules = field(default_factory=MediaRules)
    pricing_version: str = DEFAULT_PRICING_VERSION
    display_currency: str = "USD"
    balance_usd: float | None = None
    balance_error: bool = False
    concurrency_limit: int | None = None
    gate_hold: float = 0.05
    gate_unavailable_rate: float = 0.0
    #: Seconds a 429 of the gate asks to wait (``Retry-After``); ``None``: no header, as
    #: new-api answers (§13), the default.
    gate_retry_after: int | None = None

    def __post_init__(self) -> None:
        if self.display_currency not in DISPLAY_CURRENCIES:
            known = ", ".join(DISPLAY_CURRENCIES)
            given = self.display_currency
            raise ValueError(f"display_currency must be one of {known}, not {given!r}")
        if self.balance_usd is not None and self.balance_usd < 0:
            raise ValueError("balance_usd must not be negative")
        if self.concurrency_limit is not None and self.concurrency_limit < 1:
            raise ValueError("concurrency_limit must be at least 1")
        if self.gate_hold < 0:
            raise ValueError("gate_hold must not be negative")
        if not 0.0 <= self.gate_unavailable_rate <= 1.0:
            raise ValueError("gate_unavailable_rate must be between 0 and 1")

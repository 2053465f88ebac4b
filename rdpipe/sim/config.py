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

"""What the scheduler benchmarks run: scaled-down time, generated pipelines, one served clip.

Real generations take about three minutes and rdpipe first polls after 7.5 s, backing off to
30 s. A benchmark cannot wait that long, so every duration is divided by the same ``factor``:
the simulator's task lifecycle and the CLI's ``--poll-interval`` alike, which keeps the ratio
of polling granularity to task length (what decides the makespan ratio) as it is for real.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from rdpipe.ffmpeg_path import find_ffmpeg
from rdpipe.sim import Timing
from rdpipe.sim.preview_clips import clip_spec_for, render_clip
from rdpipe.sim.validation import parse_submission

MODEL = "doubao-seedance-2-0-480p"
CLIP_SECONDS = 4
REAL_TIMING = Timing.realistic()  # about 6 s to start, 3 min in total
REAL_FIRST_POLL = 7.5  # rdpipe's default first poll delay, in seconds (it backs off to 4x)


@dataclass(frozen=True)
class ScaledTime:
    """Real generation time divided by ``factor``, for the simulator and the poll cadence."""

    factor: float

    @property
    def timing(self) -> Timing:
        """The simulator's task lifecycle, scaled."""
        return Timing(
            unknown=REAL_TIMING.unknown / self.factor,
            queued=REAL_TIMING.queued / self.factor,
            running=REAL_TIMING.running / self.factor,
        )

    @property
    def task_seconds(self) -> float:
        """L: seconds from a task's submit to its final state."""
        return self.timing.total

    @property
    def poll_interval(self) -> float:
        """The ``--poll-interval`` to pass: the first poll delay, scaled."""
        return REAL_FIRST_POLL / self.factor

    def ideal_makespan(self, shots: int, concurrency: int) -> float:
        """ceil(N / C) * L: every slot busy, every task collected the instant it finishes."""
        return math.ceil(shots / concurrency) * self.task_seconds


def write_pipeline(folder: Path, shots: int, concurrency: int) -> Path:
    """A pipeline of ``shots`` distinct 4 s text-only shots (distinct, so none is deduplicated)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        "version: 1",
        "name: bench",
        f"model: {MODEL}",
        f'defaults: {{seconds: {CLIP_SECONDS}, ratio: "16:9", generate_audio: false}}',
        f"concurrency: {{tasks: {concurrency}}}",
        "output: {path: out/bench.mp4, contact_sheet: false}",
        "shots:",
    ]
    for number in range(1, shots + 1):
        lines.append(f"  - id: s{number:04d}")
        lines.append(f'    prompt: "Benchmark shot number {number}, a quiet harbour at dawn"')
    path = folder / "bench.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def render_served_clip(dest: Path) -> Path:
    """Render, once, the clip the simulator would make for one bench shot; it serves it to all."""
    body = {
        "model": MODEL,
        "prompt": "Benchmark shot",
        "seconds": str(CLIP_SECONDS),
        "metadata": {"ratio": "16:9", "generate_audio": False},
    }
    render_clip(find_ffmpeg({}), clip_spec_for(parse_submission(body)), dest)
    return dest

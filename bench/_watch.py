"""Watching rdpipe from outside: its ``--json`` events, its memory, and the simulator's latency.

Every time here is ``time.perf_counter()`` in the bench process. An event's time is when its
line arrived on the pipe; rdpipe flushes each event as it happens, so that is when it happened
give or take the pipe's latency (microseconds).
"""

from __future__ import annotations

import http.client
import json
import resource
import statistics
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import anyio

_MEMORY_PERIOD = 0.05


@dataclass
class CliRun:
    """One ``rdpipe run --json``: when it submitted first and finished its last download."""

    returncode: int = -1
    wall: float = 0.0
    first_submit: float | None = None
    last_done: float | None = None
    end: float = 0.0
    peak_kib_generation: int = 0  # VmHWM when the last clip was in (before assembly)
    peak_kib: int = 0  # VmHWM last seen before the process exited
    cpu: float = 0.0  # user + system seconds of rdpipe and the children it waited for
    finals: Counter[str] = field(default_factory=Counter)
    summary: dict[str, Any] = field(default_factory=dict)
    stderr: str = ""

    @property
    def makespan(self) -> float:
        """Seconds from the first submit to the last clip downloaded."""
        if self.first_submit is None or self.last_done is None:
            raise RuntimeError(f"no generation seen (exit {self.returncode}): {self.stderr[-800:]}")
        return self.last_done - self.first_submit

    @property
    def after_generation(self) -> float:
        """Seconds from the last clip downloaded to the process's exit (assembly, mostly)."""
        return self.end - (self.last_done or self.end)


def high_water_kib(pid: int) -> int:
    """The process's peak resident set (``VmHWM``) in KiB, or 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def run_cli(argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> CliRun:
    """Run ``rdpipe run ... --json``, timestamping events and sampling peak memory."""
    result = CliRun()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(
        list(argv), cwd=cwd, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, bufsize=1,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    errors: list[str] = []
    readers = [
        threading.Thread(target=_drain, args=(process.stderr, errors), daemon=True),
        threading.Thread(target=_sample_memory, args=(process, result), daemon=True),
    ]
    for reader in readers:
        reader.start()
    for line in process.stdout:
        _take_event(json.loads(line), time.perf_counter(), process.pid, result)
    result.returncode = process.wait()
    result.end = time.perf_counter()
    result.wall = result.end - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result.cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    for reader in readers:
        reader.join()
    result.stderr = "".join(errors)
    return result


def _drain(stream: IO[str], into: list[str]) -> None:
    into.append(stream.read())


def _take_event(event: dict[str, Any], now: float, pid: int, result: CliRun) -> None:
    if event.get("event") != "shot":
        result.summary = event
        return
    status = event["status"]
    if status == "submitting" and result.first_submit is None:
        result.first_submit = now
    if status in ("done", "cached", "failed", "unknown", "skipped"):
        result.finals[status] += 1
    if status == "done":
        result.last_done = now
        result.peak_kib_generation = max(result.peak_kib_generation, high_water_kib(pid))


def _sample_memory(process: subprocess.Popen[str], result: CliRun) -> None:
    while process.poll() is None:
        result.peak_kib = max(result.peak_kib, high_water_kib(process.pid))
        time.sleep(_MEMORY_PERIOD)


class LoopLag:
    """How late a 10 ms sleep wakes up on the simulator's own event loop: how far behind it is."""

    def __init__(self, period: float = 0.01) -> None:
        self._period = period
        self.samples: list[float] = []

    async def watch(self) -> None:
        while True:
            start = time.perf_counter()
            await anyio.sleep(self._period)
            self.samples.append(time.perf_counter() - start - self._period)


class LatencyProbe:
    """Times a cheap authorised GET against the simulator every ``period`` s, from a thread.

    The simulator answers every request on one event loop; if it fell behind, this request
    would queue behind the others, so its latency is what any poll waits at that moment.
    """

    def __init__(self, base_url: str, api_key: str, period: float = 0.1) -> None:
        parts = urlsplit(base_url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._period = period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.samples: list[float] = []

    def __enter__(self) -> LatencyProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        connection = http.client.HTTPConnection(self._host, self._port, timeout=10)
        while not self._stop.wait(self._period):
            start = time.perf_counter()
            connection.request("GET", "/v1/models", headers=self._headers)
            connection.getresponse().read()
            self.samples.append(time.perf_counter() - start)
        connection.close()


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile of ``samples`` (0 when there are none)."""
    ordered = sorted(samples)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def median_wall(argv: Sequence[str], env: Mapping[str, str], cwd: Path, runs: int) -> float:
    """The median wall time of ``runs`` runs of a command that must succeed."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(list(argv), cwd=cwd, env=dict(env), check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)

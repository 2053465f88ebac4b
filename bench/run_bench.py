"""Measure rdpipe's scheduler, scale, no-op reruns and start-up in one run; print ratios.

The goals are issue 12's: a no-op rerun of 100 cached shots, ``plan`` and ``status`` each under
0.3 s beyond ``python -c pass``; 1,000 shots at ``-j 64`` under 100 MB of peak RSS and within
1.02 of the ideal makespan; a cached rerun's piped output one summary line (plus a line per
changed shot: none here).

Run: ``.venv/bin/python bench/run_bench.py [--quick] [--with-assembly] [--no-write]``.

Everything goes through the real code path: ``python -m rdpipe run FILE --json`` in a child
process, its HTTP client, and the simulator on 127.0.0.1 (served from this process, with one
pre-rendered clip for every task so that rendering never slows it down). Time is scaled down
(see ``_scenario.ScaledTime``). The table goes to stdout and, unless ``--no-write`` or
``--quick``, into the "Scheduler and scale" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio.from_thread
from _report import Row, assembly_rows, machine, parse_printed_table, table, verdict, write_section
from _scenario import ScaledTime, render_served_clip, write_pipeline
from _watch import CliRun, LatencyProbe, LoopLag, median_wall, percentile, run_cli

from rdpipe.sim import SimConfig, SimServer, open_simulator

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "sk-bench"
POLL_KEYS = ("GET /v1/videos/{id}", "GET /v1/video/generations/{id}")
PROBE_KEY = "GET /v1/models"  # the latency probe's requests, left out of rdpipe's totals


@dataclass(frozen=True)
class Sizes:
    """How big each case is: (shots, concurrency) pairs, and repetitions."""

    efficiency: tuple[int, int] = (200, 16)
    scale: tuple[int, int] = (1000, 64)
    noop_shots: int = 100
    reruns: int = 5  # of each cached command, and of `python -c pass`
    help_runs: int = 7


QUICK = Sizes(efficiency=(48, 16), scale=(192, 64), noop_shots=30)


@dataclass
class Bench:
    """The running simulator and everything a case needs to start rdpipe against it."""

    sim: SimServer
    time: ScaledTime
    work: Path
    env: dict[str, str]
    lag: LoopLag
    latencies: list[float]
    lags: list[float]
    cpu_share: list[float]
    notes: list[str]

    def rdpipe(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "rdpipe", *args]

    def generate(self, name: str, shots: int, concurrency: int) -> tuple[CliRun, dict[str, int]]:
        """Run a fresh pipeline of ``shots`` shots; return the run and the simulator's counters."""
        folder = self.work / name
        file = write_pipeline(folder, shots, concurrency)
        self.sim.clear_observations()
        argv = self.rdpipe(
            "run",
            str(file),
            "--json",
            "--concurrency",
            str(concurrency),
            "--poll-interval",
            f"{self.time.poll_interval:g}",
        )
        cpu = time.process_time()
        self.lag.samples.clear()
        with LatencyProbe(self.sim.base_url, API_KEY) as probe:
            run = run_cli(argv, self.env, folder)
        self.latencies += probe.samples
        self.lags += self.lag.samples
        self.cpu_share.append((time.process_time() - cpu) / max(run.wall, 1e-9))
        if run.finals["done"] != shots:
            raise RuntimeError(f"{name}: exit {run.returncode}, {dict(run.finals)}\n{run.stderr}")
        if run.returncode != 0:
            last = run.stderr.strip().splitlines()[-1:] or ["no message"]
            self.notes.append(
                f"{name}: every clip was generated, then rdpipe exited "
                f"{run.returncode} after generation: {last[0]}"
            )
        counters = {k: v for k, v in self.sim.counters().items() if k != PROBE_KEY}
        return run, counters


@contextmanager
def open_bench(scaled: ScaledTime) -> Iterator[Bench]:
    """A work directory, the served clip and the simulator, for the whole bench."""
    with tempfile.TemporaryDirectory(prefix="rdpipe-bench-") as scratch:
        work = Path(scratch)
        clip = render_served_clip(work / "served.mp4")
        config = SimConfig(
            api_key=API_KEY, timing=scaled.timing, clip_file=clip, work_dir=work / "sim"
        )
        with (
            anyio.from_thread.start_blocking_portal() as portal,
            portal.wrap_async_context_manager(open_simulator(config)) as sim,
        ):
            lag = LoopLag()
            watcher = portal.start_task_soon(lag.watch)
            yield Bench(sim, scaled, work, _child_environ(sim.base_url, work), lag, [], [], [], [])
            watcher.cancel()


def _child_environ(base_url: str, work: Path) -> dict[str, str]:
    """The environment of every rdpipe child: the simulator, and bytecode cached as installed.

    This machine sets PYTHONDONTWRITEBYTECODE, so rdpipe's own modules would be compiled from
    source at every start; an installed package has its .pyc files, so cache them in the work
    directory (the first run warms the cache).
    """
    env = {**os.environ, "RELAYDANCE_BASE_URL": base_url, "RELAYDANCE_API_KEY": API_KEY}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return env


def generation_rows(
    bench: Bench, label: str, shots: int, concurrency: int, *, goal: float
) -> list[Row]:
    """Makespan ratio (``goal``: its highest allowed), polls per task, requests and peak memory
    of one generation run."""
    run, counters = bench.generate(label, shots, concurrency)
    ideal = bench.time.ideal_makespan(shots, concurrency)
    ratio = run.makespan / ideal
    polls = sum(counters.get(key, 0) for key in POLL_KEYS)
    submits = counters.get("POST /v1/video/generations", 0)
    downloads = sum(v for k, v in counters.items() if "content" in k or "storage" in k)
    case = f"{shots:,} shots, -j {concurrency}"
    print(
        f"  {case}: makespan {run.makespan:.1f} s, then {run.after_generation:.1f} s to exit "
        f"(assembly), CPU {run.cpu:.1f} s; counters {counters}",
        flush=True,
    )
    return [
        Row(
            case,
            "makespan / ceil(N/C)·L",
            f"{ratio:.3f} ({run.makespan:.1f} s / {ideal:.0f} s)",
            f"≤ {goal:.2f}",
            verdict(ratio <= goal),
        ),
        Row(case, "status polls per task", f"{polls / shots:.2f}"),
        Row(
            case,
            "requests: total (submit + poll + download)",
            f"{sum(counters.values()):,} ({submits} + {polls} + {downloads})",
        ),
        Row(
            case,
            "peak RSS of rdpipe (VmHWM), generation / whole run",
            f"{run.peak_kib_generation / 1024:.0f} / {run.peak_kib / 1024:.0f} MiB "
            f"({max(run.peak_kib_generation, run.peak_kib) * 1024 / 1e6:.0f} MB)",
            "< 100 MB",
            verdict(max(run.peak_kib_generation, run.peak_kib) * 1024 < 100e6),
        ),
        Row(
            case,
            "rdpipe CPU / wall (whole run, with assembly)",
            f"{run.cpu:.1f} s / {run.wall:.1f} s",
        ),
    ]


#: The commands timed on a cached pipeline: (case, rdpipe arguments before the file).
CACHED_COMMANDS = (
    ("no-op rerun", ("run",)),
    ("`rdpipe plan`", ("plan",)),
    ("`rdpipe status`", ("status",)),
)


def noop_rows(bench: Bench, sizes: Sizes) -> list[Row]:
    """A cached pipeline: each command's time beyond interpreter start-up, its piped output,
    and the requests all of them sent."""
    shots = sizes.noop_shots
    bench.generate("noop", shots, shots)
    file = str(bench.work / "noop" / "bench.yaml")
    bench.sim.clear_observations()
    runs = sizes.reruns
    walls = {
        case: median_wall(bench.rdpipe(*args, file), bench.env, bench.work, runs)
        for case, args in CACHED_COMMANDS
    }
    startup = median_wall([sys.executable, "-c", "pass"], bench.env, bench.work, runs)
    piped = piped_lines(bench.rdpipe("run", file), bench.env, bench.work)
    requests = sum(bench.sim.counters().values())
    rows = []
    for case, _ in CACHED_COMMANDS:
        beyond = walls[case] - startup
        rows.append(
            Row(
                f"{case}, {shots} cached shots",
                f"wall - `python -c pass` (medians of {runs})",
                f"{beyond:.2f} s ({walls[case]:.2f} - {startup:.2f})",
                "< 0.3 s",
                verdict(beyond < 0.3),
            )
        )
    rerun = f"no-op rerun, {shots} cached shots"
    return [
        *rows,
        Row(
            rerun,
            "lines of output, stdout and stderr piped",
            f"{len(piped)} ({piped[0][:40] + '…' if piped else 'none'})",
            "1 summary line + changed shots (none)",
            verdict(len(piped) == 1),
        ),
        Row(
            rerun,
            f"requests over {runs} of each command and the piped rerun",
            str(requests),
            "0",
            verdict(requests == 0),
        ),
    ]


def piped_lines(argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> list[str]:
    """The lines a command that must succeed prints with stdout and stderr pipes (no TTY)."""
    done = subprocess.run(list(argv), cwd=cwd, env=dict(env), check=True, capture_output=True)
    return (done.stdout + done.stderr).decode().splitlines()


def help_row(bench: Bench, runs: int) -> Row:
    """``rdpipe --help``: the installed entry point, median wall time."""
    script = Path(sys.executable).with_name("rdpipe")
    argv = [str(script), "--help"] if script.exists() else bench.rdpipe("--help")
    median_wall(argv, bench.env, bench.work, 1)  # warm the bytecode cache
    seconds = median_wall(argv, bench.env, bench.work, runs)
    return Row(
        "`rdpipe --help`",
        f"wall time, median of {runs}",
        f"{seconds:.3f} s",
        "< 0.5 s",
        verdict(seconds < 0.5),
    )


def simulator_row(bench: Bench) -> Row:
    """Whether the simulator kept up: its latency under load, and how busy its process was."""
    budget = bench.time.poll_interval / 10
    latency, lag = bench.latencies, bench.lags
    p99 = percentile(latency, 0.99)
    value = (
        f"{percentile(latency, 0.5) * 1000:.1f} / {p99 * 1000:.0f} / "
        f"{max(latency, default=0) * 1000:.0f} ms; loop lag p99 "
        f"{percentile(lag, 0.99) * 1000:.0f} ms; CPU ≤ {max(bench.cpu_share):.0%}"
    )
    return Row(
        "simulator, during generation runs",
        "GET latency p50 / p99 / max; event-loop lag; CPU of its process",
        value,
        f"p99 < {budget * 1000:.0f} ms",
        verdict(p99 < budget),
    )


def assembly(with_assembly: bool) -> list[Row]:
    """The assembly ratios: from BENCHMARKS.md, or re-measured with ``--with-assembly``."""
    if not with_assembly:
        path = ROOT / "BENCHMARKS.md"
        rows = assembly_rows(path.read_text(encoding="utf-8")) if path.exists() else []
        return rows or [Row("assembly", "see bench/assemble_bench.py", "not measured")]
    script = ROOT / "bench" / "assemble_bench.py"
    printed = subprocess.run(
        [sys.executable, str(script)], check=True, capture_output=True, text=True
    ).stdout
    return parse_printed_table(printed)


def load_average() -> str:
    """The 1-minute load average (other users' work shares these cores)."""
    return Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"


def describe(scaled: ScaledTime, argv: Sequence[str], with_assembly: bool, loads: str) -> str:
    """The text above the table: command, date, machine and how time was scaled."""
    command = " ".join([".venv/bin/python bench/run_bench.py", *argv])
    source = "re-measured by this run" if with_assembly else "copied from the Assembly section"
    return (
        f"Command: `{command}`, {datetime.date.today().isoformat()}.\n\n"
        f"Machine: {machine()}; shared, 1-minute load average {loads} during the run.\n\n"
        f"Time is scaled down {scaled.factor:g}x, consistently: a task takes "
        f"L = {scaled.task_seconds:g} s from submit to final state (really about 3 min) and "
        f"`--poll-interval {scaled.poll_interval:g}` (really 7.5 s; it backs off x1.5 to "
        f"{4 * scaled.poll_interval:g} s). The makespan runs from the first `submitting` event "
        "to the last `done` event of `rdpipe run --json`, so the assembly after it is not "
        "counted. Peak RSS is the rdpipe process's `VmHWM` (ffmpeg children excluded), read "
        "when the last clip is in and sampled every 50 ms until exit. The simulator serves one "
        f"pre-rendered 4 s clip for every task (`SimConfig.clip_file`). Assembly rows: {source}."
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller cases (about 2 minutes)")
    parser.add_argument("--with-assembly", action="store_true", help="re-run assemble_bench.py")
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    parser.add_argument("--time-factor", type=float, default=30.0, help="real time / bench time")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else Sizes()
    scaled = ScaledTime(args.time_factor)
    rows: list[Row] = []
    loads = [load_average()]
    with open_bench(scaled) as bench:
        print("scheduler efficiency...", flush=True)
        rows += generation_rows(bench, "efficiency", *sizes.efficiency, goal=1.10)[:3]
        loads.append(load_average())
        print("scale...", flush=True)
        scale = generation_rows(bench, "scale", *sizes.scale, goal=1.02)
        rows += [scale[3], scale[0], *scale[1:3], scale[4]]
        loads.append(load_average())
        print("no-op rerun...", flush=True)
        rows += noop_rows(bench, sizes)
        rows.append(help_row(bench, sizes.help_runs))
        rows.append(simulator_row(bench))
        notes = bench.notes
    rows += assembly(args.with_assembly)
    loads.append(load_average())
    text = describe(scaled, sys.argv[1:], args.with_assembly, " → ".join(loads))
    text = f"{text}\n\n{table(rows)}"
    if notes:
        text += "\n\n" + "\n".join(f"- {note}" for note in notes)
    print(f"\n{text}")
    if not (args.no_write or args.quick):
        write_section(ROOT / "BENCHMARKS.md", text)


if __name__ == "__main__":
    main()

"""Measure a run against the relay's per-key concurrency gate: adaptive gate vs plain back-off.

The goal is issue 15's (§3, "Done when"): with a gate of 4 and ``-j 32``, a 40-shot run
finishes with every shot done, no shot failed for 429, and the number of 429s bounded. The bound
stated here: at most :data:`BOUND` 429s with the adaptive gate (the figure
``tests/run/test_failure_policies.py`` holds the CLI to), and no more than half of plain
back-off's in the same invocation.

Run: ``.venv/bin/python bench/gate_bench.py [--repeat N] [--time-factor 30] [--no-write]``.

Everything is the real code path: ``python -m rdpipe run FILE --json -j 32 --no-remote`` in a
child process against the simulator served from this process on 127.0.0.1 with
``SimConfig(concurrency_limit=4)`` (every submit and poll holds one of the key's 4 slots while
it is handled plus ``gate_hold``, 50 ms; one over is answered 429
``token_concurrency_limit_reached``, no ``Retry-After``). Each round runs a fresh 40-shot
pipeline twice: with rdpipe's adaptive gate (the default), then with plain per-request back-off
(``SchedulerOptions.adaptive_gate`` false, set by ``bench/_plain_backoff.py``, which runs the
same command; rdpipe has no option for it). Time is scaled as ``bench/run_bench.py`` scales it
(``_scenario.ScaledTime``). The 429s are the simulator's own count. The table goes to stdout and,
unless ``--no-write``, into the "Concurrency gate" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from _report import Row, machine, table, verdict, write_section
from _scenario import ScaledTime, render_served_clip, write_pipeline
from _watch import run_cli
from store_bench import load_average

from rdpipe.sim import SimConfig, SimServer, run_simulator

ROOT = Path(__file__).resolve().parent.parent
HEADING = "## Concurrency gate (`bench/gate_bench.py`)"
BEGIN = "<!-- gate_bench: begin (generated, rewritten by each run) -->"
END = "<!-- gate_bench: end -->"
API_KEY = "sk-bench"
SHOTS, TASKS, LIMIT = 40, 32, 4  # the case: 40 shots at -j 32 against a gate of 4
BOUND = 30  # the most 429s an adaptive run may meet (tests/run/test_failure_policies.py's)
RATIO = 2.0  # plain back-off's 429s at least this many times the adaptive gate's
SUBMIT_KEY = "POST /v1/video/generations"
POLL_KEYS = ("GET /v1/videos/{id}", "GET /v1/video/generations/{id}")
PLAIN_LAUNCHER = Path(__file__).resolve().parent / "_plain_backoff.py"
_CUT = re.compile(r"concurrency gate is full .*: concurrency (\d+)/(\d+)")
ADAPTIVE, PLAIN = "adaptive gate", "plain back-off"


@dataclass(frozen=True)
class GateRun:
    """One ``rdpipe run`` of the 40 shots against the gate, as rdpipe and the simulator saw it.

    ``done``/``failed``/``failed_429``: shots by final status (failed for 429: the message
    names 429 or the gate's code); ``submit_429``: POSTs that created no task (the gate's
    refusals of submits: nothing else refuses one here); ``poll_429``: the rest of the
    simulator's 429s; ``peak``: the most requests the gate let in at once; ``cuts``: the
    times rdpipe lowered its bound (one line each on stderr), ``lowest`` the lowest it set
    (``None``: never cut); ``wall``/``makespan``: seconds of the process, and from its first
    submit to its last clip in.
    """

    mode: str
    returncode: int
    done: int
    failed: int
    failed_429: int
    rejections: int
    submit_429: int
    submits: int
    polls: int
    peak: int
    cuts: int
    lowest: int | None
    wall: float
    makespan: float

    @property
    def poll_429(self) -> int:
        return self.rejections - self.submit_429

    @property
    def share(self) -> float:
        """429s per request sent to the gated routes."""
        return self.rejections / max(1, self.submits + self.polls)


@dataclass(frozen=True)
class Bench:
    """The running simulator, the work folder, the children's environment and the time scale."""

    sim: SimServer
    work: Path
    env: dict[str, str]
    scaled: ScaledTime

    def command(self, mode: str, file: Path) -> list[str]:
        """``rdpipe run FILE --json -j 32`` at the scaled poll cadence, as ``mode`` runs it."""
        head = [sys.executable, "-m", "rdpipe"]
        if mode == PLAIN:
            head = [sys.executable, str(PLAIN_LAUNCHER)]
        poll = f"{self.scaled.poll_interval:g}"
        return [*head, "run", str(file), "--json", "-j", str(TASKS), "--no-remote",
                "--poll-interval", poll]  # fmt: skip

    def warm_up(self) -> None:
        """An unmeasured 2-shot run, so that every measured run starts with the bytecode cached."""
        file = write_pipeline(self.work / "warm-up", 2, TASKS)
        run_cli(self.command(PLAIN, file), self.env, file.parent)
        self.sim.clear_observations()

    def run(self, mode: str, label: str) -> GateRun:
        """Run a fresh 40-shot pipeline in ``work/label``; what rdpipe and the gate saw."""
        file = write_pipeline(self.work / label, SHOTS, TASKS)
        self.sim.clear_observations()
        cli = run_cli(self.command(mode, file), self.env, file.parent)
        if cli.first_submit is None or cli.last_done is None:
            raise RuntimeError(f"{label}: no generation (exit {cli.returncode})\n{cli.stderr}")
        counters = self.sim.counters()
        submits = counters.get(SUBMIT_KEY, 0)
        failed = [s for s in cli.summary.get("shots", []) if s.get("status") == "failed"]
        cuts = [int(m.group(1)) for m in map(_CUT.search, cli.stderr.splitlines()) if m]
        result = GateRun(
            mode=mode,
            returncode=cli.returncode,
            done=cli.finals["done"],
            failed=len(failed),
            failed_429=sum(_for_429(str(s.get("message"))) for s in failed),
            rejections=self.sim.gate_rejections,
            submit_429=submits - len(self.sim.created_task_ids()),
            submits=submits,
            polls=sum(counters.get(key, 0) for key in POLL_KEYS),
            peak=self.sim.peak_in_flight,
            cuts=len(cuts),
            lowest=min(cuts, default=None),
            wall=cli.wall,
            makespan=cli.makespan,
        )
        print(f"  {label}: exit {result.returncode}, {result.done}/{SHOTS} done, "
              f"{result.failed} failed ({result.failed_429} for 429), 429s {result.rejections} "
              f"({result.submit_429} submits + {result.poll_429} polls), requests "
              f"{result.submits} + {result.polls}, peak {result.peak}, cuts {result.cuts} "
              f"(lowest {result.lowest}), makespan {result.makespan:.1f} s, "
              f"wall {result.wall:.1f} s", flush=True)  # fmt: skip
        return result


def _for_429(message: str) -> bool:
    return "429" in message or "token_concurrency" in message


@contextmanager
def started(work: Path, scaled: ScaledTime) -> Iterator[Bench]:
    """The simulator with a gate of 4 serving one pre-rendered clip, and the bench using it."""
    clip = render_served_clip(work / "served.mp4")
    config = SimConfig(api_key=API_KEY, timing=scaled.timing, clip_file=clip,
                       work_dir=work / "sim", concurrency_limit=LIMIT)  # fmt: skip
    with run_simulator(config) as sim:
        yield Bench(sim, work, _environ(sim.base_url, work), scaled)


def _environ(base_url: str, work: Path) -> dict[str, str]:
    """Children's environment: the simulator and its key, no store or media host of the
    machine's, bytecode cached in the work folder (as ``run_bench.py`` gives, for the same
    reason)."""
    env = {**os.environ, "RELAYDANCE_BASE_URL": base_url, "RELAYDANCE_API_KEY": API_KEY}
    for name in ("RDPIPE_REMOTE", "RELAYDANCE_MEDIA_URL", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return env


def _each(runs: Sequence[GateRun], value: Callable[[GateRun], str]) -> str:
    """One figure per run, in order, separated by middle dots."""
    return " · ".join(value(run) for run in runs)


def rows(adaptive: Sequence[GateRun], plain: Sequence[GateRun], ideal: float) -> list[Row]:
    """Per mode: shots, 429s, requests, peak in flight, bound, makespan and wall; the ratio."""
    table_rows: list[Row] = []
    for runs in (adaptive, plain):
        mode = runs[0].mode
        goal_met = all(r.done == SHOTS and r.failed_429 == 0 for r in runs)
        under = all(r.rejections <= BOUND for r in runs)
        table_rows += [
            Row(
                mode,
                "shots done; failed (of them for 429); exit code",
                _each(
                    runs, lambda r: f"{r.done}/{SHOTS}; {r.failed} ({r.failed_429}); {r.returncode}"
                ),
                f"{SHOTS}/{SHOTS} done, none failed for 429" if mode == ADAPTIVE else "—",
                verdict(goal_met) if mode == ADAPTIVE else "—",
            ),
            Row(
                mode,
                "429s counted by the simulator (submits + polls)",
                _each(runs, lambda r: f"{r.rejections} ({r.submit_429} + {r.poll_429})"),
                f"≤ {BOUND}" if mode == ADAPTIVE else "—",
                verdict(under) if mode == ADAPTIVE else "—",
            ),
            Row(
                mode,
                "requests to the gated routes (submits + polls); share answered 429",
                _each(runs, lambda r: f"{r.submits} + {r.polls}; {r.share:.0%}"),
            ),
            Row(
                mode,
                f"peak requests in flight the gate let in (its limit {LIMIT}); rdpipe's cuts "
                "of its bound on requests in flight, the lowest bound it set",
                _each(runs, lambda r: f"{r.peak}; {r.cuts} cuts, lowest {r.lowest or '—'}"),
            ),
            Row(
                mode,
                f"makespan (first submit to last clip) / ceil(N/C)·L = {ideal:g} s; wall time "
                "of `rdpipe run` (start-up and assembly included)",
                _each(
                    runs, lambda r: f"{r.makespan / ideal:.2f} ({r.makespan:.1f} s); {r.wall:.1f} s"
                ),
            ),
        ]
    ratios = [p.rejections / max(1, a.rejections) for a, p in zip(adaptive, plain, strict=True)]
    total_a = sum(r.rejections for r in adaptive)
    total_p = sum(r.rejections for r in plain)
    value = f"{total_p / max(1, total_a):.1f} ({total_p} / {total_a})"
    if len(ratios) > 1:
        value += f"; per round {min(ratios):.1f} to {max(ratios):.1f}"
    table_rows.append(
        Row(
            "plain / adaptive",
            "429s, plain back-off / adaptive gate (same invocation, same simulator)",
            value,
            f"≥ {RATIO:g} (429s clearly below plain back-off)",
            verdict(min(ratios) >= RATIO),
        )
    )
    return table_rows


def describe(argv: Sequence[str], scaled: ScaledTime, repeat: int, loads: str) -> str:
    """The text above the table: command, date, machine, the case and how it was run."""
    command = " ".join([".venv/bin/python bench/gate_bench.py", *argv])
    rounds = (
        "one round" if repeat == 1 else f"{repeat} rounds (figures per round, in order, · between)"
    )
    return (
        f"Command: `{command}`, {datetime.date.today().isoformat()}.\n\n"
        f"Machine: {machine()}; shared, 1-minute load average {loads} during the run.\n\n"
        f"Case (issue 15, Done when): {SHOTS} distinct 4 s 480p shots, `rdpipe run FILE --json "
        f"-j {TASKS} --no-remote` in a child process, against the simulator on 127.0.0.1 with "
        f"a per-key gate of {LIMIT} (`SimConfig(concurrency_limit={LIMIT})`: a submit or poll "
        "holds a slot while it is handled plus 50 ms, one over the limit is answered 429 "
        "`token_concurrency_limit_reached` with no `Retry-After`). Time is scaled down "
        f"{scaled.factor:g}x as in `bench/run_bench.py`: a task takes L = "
        f"{scaled.task_seconds:g} s, `--poll-interval {scaled.poll_interval:g}` (backing off "
        f"to {4 * scaled.poll_interval:g} s); the gate's 50 ms hold is not scaled, so the gate "
        "is pressed harder than at a real pace. Each round runs a fresh pipeline with the "
        "adaptive gate (rdpipe's default), then with plain per-request back-off "
        "(`SchedulerOptions.adaptive_gate` false, through `bench/_plain_backoff.py`: no "
        f"command-line option selects it); {rounds}. 429s are the simulator's count; a "
        "refused submit is a POST that created no task. rdpipe's cuts of its bound are the "
        "`concurrency gate is full` lines of its stderr. The simulator serves one "
        "pre-rendered clip for every task; an unmeasured 2-shot run first fills the bytecode "
        "cache."
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=1, help="rounds of both modes (default 1)")
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    parser.add_argument("--time-factor", type=float, default=30.0, help="real time / bench time")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    scaled = ScaledTime(args.time_factor)
    loads = [load_average()]
    adaptive: list[GateRun] = []
    plain: list[GateRun] = []
    with (
        tempfile.TemporaryDirectory(prefix="rdpipe-gate-bench-") as scratch,
        started(Path(scratch), scaled) as bench,
    ):
        bench.warm_up()
        for number in range(1, args.repeat + 1):
            adaptive.append(bench.run(ADAPTIVE, f"adaptive-{number}"))
            plain.append(bench.run(PLAIN, f"plain-{number}"))
            loads.append(load_average())
    ideal = scaled.ideal_makespan(SHOTS, TASKS)
    text = describe(sys.argv[1:], scaled, args.repeat, " → ".join(loads))
    text = f"{text}\n\n{table(rows(adaptive, plain, ideal))}"
    print(f"\n{text}")
    if not args.no_write:
        write_section(ROOT / "BENCHMARKS.md", text, heading=HEADING, begin=BEGIN, end=END)


if __name__ == "__main__":
    main()

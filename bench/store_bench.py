"""Measure the shared clip store in one run: memory and speed of push and pull, and a clone's run.

The goals are issue 13's: "memory flat whatever the clip size", stated as the peak RSS of a
``rdpipe pull`` / ``rdpipe push`` process moving a 1 GiB clip within 1.1x of moving a 16 MiB
clip; and a teammate's clone that rebuilds the video from the store sends 0 requests to the API
(the issue's acceptance). Throughput (MB/s) of push and pull is measured for information.

Run: ``.venv/bin/python bench/store_bench.py [--big-mib 1024] [--small-mib 16] [--no-write]``.

Everything is the real code path: ``python -m rdpipe run|push|pull FILE --remote URL`` in child
processes, against a ``file://`` store (a folder made here) and a real S3 server (moto's server
mode, started here on 127.0.0.1), with the simulator on 127.0.0.1 serving, for every task, one
pre-rendered clip of the size wanted (an H.264 picture of random noise, lossless, so it does not
compress). The table goes to stdout and, unless ``--no-write``, into the "Shared clip store"
section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from _report import Row, machine, table, verdict, write_section
from _scenario import ScaledTime, render_served_clip, write_pipeline
from _watch import high_water_kib

from rdpipe.ffmpeg_path import find_ffmpeg
from rdpipe.sim import SimConfig, SimServer, run_simulator

ROOT = Path(__file__).resolve().parent.parent
HEADING = "## Shared clip store (`bench/store_bench.py`)"
BEGIN = "<!-- store_bench: begin (generated, rewritten by each run) -->"
END = "<!-- store_bench: end -->"
API_KEY = "sk-bench"
MIB = 1 << 20
FLAT = 1.1  # the most a big clip's peak RSS may be, as a multiple of the small clip's
_SAMPLE_PERIOD = 0.02  # seconds between two reads of a child's VmHWM


@dataclass(frozen=True)
class Measured:
    """One rdpipe command run to its end: exit status, wall time, CPU and peak memory.

    ``peak_kib`` is the command's ``ru_maxrss`` from ``wait4`` (exact: the kernel's high-water
    mark of the process, or of a child it waited for if larger). ``own_kib`` is the process's
    own ``VmHWM``, read every 20 ms while it ran (children excluded; a peak in its last 20 ms
    may be missed). ``cpu`` is its user + system seconds, children included.
    """

    argv: tuple[str, ...]
    returncode: int
    wall: float
    cpu: float
    peak_kib: int
    own_kib: int
    output: str

    def check(self) -> Measured:
        """This run, or ``RuntimeError`` with its output if it failed."""
        if self.returncode != 0:
            raise RuntimeError(f"{' '.join(self.argv)}: exit {self.returncode}\n{self.output}")
        return self


# Starts the command from a small interpreter and reports its pid, then its rusage. Why not
# wait4 on a child of the bench itself: Linux keeps the high-water mark of the memory a process
# had before its exec in its ru_maxrss, and a child forked from this process starts as a copy
# of it (about 70 MiB with the simulator's imports, 550 MiB with 500 MB allocated here: checked
# with ``python -c "import time; time.sleep(0.3)"``, whose own VmHWM is 9 MiB). Forked from
# this launcher, the floor is the launcher's few MiB.
_LAUNCHER = """\
import os, sys
report = open(sys.argv[1], "w")
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
print(pid, file=report, flush=True)
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss, usage.ru_utime + usage.ru_stime, file=report, flush=True)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measure(argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> Measured:
    """Run ``argv`` (``argv[0]`` a path) in a fresh process; its wall time, CPU and peak memory."""
    with tempfile.TemporaryDirectory(prefix="measure-") as scratch:
        report, log = Path(scratch) / "report", Path(scratch) / "log"
        with log.open("wb") as output:
            start = time.perf_counter()
            launcher = subprocess.Popen(
                [sys.executable, "-c", _LAUNCHER, str(report), *argv],
                cwd=cwd, env=dict(env), stdout=output, stderr=output,
            )  # fmt: skip
            own = _sample_high_water(launcher, report)
            returncode = launcher.wait()
            wall = time.perf_counter() - start
        lines = report.read_text().splitlines()
        text = log.read_text(errors="replace")
    if len(lines) < 2:
        raise RuntimeError(f"{' '.join(argv)}: the launcher failed (exit {returncode})\n{text}")
    peak, cpu = lines[1].split()
    return Measured(tuple(argv), returncode, wall, float(cpu), int(peak), own, text)


def _sample_high_water(launcher: subprocess.Popen[bytes], report: Path) -> int:
    """The highest ``VmHWM`` read of the command the launcher started, until the launcher ends."""
    pid, peak = 0, 0
    while launcher.poll() is None:
        if not pid:
            with contextlib.suppress(OSError, ValueError, IndexError):  # not written yet
                pid = int(report.read_text().split()[0])
        if pid:
            peak = max(peak, high_water_kib(pid))
        time.sleep(_SAMPLE_PERIOD)
    return peak


def make_noise_clip(ffmpeg: str, dest: Path, size: int) -> Path:
    """An MP4 of about ``size`` bytes: 1280x720 24 fps H.264 of random noise, lossless.

    Every frame of noise costs about the same, so a one-second probe gives the frame count.
    """
    source = ["-f", "lavfi", "-i", "color=c=gray:s=1280x720:r=24,noise=alls=100:allf=t+u"]
    encode = ["-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p"]

    def render(frames: int) -> int:
        subprocess.run(
            [ffmpeg, "-y", "-loglevel", "error", *source, "-frames:v", str(frames), *encode,
             "-movflags", "+faststart", str(dest)],
            check=True,
        )  # fmt: skip
        return dest.stat().st_size

    per_frame = render(24) / 24
    render(max(2, round(size / per_frame)))
    return dest


class MotoS3:
    """moto's S3 server in a process of its own on 127.0.0.1 (as ``tests/remote_servers.py``)."""

    def __init__(self, home: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.environ = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(home / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
        }

    @contextlib.contextmanager
    def running(self) -> Iterator[MotoS3]:
        argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while True:
                with contextlib.suppress(OSError):
                    socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                    break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto server did not start (exit {process.poll()})")
                time.sleep(0.05)
            yield self
        finally:
            process.terminate()
            process.wait(timeout=10)

    def new_store(self) -> str:
        """``s3://<new empty bucket>/team`` (moto's server takes an unsigned bucket PUT)."""
        bucket = f"bench-{uuid.uuid4().hex[:12]}"
        request = urllib.request.Request(f"{self.endpoint}/{bucket}", method="PUT")
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()
        return f"s3://{bucket}/team"


@dataclass
class Bench:
    """The work folder, the S3 server, the children's environment and the scaled time."""

    work: Path
    s3: MotoS3
    scaled: ScaledTime
    env: dict[str, str]

    def rdpipe(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "rdpipe", *args]

    def stores(self, label: str) -> dict[str, str]:
        """A new empty store of each kind: ``{"file://": url, "S3 (moto)": url}``."""
        folder = self.work / "stores" / label
        folder.mkdir(parents=True)  # rdpipe never makes a store's folder
        return {"file://": folder.as_uri(), "S3 (moto)": self.s3.new_store()}

    @contextlib.contextmanager
    def simulator(self, clip: Path) -> Iterator[SimServer]:
        config = SimConfig(api_key=API_KEY, timing=self.scaled.timing, clip_file=clip,
                           work_dir=self.work / f"sim-{clip.stem}")  # fmt: skip
        with run_simulator(config) as sim:
            self.env["RELAYDANCE_BASE_URL"] = sim.base_url
            yield sim

    def generate(self, folder: Path, shots: int, *remote: str) -> Measured:
        """A fresh pipeline of ``shots`` shots in ``folder``, generated against the simulator."""
        file = write_pipeline(folder, shots, shots)
        poll = f"{self.scaled.poll_interval:g}"
        argv = self.rdpipe("run", str(file), "--poll-interval", poll, *(remote or ["--no-remote"]))
        return measure(argv, self.env, folder).check()


def clone(source: Path, target: Path) -> Path:
    """What a teammate's clone holds: the pipeline and its lock file, nothing generated."""
    target.mkdir(parents=True)
    for name in ("bench.yaml", "bench.rdpipe.lock"):
        shutil.copy2(source / name, target / name)
    return target / "bench.yaml"


@dataclass(frozen=True)
class Moves:
    """One clip size's push and pull on each store (keys: store name)."""

    size: int
    run: Measured
    push: dict[str, Measured]
    pull: dict[str, Measured]


def move_clip(bench: Bench, label: str, size: int) -> Moves:
    """Generate a one-shot pipeline whose clip is ``size`` bytes, push it to each new store from
    its folder, and pull it into a clone from each; the API must hear nothing from a pull."""
    clip = make_noise_clip(find_ffmpeg({}), bench.work / f"served-{label}.mp4", size)
    size = clip.stat().st_size
    folder = bench.work / label
    pushes: dict[str, Measured] = {}
    pulls: dict[str, Measured] = {}
    with bench.simulator(clip) as sim:
        run = bench.generate(folder / "a", 1)
        print(f"  {label}: {size / MIB:.1f} MiB clip generated in {run.wall:.1f} s", flush=True)
        for store, url in bench.stores(label).items():
            file = folder / "a" / "bench.yaml"
            pushes[store] = measure(bench.rdpipe("push", str(file), "--remote", url),
                                    bench.env, file.parent).check()  # fmt: skip
            copy = clone(folder / "a", folder / f"clone-{len(pulls)}")
            sim.clear_observations()
            pulls[store] = measure(bench.rdpipe("pull", str(copy), "--remote", url),
                                   bench.env, copy.parent).check()  # fmt: skip
            pulled = sum(p.stat().st_size for p in copy.parent.rglob("*.mp4"))
            if pulled != size or sim.counters():
                raise RuntimeError(f"pull from {store}: {pulled} bytes, requests {sim.counters()}")
            for command, moved in (("push", pushes[store]), ("pull", pulls[store])):
                print(f"  {label}, {store}, {command}: {moved.wall:.1f} s, CPU {moved.cpu:.1f} s, "
                      f"ru_maxrss {moved.peak_kib} KiB, VmHWM sampled {moved.own_kib} KiB",
                      flush=True)  # fmt: skip
    shutil.rmtree(folder)
    clip.unlink()
    return Moves(size, run, pushes, pulls)


def memory_rows(small: Moves, big: Moves) -> list[Row]:
    """Peak RSS of each push and pull, big clip against small, and the run that made them."""
    sizes = f"{_size(big.size)} clip / {_size(small.size)} clip"
    rows = []
    for command in ("push", "pull"):
        for store in big.push:
            a = getattr(big, command)[store].peak_kib
            b = getattr(small, command)[store].peak_kib
            rows.append(
                Row(
                    f"`rdpipe {command}`, {store} store",
                    f"peak RSS (ru_maxrss), {sizes}",
                    f"{a / 1024:.0f} / {b / 1024:.0f} MiB = {a / b:.2f}",
                    f"peak RSS of a `rdpipe {command}` process moving a 1 GiB clip within "
                    f"{FLAT}x of moving a 16 MiB clip",
                    verdict(a <= FLAT * b),
                )
            )
    a, b = big.run.own_kib, small.run.own_kib
    rows.append(
        Row(
            "`rdpipe run` downloading the clip from the server, then assembling",
            f"rdpipe's own VmHWM (ffmpeg excluded), {sizes}",
            f"{a / 1024:.0f} / {b / 1024:.0f} MiB = {a / b:.2f}",
        )
    )
    return rows


def throughput_rows(big: Moves) -> list[Row]:
    """MB/s of each push and pull of the big clip: its bytes over the command's wall time."""
    return [
        Row(
            f"`rdpipe {command}`, {store} store, {_size(big.size)} clip",
            "MB/s: clip bytes / wall time of the command (start-up included); wall; rdpipe CPU",
            f"{big.size / moved.wall / 1e6:.0f} MB/s; {moved.wall:.1f} s; {moved.cpu:.1f} s",
        )
        for command in ("push", "pull")
        for store, moved in getattr(big, command).items()
    ]


def clone_rows(bench: Bench, shots: int) -> list[Row]:
    """A teammate's clone of a ``shots``-shot pipeline runs with each store, then without one
    (clips downloaded again from the server by task id): requests to the API and wall time."""
    clip = render_served_clip(bench.work / "served-small.mp4")
    folder = bench.work / "team"
    rows = []
    with bench.simulator(clip) as sim:
        stores = bench.stores("team")
        first, *others = stores.values()
        bench.generate(folder / "a", shots, "--remote", first)
        for url in others:
            measure(bench.rdpipe("push", str(folder / "a" / "bench.yaml"), "--remote", url),
                    bench.env, folder).check()  # fmt: skip
        lock = (folder / "a" / "bench.rdpipe.lock").read_bytes()
        for number, (store, remote) in enumerate(
            [*((f"{name} store", ("--remote", url)) for name, url in stores.items()),
             ("no store (server by task id)", ("--no-remote",))]
        ):  # fmt: skip
            copy = clone(folder / "a", folder / f"clone-{number}")
            sim.clear_observations()
            run = measure(bench.rdpipe("run", str(copy), *remote), bench.env, copy.parent).check()
            counters = sim.counters()
            requests = sum(counters.values())
            posts = sum(n for name, n in counters.items() if name.startswith("POST"))
            same = (copy.parent / "bench.rdpipe.lock").read_bytes() == lock
            print(f"  clone, {store}: {run.wall:.1f} s, {counters}", flush=True)
            with_store = remote[0] == "--remote"
            rows.append(
                Row(
                    f"clone of a {shots}-shot pipeline, `rdpipe run`, {store}",
                    "requests to the API (POST); wall time; lock file byte-identical",
                    f"{requests} ({posts}); {run.wall:.1f} s; {'yes' if same else 'NO'}",
                    "0 API requests" if with_store else "0 POST",
                    verdict((requests if with_store else posts) == 0 and same),
                )
            )
    return rows


def _size(size: int) -> str:
    """``size`` bytes in MiB, or in GiB from 1000 MiB up (a clip made for 1 GiB is about it)."""
    return f"{size / (1 << 30):.2f} GiB" if size >= 1000 * MIB else f"{size / MIB:.1f} MiB"


def _environ(work: Path, s3: MotoS3) -> dict[str, str]:
    """Children's environment: the simulator's key, the S3 server, no store or AWS profile of
    the machine's, and a bytecode cache (as ``run_bench.py`` gives, for the same reason)."""
    env = {**os.environ, **s3.environ, "RELAYDANCE_API_KEY": API_KEY}
    for name in ("RDPIPE_REMOTE", "AWS_PROFILE", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return env


def describe(argv: Sequence[str], loads: str, factor: float, small: Moves, big: Moves) -> str:
    """The text above the table: command, date, machine, what was moved and how it was timed."""
    command = " ".join([".venv/bin/python bench/store_bench.py", *argv])
    return (
        f"Command: `{command}`, {datetime.date.today().isoformat()}.\n\n"
        f"Machine: {machine()}; shared, 1-minute load average {loads} during the run.\n\n"
        f"Clips: {small.size:,} and {big.size:,} bytes, 1280x720 24 fps H.264 of random noise "
        "(lossless, so it does not compress), served by the simulator as the clip of a one-shot "
        "pipeline, generated with `rdpipe run --no-remote`. Each store is new and empty: "
        "`rdpipe push FILE --remote URL` from the pipeline's folder, then `rdpipe pull FILE "
        "--remote URL` in a clone holding only the pipeline and its lock file. Every command is "
        "a fresh `python -m rdpipe` process, forked from a small launcher that waits for it "
        "with `wait4`: peak RSS is that `ru_maxrss` (exact; push and pull start no child), the "
        "run's row the process's own VmHWM sampled every 20 ms (its ffmpeg children excluded); "
        "CPU is user + system. Stores: a folder on this disk (`file://`) and moto's S3 server "
        "(`python -m moto.server` on 127.0.0.1, started by the bench). The clone runs use the "
        f"simulator's usual 4 s 480p clip; their time is scaled down {factor:g}x as in "
        "`bench/run_bench.py`."
    )


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--big-mib", type=int, default=1024, help="the big clip (MiB)")
    parser.add_argument("--small-mib", type=int, default=16, help="the small clip (MiB)")
    parser.add_argument("--shots", type=int, default=10, help="shots of the cloned pipeline")
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    parser.add_argument("--time-factor", type=float, default=30.0, help="real time / bench time")
    args = parser.parse_args(argv)
    loads = [load_average()]
    with tempfile.TemporaryDirectory(prefix="rdpipe-store-bench-") as scratch:
        work = Path(scratch)
        with MotoS3(work).running() as s3:
            bench = Bench(work, s3, ScaledTime(args.time_factor), _environ(work, s3))
            print("clone runs...", flush=True)
            rows = clone_rows(bench, args.shots)
            loads.append(load_average())
            print("small clip...", flush=True)
            small = move_clip(bench, "small", args.small_mib * MIB)
            print("big clip...", flush=True)
            big = move_clip(bench, "big", args.big_mib * MIB)
            loads.append(load_average())
    rows = [*memory_rows(small, big), *throughput_rows(big), *rows]
    about = describe(sys.argv[1:], " → ".join(loads), args.time_factor, small, big)
    text = f"{about}\n\n{table(rows)}"
    print(f"\n{text}")
    if not args.no_write:
        write_section(ROOT / "BENCHMARKS.md", text, heading=HEADING, begin=BEGIN, end=END)


if __name__ == "__main__":
    main()

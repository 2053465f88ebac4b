"""Measure uploads of local media in one run: memory of a run that uploads a reference video.

The goal is issue 14's: the ``PUT`` of a local file is "memory flat whatever the size", stated
as the peak RSS of a ``rdpipe run`` process uploading a 1 GiB reference video within 1.1x of
one uploading a 16 MiB reference video. For information: the upload's MB/s, the time
``rdpipe validate`` takes on the 1 GiB file (it reads the header with PyAV and hashes md5 and
sha256 in one pass), and that each run made exactly one ``PUT``, none with the API key.

Run: ``.venv/bin/python bench/upload_bench.py [--big-mib 1024] [--small-mib 16] [--no-write]``.

Everything is the real code path: ``python -m rdpipe run FILE --no-remote`` in a child process
(forked by ``store_bench``'s launcher, which reports its ``ru_maxrss``) on a one-shot pipeline
whose shot cites a local reference video, ``references: {walk: {video: refs/walk.mp4}}``,
against the simulator served from this process on 127.0.0.1 (API and media host; its storage
origin takes the presigned ``PUT``). The reference is a 10 s 24 fps H.264 video of random
noise, lossless, its picture sized so the file is the size wanted; the simulator serves its
usual 4 s 480p clip as the task's result, so the run's own download is small. The table goes
to stdout and, unless ``--no-write``, into the "Uploads of local media" section of
BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import math
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from _report import Row, machine, table, verdict, write_section
from _scenario import MODEL, ScaledTime, render_served_clip
from store_bench import Measured, load_average, measure

from rdpipe.ffmpeg_path import find_ffmpeg
from rdpipe.sim import SimConfig, SimServer, run_simulator

ROOT = Path(__file__).resolve().parent.parent
HEADING = "## Uploads of local media (`bench/upload_bench.py`)"
BEGIN = "<!-- upload_bench: begin (generated, rewritten by each run) -->"
END = "<!-- upload_bench: end -->"
API_KEY = "sk-bench"
MIB = 1 << 20
FLAT = 1.1  # the most the big upload's peak RSS may be, as a multiple of the small one's
SECONDS, FPS = 10, 24  # every reference video: inside the model's 2 to 15 s
_WATCH_PERIOD = 0.01  # seconds between two looks at the simulator during a run


def make_reference_video(ffmpeg: str, dest: Path, size: int) -> Path:
    """Render a 10 s 24 fps H.264 mp4 of random noise of about ``size`` bytes at ``dest``.

    Lossless noise costs about the same number of bytes per pixel at any picture size, so a
    one-second 640x360 probe gives the 16:9 picture (width a multiple of 16) whose 240 frames
    make ``size``. The index is written first (``+faststart``), as a camera's export would.
    """
    source = "color=c=gray:s={}x{}:r=" + str(FPS) + ",noise=alls=100:allf=t+u"
    encode = ["-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p"]

    def render(width: int, height: int, frames: int) -> int:
        subprocess.run(
            [ffmpeg, "-y", "-loglevel", "error", "-f", "lavfi", "-i",
             source.format(width, height), "-frames:v", str(frames), *encode,
             "-movflags", "+faststart", str(dest)],
            check=True,
        )  # fmt: skip
        return dest.stat().st_size

    per_pixel = render(640, 360, FPS) / (640 * 360 * FPS)
    pixels = size / (SECONDS * FPS) / per_pixel
    width = max(64, 16 * round(math.sqrt(pixels * 16 / 9) / 16))
    render(width, 2 * round(width * 9 / 32), SECONDS * FPS)
    return dest


def write_pipeline(folder: Path, video: Path) -> Path:
    """A one-shot pipeline in ``folder`` whose shot carries and cites ``video`` (moved to
    refs/walk.mp4)."""
    (folder / "refs").mkdir(parents=True)
    video.replace(folder / "refs" / "walk.mp4")
    lines = [
        "version: 1",
        "name: upload",
        f"model: {MODEL}",
        'defaults: {seconds: 4, ratio: "16:9", generate_audio: false}',
        "references: {walk: {video: refs/walk.mp4}}",
        "output: {path: out/upload.mp4, contact_sheet: false}",
        "shots:",
        "  - id: s0001",
        "    prompt: \"The dancer moves as in {{ ref('walk') }}, a quiet harbour at dawn\"",
        "    references: [walk]",
    ]
    path = folder / "upload.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class PutWatch:
    """When the storage origin first saw a ``PUT`` and when its file was first hosted.

    Looks at the simulator every 10 ms from a thread of this process: ``started`` is the first
    look that finds a ``PUT`` in the request log (logged when its headers arrive), ``ended``
    the first that finds a new hosted file (moved into place once its last byte is written and
    its md5 checked, just before the 200). Both are ``time.perf_counter()``, ``None`` if never
    seen; each may be late by one period.
    """

    def __init__(self, sim: SimServer) -> None:
        self._sim = sim
        self._before = set(sim.hosted_files())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self.started: float | None = None
        self.ended: float | None = None

    @property
    def seconds(self) -> float | None:
        """Seconds from the ``PUT``'s arrival to its file hosted, if both were seen."""
        if self.started is None or self.ended is None:
            return None
        return self.ended - self.started

    @contextlib.contextmanager
    def running(self) -> Iterator[PutWatch]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(_WATCH_PERIOD) and self.ended is None:
            now = time.perf_counter()
            if self.started is None and any(r.method == "PUT" for r in self._sim.requests()):
                self.started = now
            if self.started is not None and set(self._sim.hosted_files()) - self._before:
                self.ended = now


@dataclass(frozen=True)
class Upload:
    """One ``rdpipe run`` of the one-shot pipeline: the reference's size, the measured run,
    the ``PUT``'s seconds (see :class:`PutWatch`), and the storage origin's requests: PUTs,
    PUTs with an ``Authorization`` header, all of them, all with one; ``picture`` is the
    reference's ``WxH, S s``; ``bench_cpu`` is this process's CPU seconds during the run (the
    simulator receiving, hashing and writing the upload, mostly)."""

    size: int
    picture: str
    run: Measured
    bench_cpu: float
    put_seconds: float | None
    puts: int
    keyed_puts: int
    storage: int
    keyed_storage: int


@dataclass
class Bench:
    """The work folder, the running simulator, the children's environment and the poll cadence."""

    work: Path
    sim: SimServer
    env: dict[str, str]
    poll_interval: float

    def rdpipe(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "rdpipe", *args]

    def upload(self, label: str, video: Path) -> Upload:
        """Run a new one-shot pipeline in its own folder citing ``video``; what the storage saw."""
        file = write_pipeline(self.work / label, video)
        size = (file.parent / "refs" / "walk.mp4").stat().st_size
        argv = self.rdpipe("run", str(file), "--no-remote", "--poll-interval",
                           f"{self.poll_interval:g}")  # fmt: skip
        self.sim.clear_observations()
        before = _own_cpu()
        with PutWatch(self.sim).running() as watch:
            run = measure(argv, self.env, file.parent).check()
        bench_cpu = _own_cpu() - before
        storage = [r for r in self.sim.requests() if r.origin == "storage"]
        puts = [r for r in storage if r.method == "PUT"]
        print(f"  {label}: {size / MIB:.1f} MiB uploaded, run {run.wall:.1f} s, "
              f"CPU {run.cpu:.1f} s, PUT {watch.seconds} s, ru_maxrss {run.peak_kib} KiB, "
              f"VmHWM sampled {run.own_kib} KiB, bench CPU {bench_cpu:.1f} s, "
              f"storage requests {[r.method for r in storage]}", flush=True)  # fmt: skip
        return Upload(
            size, _picture(file.parent / "refs" / "walk.mp4"), run, bench_cpu, watch.seconds,
            len(puts),
            sum("authorization" in r.headers for r in puts),
            len(storage), sum("authorization" in r.headers for r in storage),
        )  # fmt: skip

    def validate(self, file: Path) -> Measured:
        """``rdpipe validate FILE``, timed."""
        return measure(self.rdpipe("validate", str(file)), self.env, file.parent).check()


def evict(path: Path) -> None:
    """Drop ``path``'s pages (and only its) from the page cache, so the next read is from disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
        os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(descriptor)


@dataclass(frozen=True)
class Validated:
    """``rdpipe validate`` of the big pipeline, its file's pages evicted first, then cached;
    and of the small pipeline (cached), whose time is mostly start-up."""

    cold: Measured
    warm: Measured
    small: Measured


def memory_rows(small: Upload, big: Upload) -> list[Row]:
    """The goal (ru_maxrss, big against small) and the same from the sampled own VmHWM."""
    sizes = f"{_size(big.size)} / {_size(small.size)} reference"
    a, b = big.run.peak_kib, small.run.peak_kib
    c, d = big.run.own_kib, small.run.own_kib
    return [
        Row(
            "`rdpipe run` of a one-shot pipeline uploading its local reference video",
            f"peak RSS (ru_maxrss), {sizes}",
            f"{a / 1024:.0f} / {b / 1024:.0f} MiB = {a / b:.2f}",
            f"peak RSS of a `rdpipe run` process uploading a 1 GiB reference within {FLAT}x "
            "of one uploading a 16 MiB reference",
            verdict(a <= FLAT * b),
        ),
        Row(
            "the same runs",
            f"rdpipe's own VmHWM sampled every 20 ms (ffmpeg excluded), {sizes}",
            f"{c / 1024:.0f} / {d / 1024:.0f} MiB = {c / d:.2f}",
        ),
    ]


def upload_rows(uploads: Sequence[Upload]) -> list[Row]:
    """MB/s of each upload, from the PUT's own time, and the run's wall time and CPU."""
    rows = []
    for upload in uploads:
        put = upload.put_seconds
        speed = f"{upload.size / put / 1e6:.0f} MB/s; PUT {put:.2f} s" if put else "PUT not seen"
        rows.append(
            Row(
                f"the upload of the {_size(upload.size)} reference",
                "MB/s: file bytes / the PUT's time (its arrival at the simulator to its file "
                "hosted, seen every 10 ms); the run's wall time; CPU of rdpipe, of the "
                "simulator's process",
                f"{speed}; run {upload.run.wall:.1f} s; {upload.run.cpu:.1f} s, "
                f"{upload.bench_cpu:.1f} s",
            )
        )
    return rows


def put_rows(uploads: Sequence[Upload]) -> list[Row]:
    """Each run's PUTs and the storage requests that carried the key."""
    return [
        Row(
            f"`rdpipe run`, {_size(upload.size)} reference",
            "PUTs to the storage origin; of them with an `Authorization` header; "
            "storage requests (all) with one",
            f"{upload.puts}; {upload.keyed_puts}; {upload.keyed_storage} of {upload.storage}",
            "exactly 1 PUT, no storage request with the key (issue 14, Done when)",
            verdict(upload.puts == 1 and upload.keyed_storage == 0),
        )
        for upload in uploads
    ]


def validate_rows(small: Upload, big: Upload, validated: Validated) -> list[Row]:
    """``rdpipe validate`` of each pipeline: wall time, CPU and peak RSS; MB/s of the big file
    over the time beyond the small pipeline's validate (start-up, mostly)."""
    base = validated.small.wall
    rows = [
        Row(
            f"`rdpipe validate` of the pipeline citing the {_size(big.size)} reference, "
            f"its pages {state}",
            "wall time (start-up included); MB/s: file bytes / (wall time - the "
            f"{_size(small.size)} pipeline's); CPU; peak RSS (ru_maxrss)",
            f"{moved.wall:.1f} s; {big.size / max(moved.wall - base, 1e-3) / 1e6:.0f} MB/s; "
            f"{moved.cpu:.1f} s; {moved.peak_kib / 1024:.0f} MiB",
        )
        for state, moved in (
            ("evicted from the page cache first", validated.cold),
            ("cached", validated.warm),
        )
    ]
    rows.append(
        Row(
            f"`rdpipe validate` of the pipeline citing the {_size(small.size)} reference, cached",
            "wall time; CPU; peak RSS (ru_maxrss)",
            f"{base:.1f} s; {validated.small.cpu:.1f} s; {validated.small.peak_kib / 1024:.0f} MiB",
        )
    )
    return rows


def _own_cpu() -> float:
    """User + system seconds of this process so far (every thread: the simulator's too)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _picture(video: Path) -> str:
    """``"WxH, S s"`` of ``video``'s first video stream, read with PyAV."""
    import av

    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        seconds = (container.duration or 0) / av.time_base
        return f"{stream.codec_context.width}x{stream.codec_context.height}, {seconds:.1f} s"


def _size(size: int) -> str:
    """``size`` bytes in MiB, or in GiB from 1000 MiB up (a file made for 1 GiB is about it)."""
    return f"{size / (1 << 30):.2f} GiB" if size >= 1000 * MIB else f"{size / MIB:.1f} MiB"


def _environ(work: Path) -> dict[str, str]:
    """Children's environment: the simulator's key, no store or media host of the machine's,
    and a bytecode cache (as ``run_bench.py`` gives, for the same reason)."""
    env = {**os.environ, "RELAYDANCE_API_KEY": API_KEY}
    for name in ("RDPIPE_REMOTE", "RELAYDANCE_MEDIA_URL", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return env


@contextlib.contextmanager
def started(work: Path, scaled: ScaledTime, clip: Path) -> Iterator[Bench]:
    """The simulator serving ``clip`` for every task, and the bench that runs rdpipe at it."""
    config = SimConfig(api_key=API_KEY, timing=scaled.timing, clip_file=clip,
                       work_dir=work / "sim")  # fmt: skip
    with run_simulator(config) as sim:
        env = _environ(work)
        env["RELAYDANCE_BASE_URL"] = sim.base_url
        yield Bench(work, sim, env, scaled.poll_interval)


def describe(argv: Sequence[str], loads: str, small: Upload, big: Upload) -> str:
    """The text above the table: command, date, machine, what was uploaded and how it was timed."""
    command = " ".join([".venv/bin/python bench/upload_bench.py", *argv])
    return (
        f"Command: `{command}`, {datetime.date.today().isoformat()}.\n\n"
        f"Machine: {machine()}; shared, 1-minute load average {loads} during the run.\n\n"
        f"References: {small.size:,} bytes ({small.picture}) and {big.size:,} bytes "
        f"({big.picture}), {FPS} fps H.264 mp4 of random noise (lossless, so it does not "
        "compress; the picture sized for the bytes), "
        "each cited as `references: {walk: {video: refs/walk.mp4}}` by the one shot of a new "
        "pipeline in a folder of its own, run with `rdpipe run FILE --no-remote` against the "
        "simulator on 127.0.0.1 (API, media host and storage origin, served from the bench's "
        "process, which therefore also receives, hashes and writes the bytes; its usual 4 s "
        "480p clip is every task's result). Before the measured runs, an unmeasured run "
        "uploading that clip as a reference fills the bytecode cache. Every command is a fresh "
        "`python -m rdpipe` process, forked from a small launcher that waits for it with "
        "`wait4`: peak RSS is that `ru_maxrss` (of rdpipe, or of an ffmpeg it waited for if "
        "larger), checked against rdpipe's own VmHWM sampled every 20 ms; CPU is user + "
        "system. The PUT's time is watched from the bench, there being no timestamps in the "
        "simulator's request log. `rdpipe validate` runs after the uploads; for its first run "
        "the big file's pages are dropped from the page cache (`posix_fadvise` DONTNEED on "
        "that file only)."
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--big-mib", type=int, default=1024, help="the big reference (MiB)")
    parser.add_argument("--small-mib", type=int, default=16, help="the small reference (MiB)")
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    parser.add_argument("--time-factor", type=float, default=30.0, help="real time / bench time")
    args = parser.parse_args(argv)
    loads = [load_average()]
    ffmpeg = find_ffmpeg({})
    with tempfile.TemporaryDirectory(prefix="rdpipe-upload-bench-") as scratch:
        work = Path(scratch)
        clip = render_served_clip(work / "served.mp4")
        print("rendering the references...", flush=True)
        small_video = make_reference_video(ffmpeg, work / "small.mp4", args.small_mib * MIB)
        big_video = make_reference_video(ffmpeg, work / "big.mp4", args.big_mib * MIB)
        loads.append(load_average())
        with started(work, ScaledTime(args.time_factor), clip) as bench:
            warm_up = work / "warm-up.mp4"
            warm_up.write_bytes(clip.read_bytes())
            bench.upload("warm-up", warm_up)
            small = bench.upload("small", small_video)
            big = bench.upload("big", big_video)
            loads.append(load_average())
            big_file = work / "big" / "upload.yaml"
            evict(big_file.parent / "refs" / "walk.mp4")
            validated = Validated(bench.validate(big_file), bench.validate(big_file),
                                  bench.validate(work / "small" / "upload.yaml"))  # fmt: skip
            print(f"  validate: {validated.cold.wall:.1f} s cold, {validated.warm.wall:.1f} s "
                  f"warm, small {validated.small.wall:.1f} s", flush=True)  # fmt: skip
        loads.append(load_average())
    rows = [
        *memory_rows(small, big),
        *upload_rows([small, big]),
        *validate_rows(small, big, validated),
        *put_rows([small, big]),
    ]
    about = describe(sys.argv[1:], " → ".join(loads), small, big)
    text = f"{about}\n\n{table(rows)}"
    print(f"\n{text}")
    if not args.no_write:
        write_section(ROOT / "BENCHMARKS.md", text, heading=HEADING, begin=BEGIN, end=END)


if __name__ == "__main__":
    main()

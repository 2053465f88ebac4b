"""Time rdpipe's assembly against plain ffmpeg, a single-pass filtergraph and MoviePy.

Run: ``.venv/bin/python bench/assemble_bench.py [--clips 100] [--mixed 12] [--repeat 3]
[--moviepy-compatible 24] [--moviepy-mixed 12]``. Every comparison runs on the same generated
clips in one run and prints a Markdown table of ratios (paste it into BENCHMARKS.md). The fast
cases run ``--repeat`` times, A and B alternately, and report medians: this machine's noise is
±30% run to run. Every timed rdpipe run starts from an empty cache, except the re-assembly.
Needs the ``bench`` extra (MoviePy).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from functools import partial
from pathlib import Path

import anyio

from rdpipe.assemble import AssemblyResult, ClipInput, TargetFormat, assemble
from rdpipe.ffmpeg_path import find_ffmpeg
from rdpipe.model.output import OutputSpec

SPEC = OutputSpec(contact_sheet=False, preset="veryfast")
TARGET = TargetFormat(640, 360, Fraction(25))
# (width, height, rate, audio, webm) cycled over the mixed set
Recipe = tuple[int, int, str, bool, bool]
MIXED: list[Recipe] = [(640, 360, "24", True, False), (1280, 720, "25", False, False),
         (854, 480, "30000/1001", True, False), (360, 640, "30", True, False),
         (640, 360, "25", True, True), (1920, 1080, "30", False, False)]  # fmt: skip


def make_clip(ffmpeg: str, dest: Path, size: tuple[int, int], rate: str, audio: bool,
              webm: bool, seconds: float, hue: int) -> Path:  # fmt: skip
    """Encode a test pattern (and a tone) clip."""
    argv = [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i",
            f"testsrc2=s={size[0]}x{size[1]}:r={rate}:d={seconds},hue=h={hue}"]  # fmt: skip
    if audio:
        argv += ["-f", "lavfi", "-i", f"sine=f={220 + hue}:r=44100:d={seconds}"]
    if webm:
        argv += ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus"]
    else:
        argv += ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
        argv += ["-ar", "48000", "-ac", "2"]
    subprocess.run([*argv, str(dest)], check=True)
    return dest


def timed(action: Callable[[], object]) -> float:
    """Wall-clock seconds of one call."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def rdpipe_join(ffmpeg: str, clips: list[Path], out: Path, cache: Path) -> AssemblyResult:
    """Run the assembly stage, probing included."""
    inputs = [ClipInput(f"shot{i}", p) for i, p in enumerate(clips)]

    async def main() -> AssemblyResult:
        return await assemble(inputs, SPEC, output=out, cache_dir=cache, ffmpeg=ffmpeg,
                              target=TARGET, concurrency=os.cpu_count() or 2)  # fmt: skip

    return anyio.run(main)


def plain_concat(ffmpeg: str, clips: list[Path], out: Path) -> None:
    """The baseline: ``ffmpeg -f concat -c copy``."""
    listing = out.with_suffix(".txt")
    listing.write_text("".join(f"file '{p}'\n" for p in clips))
    subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
                    "-c", "copy", str(out)], check=True)  # fmt: skip


def single_pass(
    ffmpeg: str, clips: list[Path], audio: list[bool], seconds: float, out: Path
) -> None:
    """A hand-written filtergraph that normalises and joins everything in one ffmpeg run."""
    argv, chains, pairs = [ffmpeg, "-v", "error", "-y"], [], []
    w, h = TARGET.width, TARGET.height
    for clip in clips:
        argv += ["-i", str(clip)]
    for index, has_audio in enumerate(audio):
        chains.append(
            f"[{index}:v]fps=25,scale={w}:{h}:force_original_aspect_ratio=decrease,"
            f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p[v{index}]"
        )
        if has_audio:
            source = f"[{index}:a]aresample=48000,aformat=channel_layouts=stereo,apad"
        else:
            source = "anullsrc=r=48000:cl=stereo"
        chains.append(f"{source},atrim=end_sample={round(seconds * 48000)}[a{index}]")
        pairs.append(f"[v{index}][a{index}]")
    chains.append(f"{''.join(pairs)}concat=n={len(clips)}:v=1:a=1[v][a]")
    argv += [
        "-filter_complex",
        ";".join(chains),
        "-map",
        "[v]",
        "-map",
        "[a]",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "20",
        "-c:a",
        "aac",
        "-b:a",
        "192k",  # the same audio rate rdpipe's output has: compare equal outputs
        str(out),
    ]
    subprocess.run(argv, check=True)


def moviepy_join(clips: list[Path], out: Path) -> None:
    """MoviePy's concatenate_videoclips + write_videofile at rdpipe's x264 preset."""
    from moviepy import VideoFileClip, concatenate_videoclips  # type: ignore[import-untyped,import-not-found,unused-ignore]

    loaded = [VideoFileClip(str(p)) for p in clips]
    joined = concatenate_videoclips(loaded, method="compose")
    joined.write_videofile(str(out), fps=25, codec="libx264", preset="veryfast",
                           audio_codec="aac", logger=None)  # fmt: skip
    for clip in loaded:
        clip.close()


Row = tuple[str, str, float, float, float, str]


def median_pair(repeat: int, run_a: Callable[[int], object], run_b: Callable[[int], object]
                ) -> tuple[float, float]:  # fmt: skip
    """Median seconds of A and of B, run alternately ``repeat`` times so noise hits both."""
    times_a, times_b = [], []
    for attempt in range(repeat):
        times_b.append(timed(partial(run_b, attempt)))
        times_a.append(timed(partial(run_a, attempt)))
    return statistics.median(times_a), statistics.median(times_b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clips", type=int, default=100, help="compatible clips to copy-join")
    parser.add_argument("--mixed", type=int, default=12, help="heterogeneous clips")
    parser.add_argument("--moviepy-compatible", type=int, default=24,
                        help="compatible clips given to MoviePy (0 skips)")  # fmt: skip
    parser.add_argument("--moviepy-mixed", type=int, default=12,
                        help="mixed clips given to MoviePy (0 skips)")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each clip")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each non-MoviePy case; medians are reported")  # fmt: skip
    args = parser.parse_args()
    ffmpeg = find_ffmpeg(os.environ)
    work = Path(tempfile.mkdtemp(prefix="rdpipe-bench-"))
    count = max(args.clips, args.moviepy_compatible)
    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        same = list(pool.map(lambda i: make_clip(ffmpeg, work / f"same{i}.mp4", (640, 360), "25",
                                                 True, False, args.seconds, i * 3 % 360),
                             range(count)))  # fmt: skip
        recipes = [MIXED[i % len(MIXED)] for i in range(args.mixed)]
        mixed = list(pool.map(lambda i: make_clip(
            ffmpeg, work / f"mixed{i}.{'webm' if recipes[i][4] else 'mp4'}",
            recipes[i][:2], recipes[i][2], recipes[i][3], recipes[i][4], args.seconds, i * 29),
            range(args.mixed)))  # fmt: skip
    rows = copy_rows(ffmpeg, same[: args.clips], work, args)
    rows += moviepy_rows(ffmpeg, same, mixed, work, args)
    rows += normalise_rows(ffmpeg, mixed, recipes, work, args)
    print_table(rows, args)


def copy_rows(ffmpeg: str, same: list[Path], work: Path, args: argparse.Namespace) -> list[Row]:
    """rdpipe's copy join against plain ``ffmpeg -f concat -c copy``, both from cold."""
    ours, plain = median_pair(
        args.repeat,
        lambda n: rdpipe_join(ffmpeg, same, work / "copy.mp4", work / f"copy-cache{n}"),
        lambda n: plain_concat(ffmpeg, same, work / "plain.mp4"),
    )
    return [(f"copy join, {len(same)} compatible clips", "rdpipe / ffmpeg concat -c copy",
             ours, plain, ours / plain, "≤ 1.5")]  # fmt: skip


def moviepy_rows(
    ffmpeg: str, same: list[Path], mixed: list[Path], work: Path, args: argparse.Namespace
) -> list[Row]:
    """MoviePy against rdpipe on the same clips, each rdpipe run with an empty cache."""
    rows: list[Row] = []
    cases = [("compatible", same[: args.moviepy_compatible], "≥ 100"),
             ("mixed", mixed[: args.moviepy_mixed], "≥ 6")]  # fmt: skip
    for name, clips, goal in cases:
        if not clips:
            continue
        ours = timed(partial(rdpipe_join, ffmpeg, clips, work / f"{name}.mp4", work / f"mp-{name}"))
        movie = timed(partial(moviepy_join, clips, work / f"moviepy-{name}.mp4"))
        rows.append((f"{name}, {len(clips)} clips", "MoviePy / rdpipe", movie, ours,
                     movie / ours, goal))  # fmt: skip
    return rows


def normalise_rows(
    ffmpeg: str, mixed: list[Path], recipes: list[Recipe], work: Path, args: argparse.Namespace
) -> list[Row]:
    """rdpipe's normalise path against one hand-written filtergraph, then after one change."""
    audio = [recipe[3] for recipe in recipes]
    normalise, one_pass = median_pair(
        args.repeat,
        lambda n: rdpipe_join(ffmpeg, mixed, work / "norm.mp4", work / f"norm-cache{n}"),
        lambda n: single_pass(ffmpeg, mixed, audio, args.seconds, work / "single.mp4"),
    )
    w, h, rate, has_audio, webm = recipes[1]
    cache = work / f"norm-cache{args.repeat - 1}"

    def change_and_assemble(attempt: int) -> None:
        make_clip(ffmpeg, mixed[1], (w, h), rate, has_audio, webm, args.seconds, 200 + attempt)
        start = time.perf_counter()
        result = rdpipe_join(ffmpeg, mixed, work / "norm.mp4", cache)
        again.append(time.perf_counter() - start)
        assert result.encoded == 1, result.encoded

    again: list[float] = []
    for attempt in range(args.repeat):
        change_and_assemble(attempt)
    reassembly = statistics.median(again)
    return [
        (f"normalise, {len(mixed)} mixed clips", "rdpipe / single-pass filtergraph",
         normalise, one_pass, normalise / one_pass, "≤ 1.0"),
        (f"one of {len(mixed)} mixed clips changed", "single pass / rdpipe re-assembly",
         one_pass, reassembly, one_pass / reassembly, "≥ 5"),
    ]  # fmt: skip


def print_table(
    rows: list[tuple[str, str, float, float, float, str]], args: argparse.Namespace
) -> None:
    """A Markdown table of the measured ratios."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    print(f"Machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"clips of {args.seconds:g} s; medians of {args.repeat} runs\n")  # fmt: skip
    print("| case | ratio measured | A (s) | B (s) | A / B | goal |")
    print("|---|---|---:|---:|---:|---|")
    for case, what, a, b, ratio, goal in rows:
        print(f"| {case} | {what} | {a:.2f} | {b:.2f} | {ratio:.2f} | {goal} |")


if __name__ == "__main__":
    main()

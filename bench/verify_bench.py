"""Time the check that a clip is whole (issue 11 §3) on 5 s 720p clips, as Seedance makes them.

Run: ``.venv/bin/python bench/verify_bench.py [--repeat 7]``. Encodes 5 s 1280x720 24 fps
H.264 + AAC clips (faststart, like the service's) at two bit rates and two keyframe intervals,
then prints the median and best time of :func:`rdpipe.assemble.media_gap` on each, next to
the time to hash the file (which every download pays anyway) and to decode every frame.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av

from rdpipe.assemble import media_gap
from rdpipe.ffmpeg_path import find_ffmpeg

CASES = [("2 Mb/s, one GOP", "2M", 250), ("6 Mb/s, one GOP", "6M", 250),
         ("6 Mb/s, 2 s GOP", "6M", 48)]  # fmt: skip


def make_clip(ffmpeg: str, dest: Path, rate: str, gop: int) -> Path:
    """Encode a 5 s 720p test pattern with a tone, moov first."""
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=1280x720:r=24:d=5",
         "-f", "lavfi", "-i", "sine=r=48000:d=5", "-c:v", "libx264", "-b:v", rate, "-g", str(gop),
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", str(dest)],
        check=True,
    )  # fmt: skip
    return dest


def decode_all(path: Path) -> None:
    with av.open(str(path)) as container:
        for _ in container.decode(video=0):
            pass


def timed(work: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and best wall time of ``work`` in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    ffmpeg = find_ffmpeg({})
    print("| clip | size | check (median / best) | SHA-256 | decode every frame |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for label, rate, gop in CASES:
            clip = make_clip(ffmpeg, Path(scratch) / f"{rate}-{gop}.mp4", rate, gop)
            assert media_gap(clip) is None
            check = timed(lambda clip=clip: media_gap(clip), args.repeat)
            digest = timed(lambda clip=clip: hashlib.sha256(clip.read_bytes()), args.repeat)
            full = timed(lambda clip=clip: decode_all(clip), max(1, args.repeat // 3))
            size = clip.stat().st_size / 1e6
            print(f"| {label} | {size:.1f} MB | {check[0]:.0f} / {check[1]:.0f} ms "
                  f"| {digest[0]:.0f} ms | {full[0]:.0f} ms |")  # fmt: skip


if __name__ == "__main__":
    main()

"""Time three deliverables assembled in one run against three separate runs (issue 17 §2).

Run: ``.venv/bin/python bench/deliverables.py [--shots 4] [--seconds 4] [--repeat 1]``.

Two cases. One folder holds a pipeline with three deliverables (a 16:9 YouTube master, a 9:16
TikTok cut and a 1:1 Instagram square, both reframed); three more folders each hold the same
storyboard with one of those deliverables as its only entry. The second case does the same
with two deliverables of one frame (YouTube and EBU broadcast masters, 1920x1080, differing
in loudness), whose normalised pieces a single run shares. Each pipeline is first run
offline (the simulator renders the clips; untimed), so every folder has the same clips on
disk. Then, ``--repeat`` times and alternately, ``rdpipe assemble --offline`` is timed on the
three-deliverable pipeline (A) and on each single one in turn (B, their sum), each from an
empty piece cache: videos, normalised pieces and stamps removed, the clips, their probes and
media verdicts kept. Both sides are real processes, as a user runs them. Prints the medians,
the ratio A / B (goal below 1) and what each side encoded.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_DELIVERABLES = {
    "master": "{name: master, platform: youtube, contact_sheet: false}",
    "vertical": "{name: vertical, platform: tiktok, contact_sheet: false}",
    "square": "{name: square, platform: instagram-square, contact_sheet: false}",
    "broadcast": "{name: broadcast, platform: broadcast-ebu, contact_sheet: false}",
}


def pipeline_text(shots: int, seconds: int, names: list[str]) -> str:
    """A storyboard of ``shots`` 480p shots with sound, captioned, and the named deliverables."""
    lines = [
        "version: 1",
        "name: film",
        "model: doubao-seedance-2-0-480p",
        f"defaults: {{seconds: {seconds}, ratio: '16:9', generate_audio: true}}",
        "shots:",
    ]
    lines += [
        f"  - {{id: s{i}, prompt: shot number {i}, caption: Shot {i}, "
        f"focus: {{x: {0.2 + 0.1 * (i % 6):.1f}}}}}"
        for i in range(shots)
    ]
    lines.append("outputs:")
    lines += [f"  - {_DELIVERABLES[name]}" for name in names]
    return "\n".join(lines) + "\n"


def rdpipe(*args: str, cwd: Path) -> None:
    """Run rdpipe as a process in ``cwd``; raise with its output when it fails."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAYDANCE_")}
    done = subprocess.run([sys.executable, "-m", "rdpipe", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"rdpipe {' '.join(args)} in {cwd} failed:\n{done.stdout}{done.stderr}")


def forget_assembly(folder: Path) -> int:
    """Remove the offline videos, normalised pieces and stamps of ``folder``'s pipeline; how
    many pieces there were (what its last assembly encoded)."""
    out = folder / "out" / "offline"
    pieces = list((out / ".cache").glob("*.mov"))
    for path in [*out.glob("*.mp4"), *pieces, *(out / ".cache").glob("*.inputs")]:
        path.unlink()
    return len(pieces)


def timed_assemble(folder: Path) -> float:
    """Wall seconds of ``rdpipe assemble --offline`` in ``folder``."""
    start = time.perf_counter()
    rdpipe("assemble", "--offline", "film.yaml", cwd=folder)
    return time.perf_counter() - start


def compare(
    names: list[str], args: argparse.Namespace, work: Path
) -> tuple[float, float, int, int]:
    """Median wall seconds of one run assembling the ``names`` deliverables and of separate
    runs (their sum), and the pieces each side encoded."""
    together = work / "-".join(names)
    apart = {name: work / f"{together.name}-only-{name}" for name in names}
    for folder, chosen in [(together, names), *((f, [n]) for n, f in apart.items())]:
        folder.mkdir()
        text = pipeline_text(args.shots, args.seconds, chosen)
        (folder / "film.yaml").write_text(text, encoding="utf-8")
        rdpipe("run", "--offline", "film.yaml", cwd=folder)  # the clips, untimed
        forget_assembly(folder)
    one_run: list[float] = []
    separate: list[float] = []
    pieces = (0, 0)
    for _round in range(args.repeat):
        one_run.append(timed_assemble(together))
        encoded_together = forget_assembly(together)
        separate.append(sum(timed_assemble(folder) for folder in apart.values()))
        pieces = (encoded_together, sum(forget_assembly(f) for f in apart.values()))
    return statistics.median(one_run), statistics.median(separate), *pieces


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shots", type=int, default=4, help="shots in the storyboard")
    parser.add_argument("--seconds", type=int, default=4, help="seconds of each shot")
    parser.add_argument("--repeat", type=int, default=1, help="timed rounds (medians)")
    args = parser.parse_args()
    cases = [
        (["master", "vertical", "square"], "3 deliverables (16:9 master, 9:16 and 1:1 reframed)"),
        (["master", "broadcast"], "2 deliverables of one frame (YouTube -14 LUFS, EBU -23 LUFS)"),
    ]
    print(f"{args.shots} shots of {args.seconds} s, 864x480 clips with sound, offline; "
          f"{args.repeat} round(s), medians")  # fmt: skip
    print("| case | measured | value | pieces encoded (one run / separate) | goal | met |")
    print("|---|---|---:|---:|---|---|")
    with tempfile.TemporaryDirectory(prefix="rdpipe-deliverables-") as temporary:
        for names, title in cases:
            a, b, together, apart = compare(names, args, Path(temporary))
            verdict = "yes" if a / b < 1 else "no"
            print(f"| {title}, {args.shots} x {args.seconds} s shots | one run / "
                  f"{len(names)} separate runs (`assemble`) | {a:.2f} / {b:.2f} = {a / b:.2f} "
                  f"| {together} / {apart} | < 1 | {verdict} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()

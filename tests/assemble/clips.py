"""Recipes for small generated test clips, encoded with the bundled ffmpeg."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ClipRecipe:
    """How to make one test clip: size, rate, seconds, audio or not, container."""

    name: str
    width: int
    height: int
    rate: str
    seconds: float = 1.0
    audio: bool = True
    webm: bool = False
    hue: int = 0


def make_clip(ffmpeg: str, recipe: ClipRecipe, directory: Path) -> Path:
    """Encode a test pattern (and a tone) into a small clip."""
    suffix = "webm" if recipe.webm else "mp4"
    dest = directory / f"{recipe.name}.{suffix}"
    size = f"{recipe.width}x{recipe.height}"
    pattern = f"testsrc2=s={size}:r={recipe.rate}:d={recipe.seconds},hue=h={recipe.hue}"
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", pattern]  # fmt: skip
    if recipe.audio:
        argv += ["-f", "lavfi", "-i", f"sine=f=440:r=44100:d={recipe.seconds}"]
    if recipe.webm:
        argv += ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k"]
        argv += ["-c:a", "libopus"] if recipe.audio else []
    else:
        argv += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
        argv += ["-c:a", "aac", "-ar", "48000", "-ac", "2"] if recipe.audio else []
    subprocess.run([*argv, str(dest)], check=True)
    return dest


MIXED = (
    ClipRecipe("wide360", 640, 360, "24"),
    ClipRecipe("full1080", 1920, 1080, "25", audio=False),
    ClipRecipe("ntsc", 854, 480, "30000/1001", hue=90),
    ClipRecipe("portrait", 360, 640, "30"),
    ClipRecipe("vp9", 640, 360, "25", webm=True, hue=180),
    ClipRecipe("vp9silent", 480, 360, "30", webm=True, audio=False, hue=270),
)


@dataclass(frozen=True)
class MarkedClip:
    """A clip whose picture flashes white while its sound beeps, ``mark`` seconds into the shot.

    The shot starts at its first picture. ``video_delay`` and ``audio_delay`` start each stream
    that long after the file does (``-itsoffset``), as cameras and re-muxes leave them; ``cut``
    stream-copies the clip from that second of a longer one, so an MP4 edit list hides the
    frames (and sound) before it.
    """

    name: str
    mark: float = 1.0
    seconds: float = 2.0  # of picture
    rate: str = "25"
    video_delay: float = 0.0
    audio_delay: float = 0.0
    audio_seconds: float | None = None  # by default the sound ends with the picture
    cut: float = 0.0
    webm: bool = False


def make_marked_clip(ffmpeg: str, clip: MarkedClip, directory: Path) -> Path:
    """Encode a black 160x120 clip with a 0.1 s white flash and a 50 ms 1 kHz beep in sync."""
    dest = directory / f"{clip.name}.{'webm' if clip.webm else 'mp4'}"
    flash = clip.cut + clip.mark
    picture = (
        f"color=black:s=160x120:r={clip.rate}:d={clip.cut + clip.seconds},"
        f"drawbox=enable='between(t,{flash},{flash + 0.1})':color=white:t=fill"
    )
    beep = clip.video_delay + flash - clip.audio_delay
    heard = clip.audio_seconds or clip.video_delay + clip.cut + clip.seconds - clip.audio_delay
    sound = f"aevalsrc='if(between(t,{beep},{beep + 0.05}),sin(6283.2*t),0)':s=48000:d={heard}"
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-itsoffset", str(clip.video_delay), "-f", "lavfi", "-i", picture,
            "-itsoffset", str(clip.audio_delay), "-f", "lavfi", "-i", sound,
            "-map", "0:v", "-map", "1:a"]  # fmt: skip
    if clip.webm:
        argv += ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus"]
    else:
        argv += ["-c:v", "libx264", "-preset", "ultrafast", "-g", "250", "-pix_fmt", "yuv420p",
                 "-c:a", "aac", "-ac", "2"]  # fmt: skip
    if not clip.cut:
        subprocess.run([*argv, str(dest)], check=True)
        return dest
    uncut = dest.with_name(f"{clip.name}-uncut.mp4")
    subprocess.run([*argv, str(uncut)], check=True)
    subprocess.run([*argv[:6], "-ss", str(clip.cut), "-i", str(uncut), "-c", "copy", str(dest)],
                   check=True)  # fmt: skip
    return dest

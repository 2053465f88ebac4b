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

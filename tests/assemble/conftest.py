"""Small generated clips for the assembly tests, made once per session with the bundled ffmpeg."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from rdpipe.ffmpeg_path import find_ffmpeg


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
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
            "-i", f"testsrc2=s={size}:r={recipe.rate}:d={recipe.seconds},hue=h={recipe.hue}"]  # fmt: skip
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


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    """Path of the bundled ffmpeg."""
    return find_ffmpeg(os.environ)


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory shared by the session's generated clips."""
    return tmp_path_factory.mktemp("clips")


MIXED = (
    ClipRecipe("wide360", 640, 360, "24"),
    ClipRecipe("full1080", 1920, 1080, "25", audio=False),
    ClipRecipe("ntsc", 854, 480, "30000/1001", hue=90),
    ClipRecipe("portrait", 360, 640, "30"),
    ClipRecipe("vp9", 640, 360, "25", webm=True, hue=180),
    ClipRecipe("vp9silent", 480, 360, "30", webm=True, audio=False, hue=270),
)


@pytest.fixture(scope="session")
def mixed_clips(ffmpeg: str, clip_dir: Path) -> list[Path]:
    """Clips that differ in size, rate, codec, container, orientation and audio."""
    return [make_clip(ffmpeg, recipe, clip_dir) for recipe in MIXED]


@pytest.fixture(scope="session")
def matching_clips(ffmpeg: str, clip_dir: Path) -> list[Path]:
    """Four clips with identical stream parameters (320x180, 25 fps, AAC stereo)."""
    return [
        make_clip(ffmpeg, ClipRecipe(f"same{i}", 320, 180, "25", hue=i * 60), clip_dir)
        for i in range(4)
    ]

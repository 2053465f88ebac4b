"""Reference video and audio files for the pipeline tests, encoded once with the bundled ffmpeg."""

from __future__ import annotations

import subprocess
from pathlib import Path

#: name -> (ffmpeg input and output arguments): real files of each kind the checks meet.
RECIPES: dict[str, list[str]] = {
    "walk.mp4": ["-f", "lavfi", "-i", "testsrc2=s=160x120:r=12:d=4", "-c:v", "libx264",
                 "-preset", "ultrafast", "-pix_fmt", "yuv420p"],
    "walk.mov": ["-f", "lavfi", "-i", "testsrc2=s=160x120:r=12:d=4", "-c:v", "libx264",
                 "-preset", "ultrafast", "-pix_fmt", "yuv420p"],
    "long.mp4": ["-f", "lavfi", "-i", "testsrc2=s=160x120:r=12:d=20", "-c:v", "libx264",
                 "-preset", "ultrafast", "-pix_fmt", "yuv420p"],
    "eight.mp4": ["-f", "lavfi", "-i", "testsrc2=s=160x120:r=12:d=8", "-c:v", "libx264",
                  "-preset", "ultrafast", "-pix_fmt", "yuv420p"],
    "nine.mp4": ["-f", "lavfi", "-i", "testsrc2=s=160x120:r=12:d=9", "-c:v", "libx264",
                 "-preset", "ultrafast", "-pix_fmt", "yuv420p"],
    "blink.mp4": ["-f", "lavfi", "-i", "testsrc2=s=160x120:r=12:d=1", "-c:v", "libx264",
                  "-preset", "ultrafast", "-pix_fmt", "yuv420p"],
    "walk.webm": ["-f", "lavfi", "-i", "testsrc2=s=160x120:r=12:d=4", "-c:v", "libvpx-vp9",
                  "-deadline", "realtime", "-cpu-used", "8", "-b:v", "100k"],
    "voice.wav": ["-f", "lavfi", "-i", "sine=f=440:r=22050:d=3"],
    "voice.mp3": ["-f", "lavfi", "-i", "sine=f=440:r=22050:d=3", "-c:a", "libmp3lame"],
}  # fmt: skip


def make_media(ffmpeg: str, directory: Path) -> dict[str, bytes]:
    """Every recipe's file, plus ``garbage.mp4`` (text) and ``truncated.mp4`` (the first 3000
    bytes of ``walk.mp4``, whose index, at the end, is lost), as file name -> bytes."""
    made: dict[str, bytes] = {}
    for name, arguments in RECIPES.items():
        path = directory / name
        argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *arguments]
        subprocess.run([*argv, str(path)], check=True)
        made[name] = path.read_bytes()
    made["garbage.mp4"] = b"this is not a video at all\n" * 40
    made["truncated.mp4"] = made["walk.mp4"][:3000]
    return made

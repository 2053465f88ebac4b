"""Preview clips: a pure ffmpeg argv builder, a runner, and a cache keyed by what was asked.

A clip is the Pillow picture from :mod:`rdpipe.sim.picture` held for ``seconds`` at 24 fps,
with a marker moving along the bottom track, encoded H.264 yuv420p (ultrafast), plus a beeping
AAC track only when audio was asked for. Identical requests reuse the cached file.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

import anyio
import anyio.to_thread

from rdpipe.errors import RdpipeError
from rdpipe.sim.catalog import FPS
from rdpipe.sim.picture import PictureSpec, draw_picture, track_box
from rdpipe.sim.validation import Submission

RENDER_VERSION = 1
MARKER_COLOR = "0xffb000"


class RenderFailed(RdpipeError):
    """ffmpeg could not make a preview clip."""

    def __init__(self, argv: list[str], stderr: str) -> None:
        tail = "\n".join(stderr.strip().splitlines()[-5:])
        super().__init__(
            f"the simulator could not render a preview clip: ffmpeg exited with an error\n{tail}",
            hint=f"command: {' '.join(argv)}",
        )


@dataclass(frozen=True)
class ClipSpec:
    """Everything that decides a preview clip's bytes."""

    picture: PictureSpec
    seconds: int
    audio: bool

    @property
    def key(self) -> str:
        """A cache key: equal specs render identical clips."""
        fields = asdict(self)
        image = fields["picture"].pop("image_data")
        fields["image_sha256"] = hashlib.sha256(image).hexdigest() if image else None
        fields["version"] = RENDER_VERSION
        text = json.dumps(fields, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def clip_spec_for(submission: Submission) -> ClipSpec:
    """The preview clip a valid submit asks for."""
    image = submission.image
    caption = (
        f"{submission.model.id} | {submission.seconds} s | {submission.ratio} | "
        f"{submission.resolution} | audio {'on' if submission.audio else 'off'}"
    )
    picture = PictureSpec(
        width=submission.width,
        height=submission.height,
        prompt=submission.prompt,
        caption=caption,
        image_data=image.data if image else None,
        image_label=image.label if image else None,
    )
    return ClipSpec(picture, submission.seconds, submission.audio)


def build_render_argv(ffmpeg: str, spec: ClipSpec, picture_png: Path, output: Path) -> list[str]:
    """The ffmpeg command that turns the picture into the clip; pure, so it can be golden-tested."""
    width, height = spec.picture.width, spec.picture.height
    left, top, right, bottom = track_box(width, height)
    marker = f"{max(8, height // 30) // 2 * 2}x{(bottom - top + 12) // 2 * 2}"
    seconds = spec.seconds
    move = f"x='{left}+({right - left}-w)*t/{seconds}':y={top - 6}"
    argv = [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
        "-i", str(picture_png),
        "-f", "lavfi", "-i", f"color=c={MARKER_COLOR}:s={marker}:r={FPS}:d={seconds}",
    ]  # fmt: skip
    if spec.audio:
        tone = f"sine=frequency=440:beep_factor=4:sample_rate=48000:duration={seconds}"
        argv += ["-f", "lavfi", "-i", tone]
    argv += [
        "-filter_complex", (
            # Convert and loop the still once, then overlay in yuv420p: several times faster
            # than looping the PNG through the demuxer and overlaying in RGB.
            f"[0:v]format=yuv420p,loop=loop=-1:size=1,fps={FPS},trim=duration={seconds}[still];"
            f"[still][1:v]overlay={move}:shortest=1:format=yuv420[v]"
        ),
        "-map", "[v]",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-r", str(FPS),
    ]  # fmt: skip
    if spec.audio:
        argv += ["-map", "2:a", "-c:a", "aac", "-b:a", "96k"]
    argv += ["-t", str(seconds), "-movflags", "+faststart", "-f", "mp4", str(output)]
    return argv


def render_clip(ffmpeg: str, spec: ClipSpec, output: Path) -> None:
    """Render ``spec`` into ``output`` (blocking); written beside it first, then renamed."""
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.{os.getpid()}.partial")
    picture = output.with_name(f".{output.name}.{os.getpid()}.png")
    picture.write_bytes(draw_picture(spec.picture))
    argv = build_render_argv(ffmpeg, spec, picture, partial)
    try:
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RenderFailed(argv, result.stderr)
        partial.replace(output)
    finally:
        picture.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)


class ClipCache:
    """Renders preview clips in worker threads, at most once per distinct spec."""

    def __init__(self, directory: Path, ffmpeg: str) -> None:
        self.directory = directory
        self.ffmpeg = ffmpeg
        self._locks: dict[str, anyio.Lock] = {}
        self.renders = 0

    async def clip_path(self, spec: ClipSpec) -> Path:
        """The path of the rendered clip, rendering it first if it is not cached."""
        key = spec.key
        path = self.directory / f"{key}.mp4"
        lock = self._locks.setdefault(key, anyio.Lock())
        async with lock:
            if not path.exists():
                self.renders += 1
                await anyio.to_thread.run_sync(render_clip, self.ffmpeg, spec, path)
        return path

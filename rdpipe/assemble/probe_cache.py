"""Probe results and content digests remembered per file, so a re-assembly reads only new clips.

A record is keyed by the file's resolved path, inode, size and modification time (ns): a clip
written again, or replaced by a rename, gets a new key, and its stale record is never read.
Records are small JSON files written beside their final name and renamed into place, so a
concurrent run never reads half a record; an unreadable record counts as absent.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import anyio.to_thread

from rdpipe.assemble.probe import AudioInfo, ClipInfo, probe_clip

_VERSION = 2  # bump when ClipInfo or the probe's reading of a file changes


@dataclass(frozen=True)
class ProbeCache:
    """A directory of per-file records: each file's :class:`ClipInfo` and SHA-256 digest."""

    directory: Path

    def recall_info(self, path: Path) -> ClipInfo | None:
        """The remembered probe of ``path`` as it is now on disk, or ``None``."""
        record = self._read(path, "probe.json")
        if record is None:
            return None
        try:
            return _decode(json.loads(record), path)
        except (ValueError, KeyError, TypeError):
            return None

    def remember_info(self, info: ClipInfo) -> None:
        """Store the probe of ``info.path`` under the file's current identity."""
        self._write(info.path, "probe.json", json.dumps(_encode(info)))

    def recall_digest(self, path: Path) -> str | None:
        """The remembered SHA-256 of ``path`` as it is now on disk, or ``None``."""
        return self._read(path, "sha256")

    def remember_digest(self, path: Path, digest: str) -> None:
        """Store the SHA-256 of ``path`` under the file's current identity."""
        self._write(path, "sha256", digest)

    def _read(self, path: Path, kind: str) -> str | None:
        try:
            return (self.directory / f"{_identity(path)}.{kind}").read_text(encoding="utf-8")
        except OSError:
            return None

    def _write(self, path: Path, kind: str, text: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        dest = self.directory / f"{_identity(path)}.{kind}"
        unfinished = dest.with_name(f".{dest.name}.{secrets.token_hex(6)}.partial")
        unfinished.write_text(text, encoding="utf-8")
        unfinished.replace(dest)


def _identity(path: Path) -> str:
    """A key that changes whenever the file at ``path`` is rewritten or replaced."""
    stat = path.stat()
    text = f"{_VERSION}\0{path.resolve()}\0{stat.st_ino}\0{stat.st_size}\0{stat.st_mtime_ns}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _fraction(value: Fraction) -> list[int]:
    return [value.numerator, value.denominator]


def _encode(info: ClipInfo) -> dict[str, Any]:
    audio = info.audio
    return {
        "container": info.container,
        "codec": info.codec,
        "profile": info.profile,
        "size": [info.width, info.height],
        "sar": _fraction(info.sample_aspect_ratio),
        "pixel_format": info.pixel_format,
        "frame_rate": _fraction(info.frame_rate),
        "time_base": _fraction(info.time_base),
        "frames": info.frames,
        "durations": [info.video_duration, info.container_duration, info.start_time],
        "audio": None if audio is None else _encode_audio(audio),
    }


def _encode_audio(audio: AudioInfo) -> list[object]:
    return [audio.codec, audio.sample_rate, audio.channels, _fraction(audio.time_base),
            audio.first_pts, audio.duration, audio.packets, audio.priming_packets]  # fmt: skip


def _decode(record: dict[str, Any], path: Path) -> ClipInfo:
    audio = record["audio"]
    video_duration, container_duration, start_time = record["durations"]
    return ClipInfo(
        path=path,
        container=record["container"],
        codec=record["codec"],
        profile=record["profile"],
        width=record["size"][0],
        height=record["size"][1],
        sample_aspect_ratio=Fraction(*record["sar"]),
        pixel_format=record["pixel_format"],
        frame_rate=Fraction(*record["frame_rate"]),
        time_base=Fraction(*record["time_base"]),
        frames=record["frames"],
        video_duration=video_duration,
        container_duration=container_duration,
        start_time=start_time,
        audio=None
        if audio is None
        else AudioInfo(audio[0], audio[1], audio[2], Fraction(*audio[3]), *audio[4:]),
    )


async def probe_remembered(path: Path, *, shot_id: str, cache: ProbeCache | None) -> ClipInfo:
    """Probe a clip, or recall its probe when the file is unchanged since the last one."""
    if cache is None:
        return await probe_clip(path, shot_id=shot_id)
    known = await anyio.to_thread.run_sync(cache.recall_info, path)
    if known is not None:
        return known
    info = await probe_clip(path, shot_id=shot_id)
    await anyio.to_thread.run_sync(cache.remember_info, info)
    return info

"""Probe results and content digests remembered per file, so a re-assembly reads only new clips.

A record is keyed by the file's resolved path, inode, size and modification time (ns): a clip
written again, or replaced by a rename, gets a new key, and its stale record is never read.
All records live in one JSON file, read once and written once per assembly (one small file
per clip cost more than probing it): written beside its final name and renamed into place, so
a concurrent run never reads half of it. When two runs save at once, the last one wins; what
the other learnt is probed again next time. An unreadable file counts as empty.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import astuple
from fractions import Fraction
from pathlib import Path
from typing import Any

from rdpipe.assemble.colour import Colour
from rdpipe.assemble.orientation import Orientation
from rdpipe.assemble.probe import AudioInfo, ClipInfo, probe_clip_blocking
from rdpipe.files import read_cache_section, write_atomically

_VERSION = 4  # bump when ClipInfo or the probe's reading of a file changes


class ProbeCache:
    """Each file's :class:`ClipInfo` and SHA-256 digest, kept in one JSON file.

    Safe to use from several worker threads at once; call :meth:`save` when done.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._records = _load(path)
        self._touched: set[str] = set()
        self._changed = False
        self._lock = threading.Lock()

    def recall_info(self, path: Path) -> ClipInfo | None:
        """The remembered probe of ``path`` as it is now on disk, or ``None``."""
        record = self._recall(path).get("probe")
        try:
            return None if record is None else _decode(record, path)
        except (ValueError, KeyError, TypeError):
            return None

    def remember_info(self, info: ClipInfo) -> None:
        """Store the probe of ``info.path`` under the file's current identity."""
        self._remember(info.path, "probe", _encode(info))

    def recall_digest(self, path: Path) -> str | None:
        """The remembered SHA-256 of ``path`` as it is now on disk, or ``None``."""
        digest = self._recall(path).get("sha256")
        return digest if isinstance(digest, str) else None

    def remember_digest(self, path: Path, digest: str) -> None:
        """Store the SHA-256 of ``path`` under the file's current identity."""
        self._remember(path, "sha256", digest)

    def save(self) -> None:
        """Write the records learnt or used now, plus older ones whose file is unchanged."""
        if not self._changed:
            return
        with self._lock:
            kept = {key: record for key, record in self._records.items()
                    if key in self._touched or _still(record, key)}  # fmt: skip
            self._changed = False
        data = json.dumps({"version": _VERSION, "files": kept}).encode()
        write_atomically(self.path, data, durable=False)

    def _recall(self, path: Path) -> dict[str, Any]:
        try:
            key = _identity(path)
        except OSError:
            return {}
        with self._lock:
            record = self._records.get(key, {})
            if record:
                self._touched.add(key)
            return record

    def _remember(self, path: Path, kind: str, value: object) -> None:
        key = _identity(path)
        with self._lock:
            record = self._records.setdefault(key, {"path": str(path.resolve())})
            record[kind] = value
            self._touched.add(key)
            self._changed = True


def _load(path: Path) -> dict[str, dict[str, Any]]:
    return read_cache_section(path, _VERSION, "files")


def _still(record: dict[str, Any], key: str) -> bool:
    """Whether the file a record describes is still the same file."""
    try:
        return _identity(Path(record["path"])) == key
    except (OSError, KeyError, TypeError):
        return False


def _identity(path: Path) -> str:
    """A key that changes whenever the file at ``path`` is rewritten or replaced."""
    stat = path.stat()
    text = f"{os.path.abspath(path)}\0{stat.st_ino}\0{stat.st_size}\0{stat.st_mtime_ns}"
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
        "orientation": list(info.orientation.matrix),  # a record without it is probed again
        "sar": _fraction(info.sample_aspect_ratio),
        "pixel_format": info.pixel_format,
        "frame_rate": _fraction(info.frame_rate),
        "time_base": _fraction(info.time_base),
        "frames": info.frames,
        "durations": [info.video_duration, info.container_duration, info.start_time],
        "starts": [info.video_start, info.file_start, info.hidden_frames],
        "audio": None if audio is None else _encode_audio(audio),
        "colour": list(astuple(info.colour)),
    }


def _encode_audio(audio: AudioInfo) -> list[object]:
    return [audio.codec, audio.sample_rate, audio.channels, _fraction(audio.time_base),
            audio.first_pts, audio.duration, audio.packets, audio.priming_packets,
            audio.start]  # fmt: skip


def _decode_audio(audio: list[Any]) -> AudioInfo:
    """The :class:`AudioInfo` that :func:`_encode_audio` wrote as a list."""
    codec, rate, channels, time_base, first_pts, duration, packets, primed, start = audio
    return AudioInfo(codec=codec, sample_rate=rate, channels=channels,
                     time_base=Fraction(*time_base), first_pts=first_pts, duration=duration,
                     packets=packets, priming_packets=primed, start=start)  # fmt: skip


def _decode(record: dict[str, Any], path: Path) -> ClipInfo:
    audio = record["audio"]
    video_duration, container_duration, start_time = record["durations"]
    video_start, file_start, hidden_frames = record["starts"]
    return ClipInfo(
        path=path,
        container=record["container"],
        codec=record["codec"],
        profile=record["profile"],
        width=record["size"][0],
        height=record["size"][1],
        orientation=Orientation.from_matrix(record["orientation"]),
        sample_aspect_ratio=Fraction(*record["sar"]),
        pixel_format=record["pixel_format"],
        frame_rate=Fraction(*record["frame_rate"]),
        time_base=Fraction(*record["time_base"]),
        frames=record["frames"],
        video_duration=video_duration,
        container_duration=container_duration,
        start_time=start_time,
        audio=None if audio is None else _decode_audio(audio),
        video_start=video_start,
        file_start=file_start,
        hidden_frames=hidden_frames,
        colour=Colour(*record["colour"]),
    )


def probe_remembered(path: Path, *, shot_id: str, cache: ProbeCache | None) -> ClipInfo:
    """Probe a clip, or recall its probe when the file is unchanged since the last one.

    Blocking: run it in a worker thread.
    """
    known = cache.recall_info(path) if cache is not None else None
    if known is not None:
        return known
    info = probe_clip_blocking(path, shot_id=shot_id)
    if cache is not None:
        cache.remember_info(info)
    return info

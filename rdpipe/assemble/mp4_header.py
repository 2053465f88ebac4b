"""The timing and codec boxes of an MP4 header, read with plain file reads to spot twin clips.

Opening a clip with libavformat costs milliseconds, because it decodes a frame of each stream;
a hundred clips from the same model at the same length and settings have headers that differ
only in sample sizes, chunk offsets and timestamps of creation. :func:`header_signature` keeps
every box that shapes what the probe reports (codec setup, time scales, edit lists, durations,
frame counts) and drops the rest, so two clips with equal signatures probe alike.

:func:`display_matrix` reads the video track's display matrix from the same header: PyAV
reports it only on decoded frames, and decoding a frame costs more than the whole probe.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

# Boxes whose children are read; every other box is a leaf.
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts"}
# Leaves kept whole; of stsz only the sample count, of ctts only the first entry (the first
# timestamp): the rest varies with the content, not with how the clip is probed.
_KEPT = {b"mvhd", b"tkhd", b"mdhd", b"hdlr", b"stsd", b"stts", b"elst"}
_SLICES = {b"stsz": slice(0, 12), b"ctts": slice(8, 16)}
# Full boxes that open with creation and modification times, blanked before comparing.
_DATED = {b"mvhd", b"tkhd", b"mdhd"}
# Sample entries whose codec setup lives in the header alone (not repeated in the stream).
_OUT_OF_BAND = (b"avc1", b"hvc1", b"mp4a")
_MOOV_LIMIT = 16 << 20


def header_signature(path: Path) -> bytes | None:
    """The kept header boxes of an MP4/MOV file, or ``None`` when it is not a plain one.

    ``None`` for fragmented files, in-band codec setup, or anything unreadable: those are
    always probed on their own.
    """
    try:
        with path.open("rb") as handle:
            moov = _find_moov(handle)
    except (OSError, struct.error):
        return None
    parts: list[bytes] = []
    try:
        if moov is None or _has_box(moov, b"mvex"):
            return None
        _collect(moov, b"moov", parts)
    except (struct.error, ValueError):
        return None
    stsd = [part for part in parts if part.startswith(b"moov/trak/mdia/minf/stbl/stsd")]
    if not stsd or not all(any(c in part for c in _OUT_OF_BAND) for part in stsd):
        return None
    return b"\0".join(parts)


def display_matrix(path: Path) -> tuple[float, ...] | None:
    """The first video track's display matrix (nine values, row by row), or ``None``.

    As libavformat's mov demuxer reads it: the track's ``tkhd`` matrix times the movie's
    ``mvhd`` matrix (ISO/IEC 14496-12 §8.2.2, §8.3.2; 16.16 fixed point, 2.30 in the last
    column). ``None`` when the file is not an MP4/MOV or has no video track.
    """
    try:
        with path.open("rb") as handle:
            moov = _find_moov(handle)
        if moov is None:
            return None
        movie = _MATRIX_IDENTITY
        for kind, payload in _boxes(moov):
            if kind == b"mvhd":
                movie = _matrix(payload, 36 if payload[:1] != b"\x01" else 48)
            elif kind == b"trak" and (track := _video_track_matrix(payload)) is not None:
                return _multiply(track, movie)
    except (OSError, struct.error, ValueError):
        return None
    return None


_MATRIX_IDENTITY: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


def _video_track_matrix(trak: bytes) -> tuple[float, ...] | None:
    """The ``tkhd`` matrix of a track whose handler is ``vide``, else ``None``."""
    boxes = dict(_boxes(trak))
    handler = dict(_boxes(boxes.get(b"mdia", b""))).get(b"hdlr", b"")
    if handler[8:12] != b"vide" or b"tkhd" not in boxes:
        return None
    tkhd = boxes[b"tkhd"]
    return _matrix(tkhd, 40 if tkhd[:1] != b"\x01" else 52)


def _matrix(payload: bytes, offset: int) -> tuple[float, ...]:
    values = struct.unpack_from(">9i", payload, offset)
    return tuple(v / (1 << (30 if i % 3 == 2 else 16)) for i, v in enumerate(values))


def _multiply(left: tuple[float, ...], right: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(
        sum(left[row * 3 + k] * right[k * 3 + col] for k in range(3))
        for row in range(3)
        for col in range(3)
    )


def _find_moov(handle: BinaryIO) -> bytes | None:
    """The payload of the top-level ``moov`` box, wherever it is in the file."""
    while header := handle.read(8):
        if len(header) < 8:
            return None
        size, kind = struct.unpack(">I4s", header)
        body = size - 8
        if size == 1:
            body = struct.unpack(">Q", handle.read(8))[0] - 16
        elif size == 0:
            return handle.read(_MOOV_LIMIT) if kind == b"moov" else None
        if kind == b"moov":
            return handle.read(body) if body <= _MOOV_LIMIT else None
        if body < 0:
            return None
        handle.seek(body, 1)
    return None


def _boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    """The (type, payload) boxes laid end to end in ``data``."""
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, offset)
        start = offset + 8
        if size == 1:
            size = struct.unpack_from(">Q", data, start)[0]
            start += 8
        elif size == 0:
            size = len(data) - offset
        if size < start - offset or offset + size > len(data):
            raise ValueError("box runs past its parent")
        boxes.append((kind, data[start : offset + size]))
        offset += size
    return boxes


def _has_box(data: bytes, wanted: bytes) -> bool:
    return any(kind == wanted for kind, _payload in _boxes(data))


def _collect(data: bytes, trail: bytes, parts: list[bytes]) -> None:
    for kind, payload in _boxes(data):
        where = trail + b"/" + kind
        if kind in _CONTAINERS:
            _collect(payload, where, parts)
        elif kind == b"stsd":
            parts.append(where + b":" + _without_rates(payload))
        elif kind in _KEPT:
            parts.append(where + b":" + (_undated(payload) if kind in _DATED else payload))
        elif kind in _SLICES:
            parts.append(where + b":" + payload[_SLICES[kind]])


def _undated(payload: bytes) -> bytes:
    """A full box with its creation and modification times zeroed (4 or 8 bytes each)."""
    width = 16 if payload[:1] == b"\x01" else 8
    return payload[:4] + bytes(width) + payload[4 + width :]


def _without_rates(stsd: bytes) -> bytes:
    """Sample descriptions with their bit rates zeroed: each clip's own, and never probed.

    They sit in the ``btrt`` box and in the AAC ``esds`` decoder config (ISO 14496-1 7.2.6.6:
    buffer size, maximum and average bit rate after the object and stream types).
    """
    data = bytearray(stsd)
    at = data.find(b"btrt")
    if at >= 4:
        data[at + 4 : at + 16] = bytes(12)
    at = data.find(b"esds")
    if at >= 4:
        cursor = at + 8  # past the type and the full box's version and flags
        if data[cursor : cursor + 1] == b"\x03":
            cursor = _skip_length(data, cursor + 1) + 3  # ES_ID and flags (none set)
            if data[cursor : cursor + 1] == b"\x04":
                cursor = _skip_length(data, cursor + 1) + 2
                data[cursor : cursor + 11] = bytes(11)
    return bytes(data)


def _skip_length(data: bytearray, cursor: int) -> int:
    """Past an MPEG-4 descriptor length: up to four bytes, the high bit meaning "more"."""
    for _ in range(4):
        more = data[cursor] & 0x80
        cursor += 1
        if not more:
            break
    return cursor

"""Whether a clip's media is whole: every packet its header promises is there, and its end decodes.

A download that ends early without a ``Content-Length`` looks complete to HTTP, and an MP4
whose index (``moov``) comes first still opens and reports its full length: only the media can
tell (issue 11 §3). Three checks, cheapest first:

1. the top-level boxes: none may run past the end of the file, and an MP4 needs its ``moov``;
2. one demux pass (no decoding): each stream holds as many packets as its index promises,
   and none was cut short (libavformat flags a packet the file ends inside as corrupt);
3. the last group of pictures decodes, reference frames first and then every frame of the
   last :data:`_TAIL_PACKETS` packets, and so do the last audio packets.

A 5 s 720p clip costs 0.1 s (2 s GOPs) to 0.3 s (one GOP) to check, half of decoding it
all (``bench/verify_bench.py``), once per content: verdicts are kept by SHA-256 (see
:class:`rdpipe.state.MediaVerdicts`).
"""

from __future__ import annotations

import os
import struct
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import anyio.to_thread
import av

from rdpipe.assemble.errors import ClipIncomplete
from rdpipe.assemble.join_plan import ClipInput
from rdpipe.assemble.normalise import clip_digests
from rdpipe.assemble.parallel import run_all
from rdpipe.assemble.probe import probe_duration
from rdpipe.assemble.probe_cache import ProbeCache
from rdpipe.scheduler import MediaIncomplete
from rdpipe.state import MediaVerdict, MediaVerdicts

#: Packets at the end of the video decoded in full (earlier ones only where later frames need).
_TAIL_PACKETS = 8
#: Audio packets at the end that must decode.
_AUDIO_TAIL = 8
_MP4_FIRST_BOXES = {b"ftyp", b"styp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pdin"}


def media_gap(path: Path) -> str | None:
    """What is missing from the clip at ``path``, in words, or ``None`` when it is whole.

    ``None`` too when the file is not a video libav can open at all: that is a different
    problem, which the probe reports. Blocking: run it in a worker thread.
    """
    layout = _box_layout(path)
    try:
        with av.open(str(path)) as container:
            return _stream_gap(container, layout)
    except av.FFmpegError:
        return layout.describe() if layout.mp4 and not layout.whole else None


@dataclass(frozen=True, kw_only=True)
class _Layout:
    """The top-level boxes of a file, as far as they go: is it an MP4, is any box cut short."""

    mp4: bool
    size: int
    cut_box: bytes | None = None  # the box the file ends inside
    short_by: int = 0  # bytes that box still lacks
    has_moov: bool = False
    has_mdat: bool = False

    @property
    def whole(self) -> bool:
        """No box cut short, and media data comes with its index (or there is none at all)."""
        return self.cut_box is None and (self.has_moov or not self.has_mdat)

    def describe(self) -> str:
        """The structural gap in words (only meaningful when not :attr:`whole`)."""
        parts = []
        if self.cut_box is not None:
            kind = self.cut_box.decode("latin-1")
            parts.append(f"the file ends {self.short_by} bytes before the end of its {kind} box")
        if self.has_mdat and not self.has_moov:
            parts.append("the index of its frames (moov box) is missing")
        return " and ".join(parts)


def _box_layout(path: Path) -> _Layout:
    """Walk the top-level boxes with plain reads (ISO/IEC 14496-12 §4.2)."""
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        offset, first, seen = 0, True, set()
        while offset + 8 <= size:
            handle.seek(offset)
            length, kind = struct.unpack(">I4s", handle.read(8))
            if first and kind not in _MP4_FIRST_BOXES:
                return _Layout(mp4=False, size=size)
            first = False
            if length == 1:
                extended = handle.read(8)
                length = struct.unpack(">Q", extended)[0] if len(extended) == 8 else 0
            elif length == 0:  # the box runs to the end of the file
                length = size - offset
            seen.add(kind)
            if length < 8:
                break  # not boxes any more
            if offset + length > size:
                return _Layout(mp4=True, size=size, cut_box=kind, short_by=offset + length - size,
                               has_moov=b"moov" in seen, has_mdat=b"mdat" in seen)  # fmt: skip
            offset += length
    return _Layout(mp4=not first, size=size, has_moov=b"moov" in seen, has_mdat=b"mdat" in seen)


def _stream_gap(container: av.container.InputContainer, layout: _Layout) -> str | None:
    streams = [*container.streams.video[:1], *container.streams.audio[:1]]
    if not streams:
        return None
    indexed = layout.mp4 and all(len(s.index_entries) for s in streams)
    tally = _from_index(streams, layout.size) if indexed else _demux(container, streams)
    short = [count.describe() for count in tally.counts if count.short]
    if not short and layout.whole:
        return _tail_gap(container, tally)
    held = f"it holds {' and '.join(short)}" if short else ""
    if layout.whole:
        return held
    return f"{held} ({layout.describe()})" if held else layout.describe()


@dataclass
class _Count:
    """Packets of one stream: promised by the index, present, and whether one was cut short."""

    kind: str
    promised: int
    present: int = 0
    cut: bool = False

    @property
    def short(self) -> bool:
        return self.cut or self.present < self.promised

    def describe(self) -> str:
        """``24 of its 48 video frames``; ``all 95 audio packets, the last cut short``."""
        noun = "frames" if self.kind == "video" else "packets"
        if self.present < self.promised:
            return f"{self.present} of its {self.promised} {self.kind} {noun}"
        return f"all {self.promised} {self.kind} {noun}, the last cut short"


@dataclass
class _Tally:
    """What a clip holds, and where its last group of pictures and last sound start."""

    counts: list[_Count]
    video: av.video.stream.VideoStream | None
    audio: av.audio.stream.AudioStream | None
    video_end: int | None = None  # timestamp of the last video packet
    after_key: int = 0  # video packets from the last keyframe on
    audio_tail: deque[int] = field(default_factory=lambda: deque(maxlen=_AUDIO_TAIL))


def _tally(streams: Sequence[av.stream.Stream], counts: list[_Count]) -> _Tally:
    video = next((s for s in streams if isinstance(s, av.video.stream.VideoStream)), None)
    audio = next((s for s in streams if isinstance(s, av.audio.stream.AudioStream)), None)
    return _Tally(counts, video, audio)


def _from_index(streams: Sequence[av.stream.Stream], size: int) -> _Tally:
    """Counts from the demuxer's index (MP4 lists every packet's offset and size): no reading.

    A packet is there when its last byte is inside the file.
    """
    counts = []
    for stream in streams:
        entries = stream.index_entries
        present = sum(entry.pos + entry.size <= size for entry in entries)
        counts.append(_Count(stream.type, len(entries), present))
    tally = _tally(streams, counts)
    for stream in streams:
        for entry in stream.index_entries:
            _note(tally, stream, entry.timestamp, entry.is_keyframe)
    return tally


def _demux(container: av.container.InputContainer, streams: Sequence[av.stream.Stream]) -> _Tally:
    """Counts from one pass over every packet, without decoding (containers with no full index)."""
    counts = {s.index: _Count(s.type, 0) for s in streams}
    tally = _tally(streams, list(counts.values()))
    for packet in container.demux(list(streams)):
        if packet.size == 0 and packet.pts is None:
            continue  # the demuxer's end-of-stream marker
        count = counts[packet.stream.index]
        count.present += 1
        count.cut = count.cut or packet.is_corrupt
        if packet.dts is not None:
            _note(tally, packet.stream, packet.dts, packet.is_keyframe)
    return tally


def _note(tally: _Tally, stream: av.stream.Stream, timestamp: int, keyframe: bool) -> None:
    """Follow the packets in order: where the last GOP starts, the last audio timestamps."""
    if stream is tally.video:
        tally.after_key = 1 if keyframe else tally.after_key + 1
        tally.video_end = timestamp
    elif stream is tally.audio:
        tally.audio_tail.append(timestamp)


def _tail_gap(container: av.container.InputContainer, tally: _Tally) -> str | None:
    """Decode the last GOP and the last audio packets; the decoder's complaint if any."""
    try:
        if tally.video is not None and tally.video_end is not None:
            _decode_last_gop(container, tally.video, tally.video_end, tally.after_key)
        if tally.audio is not None and tally.audio_tail:
            container.seek(tally.audio_tail[0], stream=tally.audio, backward=True)
            for packet in container.demux(tally.audio):
                packet.decode()
    except av.FFmpegError as error:
        return f"its last frames do not decode ({error.strerror or error})"
    return None


def _decode_last_gop(
    container: av.container.InputContainer,
    video: av.video.stream.VideoStream,
    end: int,
    packets: int,
) -> None:
    """Decode from the last keyframe: reference frames only, then all of the last packets.

    Frames nothing refers to are skipped until the tail, so a 5 s GOP costs about half its
    decoding; the deblocking filter, which cannot fail, is skipped throughout.
    """
    context = video.codec_context
    context.options = {"skip_loop_filter": "all"}
    # One decoding thread: frame threads cost more CPU than they save on one GOP (a 5 s
    # 720p clip: 289 ms instead of 334 ms) and hold a frame pool each (+15 MB per check).
    context.thread_count = 1
    context.skip_frame = "NONREF"
    # Past the end, backwards: the last keyframe. (Seeking to its index timestamp lands a GOP
    # early: the index holds decoding times, the seek compares presentation times.)
    container.seek(end + (video.duration or 1), stream=video, backward=True)
    seen = 0
    for packet in container.demux(video):
        if packet.size:
            seen += 1
            if seen > packets - _TAIL_PACKETS:
                context.skip_frame = "DEFAULT"
        packet.decode()


async def probe_whole_duration(path: Path) -> float:
    """Seconds of picture in a downloaded clip, once it is found whole: the scheduler's probe.

    Raises :class:`~rdpipe.scheduler.MediaIncomplete` when part of its media is missing, and
    what :func:`~rdpipe.assemble.probe.probe_duration` raises when it is no readable video.
    """
    gap = await anyio.to_thread.run_sync(media_gap, path)
    if gap is not None:
        raise MediaIncomplete(gap)
    return await probe_duration(path)


async def check_clips_whole(
    clips: Sequence[ClipInput], *, digests: ProbeCache, verdicts: MediaVerdicts
) -> dict[Path, str]:
    """Raise :class:`ClipIncomplete` for the first clip whose media is not whole; else return
    the SHA-256 of each clip found on disk, by path.

    Each content is checked once: verdicts are kept by SHA-256, the digest a clip carries is
    taken as it is, and the digests of other unchanged files are recalled from the probe cache.
    Missing files are left to the probe to report. Files are read, and verdicts written, in
    worker threads.
    """
    present = await anyio.to_thread.run_sync(_present, clips)
    sums = await clip_digests(present, cache=digests)

    async def _check(clip: ClipInput) -> None:
        if verdicts.recall(sums[clip.path]) is None:
            await anyio.to_thread.run_sync(_judge, clip.path, sums[clip.path], verdicts)

    await run_all([partial(_check, clip) for clip in present], limit=4)
    for clip in present:
        verdict = verdicts.recall(sums[clip.path])
        if verdict is not None and verdict.problem is not None:
            size = await anyio.to_thread.run_sync(os.path.getsize, clip.path)
            raise ClipIncomplete(clip.shot_id, clip.path, f"{size} bytes: {verdict.problem}")
    return sums


def _present(clips: Sequence[ClipInput]) -> list[ClipInput]:
    """The clips whose file is there. Blocking."""
    return [clip for clip in clips if clip.path.is_file()]


def _judge(path: Path, sha256: str, verdicts: MediaVerdicts) -> None:
    """Check the clip at ``path`` and keep the verdict under its digest. Blocking."""
    verdicts.remember(sha256, MediaVerdict(media_gap(path)))

"""Read the stream parameters of a clip once, with PyAV.

There is no ffprobe on the machines rdpipe targets (the bundled imageio-ffmpeg ships only the
ffmpeg binary), and parsing ``ffmpeg -i`` banners is fragile. PyAV links the same libav*
libraries, so it reads exactly what ffmpeg will see, in-process, without spawning anything.
The probe demuxes every packet (it decodes nothing) to learn each stream's true first
timestamp and end: containers' duration fields are absent in WebM and rounded elsewhere.

A clip's timeline starts at its first picture: ``video_start`` is when that frame is shown,
after the container's edit list (an MP4 cut by stream copy keeps frames it never shows, counted
in ``hidden_frames``), and ``AudioInfo.start`` when the first sound is heard, encoder priming
excluded. ``file_start`` is where ffmpeg's clock for the file starts (the earliest stream), so
a seek of ``video_start - file_start`` lands on the first picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import anyio.to_thread
import av

from rdpipe.assemble.colour import UNSTATED, Colour
from rdpipe.assemble.errors import ClipCorrupt, ClipMissing
from rdpipe.assemble.mp4_header import display_matrix
from rdpipe.assemble.orientation import UPRIGHT, Orientation, frame_orientation
from rdpipe.errors import RdpipeError


@dataclass(frozen=True, kw_only=True)
class AudioInfo:
    """Parameters of a clip's first audio stream; times in seconds."""

    codec: str
    sample_rate: int
    channels: int
    time_base: Fraction
    first_pts: int  # in time_base; negative when the encoder's priming samples are kept
    duration: float
    packets: int = 0  # packets in the stream, priming included
    priming_packets: int = 0  # packets before the stream's start (encoder priming, edits)
    start: float = 0.0  # seconds: when the first sound is heard


@dataclass(frozen=True, kw_only=True)
class ClipInfo:
    """Parameters of a clip that decide whether it can be joined by stream copy."""

    path: Path
    container: str
    codec: str
    profile: str | None
    width: int
    height: int
    sample_aspect_ratio: Fraction
    pixel_format: str
    frame_rate: Fraction
    time_base: Fraction
    frames: int
    video_duration: float  # seconds of picture, from the first frame to the end of the last
    container_duration: float  # what libavformat reports, which the concat demuxer adds up
    start_time: float  # earliest timestamp over all streams, in seconds
    audio: AudioInfo | None
    orientation: Orientation = UPRIGHT  # how a player turns the coded picture to show it
    video_start: float = 0.0  # seconds: when the first frame is shown (t=0 of the shot)
    file_start: float = 0.0  # seconds: where ffmpeg's clock for the file starts
    hidden_frames: int = 0  # frames before the first shown one (decoded, never shown)
    colour: Colour = UNSTATED  # what the pixel values mean (range, matrix, primaries, transfer)

    def join_key(self) -> tuple[object, ...]:
        """The parameters two clips must share for a stream-copy join."""
        audio = self.audio
        audio_key = None if audio is None else (audio.codec, audio.sample_rate, audio.channels)
        return (
            self.codec,
            self.profile,
            self.width,
            self.height,
            self.orientation,
            self.sample_aspect_ratio,
            self.pixel_format,
            self.frame_rate,
            self.time_base,
            audio_key,
        )

    @property
    def display_size(self) -> tuple[int, int]:
        """Width and height of the picture as a viewer sees it: square pixels, turned upright."""
        width = round(self.width * self.sample_aspect_ratio) or self.width
        return (self.height, width) if self.orientation.swaps_axes else (width, self.height)

    @property
    def display_sample_aspect_ratio(self) -> Fraction:
        """The pixel shape once the picture is turned upright (a quarter turn inverts it)."""
        sar = self.sample_aspect_ratio
        return 1 / sar if self.orientation.swaps_axes and sar else sar


async def probe_clip(path: Path, *, shot_id: str) -> ClipInfo:
    """Probe one clip in a worker thread; a missing or unreadable file names its shot."""
    return await anyio.to_thread.run_sync(lambda: probe_clip_blocking(path, shot_id=shot_id))


def probe_clip_blocking(path: Path, *, shot_id: str) -> ClipInfo:
    """Probe one clip in the calling thread (libav releases the GIL while it reads).

    Callers that probe many clips run a few batches of this in worker threads: a thread hop
    per clip costs as much as the probe itself.
    """
    if not path.is_file():
        raise ClipMissing(shot_id, path)
    try:
        return _probe_blocking(path)
    except (av.FFmpegError, _NoVideo, ValueError) as error:
        raise ClipCorrupt(shot_id, path, str(error)) from error


async def probe_duration(path: Path) -> float:
    """Seconds of picture in a freshly downloaded clip, for the scheduler's records.

    Its error names neither a shot nor the path: the file is a temporary download that is
    removed at once, and the scheduler, which knows the shot and the task, words the message.
    """
    try:
        info = await probe_clip(path, shot_id=path.stem)
    except ClipCorrupt as error:
        cause = error.__cause__
        reason = cause.strerror if isinstance(cause, av.FFmpegError) else None
        raise RdpipeError(f"not a readable video ({reason or error.reason})") from error
    return info.video_duration


# First pts, end pts, packets and priming packets of one stream, in its time base.
_Span = tuple[int, int, int, int]


class _NoVideo(Exception):
    """The file opened but has no video stream."""


def _probe_blocking(path: Path) -> ClipInfo:
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise _NoVideo("no video stream")
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        spans = _header_spans(container, video, audio) or _packet_spans(
            container, [s for s in (video, audio) if s is not None]
        )
        context = video.codec_context
        # The nominal rate (r_frame_rate, unless absurd beside the average): the average of a
        # clip with a hole in its timestamps is no rate it was shot at (issue 11 §4).
        rate = video.guessed_rate or video.average_rate or Fraction(25)
        v_first, v_end, frames, hidden = spans[video.index]
        v_start = v_first if video.start_time is None else video.start_time
        hidden = hidden if v_first < v_start else 0
        time_base = Fraction(video.time_base or Fraction(1, 1000))
        pixel_format = context.format.name if context.format else "unknown"
        firsts = [
            float(first * Fraction(s.time_base or 1))
            for s, (first, *_rest) in ((s, spans[s.index]) for s in (video, audio) if s is not None)
        ]
        return ClipInfo(
            path=path,
            orientation=_orientation(path, container, video),
            container=container.format.name,
            codec=context.name,
            profile=context.profile,
            width=context.width,
            height=context.height,
            sample_aspect_ratio=Fraction(video.sample_aspect_ratio or 1) or Fraction(1),
            pixel_format=pixel_format,
            frame_rate=Fraction(rate),
            time_base=time_base,
            frames=frames - hidden,
            video_duration=float((v_end - max(v_first, v_start)) * time_base),
            container_duration=(container.duration or 0) / av.time_base,
            start_time=min(firsts),
            audio=None if audio is None else _audio_info(audio, spans[audio.index]),
            video_start=float(v_start * time_base),
            file_start=(container.start_time or 0) / av.time_base,
            hidden_frames=hidden,
            colour=Colour.from_codes(range_code=context.color_range, matrix=context.colorspace,
                                     primaries=context.color_primaries,
                                     transfer=context.color_trc, pixel_format=pixel_format),
        )  # fmt: skip


def _orientation(
    path: Path, container: av.container.InputContainer, video: av.video.stream.VideoStream
) -> Orientation:
    """The video track's display matrix: from the MP4 header, else on the first decoded frame."""
    if "mp4" in container.format.name.split(","):
        matrix = display_matrix(path)
        return UPRIGHT if matrix is None else Orientation.from_matrix(matrix)
    container.seek(0)
    for frame in container.decode(video):
        return frame_orientation(frame)
    return UPRIGHT


def _audio_info(stream: av.audio.stream.AudioStream, span: _Span) -> AudioInfo:
    first, end, count, primed = span
    time_base = Fraction(stream.time_base or Fraction(1, stream.rate))
    context = stream.codec_context
    return AudioInfo(
        codec=context.name,
        sample_rate=context.sample_rate,
        channels=context.channels,
        time_base=time_base,
        first_pts=first,
        duration=float((end - max(first, 0)) * time_base),
        packets=count,
        priming_packets=primed,
        start=float(max(first, stream.start_time or 0) * time_base),
    )


def _header_spans(
    container: av.container.InputContainer,
    video: av.video.stream.VideoStream,
    audio: av.audio.stream.AudioStream | None,
) -> dict[int, _Span] | None:
    """Spans from the stream headers (MP4 indexes every packet), or ``None`` when absent.

    Only each stream's first packets are read, up to time zero, for the first timestamp and
    the priming packets: the header reports the start of the edit list, not what is before it.
    """
    streams = [s for s in (video, audio) if s is not None]
    if any(not s.duration or not s.frames for s in streams):
        return None
    firsts: dict[int, int] = {}
    primed = dict.fromkeys((s.index for s in streams), 0)
    started: set[int] = set()
    for packet in container.demux(streams):
        if packet.pts is None:
            continue
        index = packet.stream.index
        firsts.setdefault(index, packet.pts)
        if packet.pts < 0:
            primed[index] += 1
        else:
            started.add(index)
        if len(started) == len(streams):
            break
    if len(started) < len(streams):
        return None
    spans = {}
    for stream in streams:
        begin = min(firsts[stream.index], stream.start_time or 0)
        start = stream.start_time or 0
        end = start + (stream.duration or 0)
        spans[stream.index] = (begin, end, stream.frames, primed[stream.index])
    return spans


def _packet_spans(
    container: av.container.InputContainer, streams: list[av.stream.Stream]
) -> dict[int, _Span]:
    """First pts, end (pts + duration), packet and priming counts per stream, without decoding."""
    spans: dict[int, _Span] = {s.index: (0, 0, 0, 0) for s in streams}
    seen: set[int] = set()
    for packet in container.demux(streams):
        if packet.pts is None:
            continue
        index = packet.stream.index
        first, end, count, primed = spans[index]
        if index not in seen:
            seen.add(index)
            first, end = packet.pts, packet.pts
        spans[index] = (
            min(first, packet.pts),
            max(end, packet.pts + (packet.duration or 0)),
            count + 1,
            primed + (packet.pts < 0),
        )
    return spans

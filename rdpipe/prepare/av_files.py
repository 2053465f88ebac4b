"""Local reference video and audio files: what PyAV reads in them, and whether the model takes it.

Seedance 2.0 takes reference video as MP4 or MOV with H.264 or H.265 video, reference audio as
WAV or MP3, each between 2 and 15 s long, and at most 15 s of each kind per request
(relaydance-api.md §1; :mod:`rdpipe.prepare.media_checks` checks the per-shot totals).
ComfyUI's Seedance 2.0 reference node (docs.comfy.org, "ByteDance Seedance 2.0 Reference Video")
enforces the same bounds with a little slack, "at least 1.8 s" and "at most 15.1 s in total":
so the limits here apply to a duration rounded to the tenth of a second shown in messages, and
a file cut at 2 s or 15 s passes whatever its container's rounding. No documented limit on the
size of a reference video or audio file was found.

Only the container's header is read (no decoding): a file whose header does not parse, such as
a truncated MP4 whose index was at its end, is unreadable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from rdpipe.errors import RdpipeError

if TYPE_CHECKING:
    from av.container import InputContainer

#: Seconds a reference video or audio file must last, each (see the module docstring).
MIN_SECONDS, MAX_SECONDS = 2.0, 15.0
#: Container -> (extension, MIME type) of the files the model takes, per kind.
VIDEO_CONTAINERS = {"mp4": ("mp4", "video/mp4"), "mov": ("mov", "video/quicktime")}
AUDIO_CONTAINERS = {"wav": ("wav", "audio/wav"), "mp3": ("mp3", "audio/mpeg")}
VIDEO_CODECS = frozenset({"h264", "hevc"})
_SHOWN = {"mp4": "MP4", "mov": "MOV", "3gp": "3GP", "m4a": "M4A", "wav": "WAV", "mp3": "MP3",
          "matroska": "Matroska/WebM", "h264": "H.264", "hevc": "H.265"}  # fmt: skip
_NOUNS = {"video": "a reference video", "audio": "a reference audio file"}
_WANTED = {
    "video": "an MP4 or MOV file with H.264 or H.265 video",
    "audio": "a WAV or MP3 file",
}


class UnreadableAvFile(RdpipeError):
    """A file PyAV cannot read; ``detail`` follows the file's name in messages."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"the file {detail}")


@dataclass(frozen=True)
class AvFile:
    """What a local video or audio file holds, read from its header.

    ``container``: ``"mp4"``, ``"mov"``, ``"wav"``, ``"mp3"``, or FFmpeg's name for another
    (``"matroska"``, ``"avi"``...); ``video_codec``/``audio_codec``: FFmpeg's codec name of the
    first stream of each kind (``"h264"``, ``"hevc"``, ``"mp3"``, ``"pcm_s16le"``), ``None``
    without one; ``duration``: seconds.
    """

    container: str
    video_codec: str | None
    audio_codec: str | None
    duration: float


def read_av_file(path: Path) -> AvFile:
    """Read a file's container, codecs and duration; raises :class:`UnreadableAvFile`."""
    import av

    try:
        with av.open(str(path)) as container:
            name = container.format.name
            brand = str(container.metadata.get("major_brand", ""))
            seconds = _duration(container)
            codecs = {
                kind: next((s.codec_context.codec.canonical_name for s in streams), None)
                for kind, streams in (
                    ("video", container.streams.video),
                    ("audio", container.streams.audio),
                )
            }
    except av.FFmpegError as error:
        detail = f"is not a video or audio file rdpipe can read ({_reason(error)})"
        raise UnreadableAvFile(detail) from error
    if seconds is None:
        raise UnreadableAvFile("does not say how long it lasts (its header has no duration)")
    return AvFile(_container(name, brand), codecs["video"], codecs["audio"], seconds)


def av_problem(file: AvFile, kind: Literal["video", "audio"], shown: str) -> str | None:
    """The one sentence saying why the model would refuse ``file`` as a reference ``kind``,
    or ``None`` when it takes it. ``shown`` is the path as written."""
    containers = VIDEO_CONTAINERS if kind == "video" else AUDIO_CONTAINERS
    stream = file.video_codec if kind == "video" else file.audio_codec
    noun = _NOUNS[kind]
    if file.container not in containers or (kind == "video" and stream not in VIDEO_CODECS):
        what = shown_name(file.container)
        if kind == "video":
            what += " with no video" if stream is None else f" with {shown_name(stream)} video"
        return f"{shown!r} is {what}; {noun} must be {_WANTED[kind]}"
    if stream is None:
        return f"{shown!r} has no audio stream; {noun} must hold sound"
    lasts = round(file.duration, 1)
    if lasts < MIN_SECONDS:
        return f"{shown!r} lasts {lasts:.1f} s; {noun} must last at least {MIN_SECONDS:g} s"
    if lasts > MAX_SECONDS:
        return f"{shown!r} lasts {lasts:.1f} s; {noun} may last at most {MAX_SECONDS:g} s"
    return None


def shown_name(name: str) -> str:
    """A container or codec as people call it: ``"H.264"``, ``"MOV"``; others upper-cased."""
    return _SHOWN.get(name, name.upper())


def _container(name: str, brand: str) -> str:
    """One name for a container: the ISO family (FFmpeg's ``mov,mp4,m4a,3gp,3g2,mj2``) told
    apart by the file's major brand, the others by FFmpeg's first name."""
    if not name.startswith("mov,mp4"):
        return name.split(",")[0]
    if brand.startswith("qt"):
        return "mov"
    if brand.startswith("3g"):
        return "3gp"
    if brand.startswith("M4A"):
        return "m4a"
    return "mp4"


def _duration(container: InputContainer) -> float | None:
    import av

    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    lengths = [
        float(stream.duration * stream.time_base)
        for stream in container.streams
        if stream.duration is not None and stream.time_base is not None
    ]
    return max(lengths, default=None)


def _reason(error: Exception) -> str:
    reason = getattr(error, "strerror", None) or str(error)
    return str(reason)[:1].lower() + str(reason)[1:]

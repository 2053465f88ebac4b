"""The assembled timeline as an OpenTimelineIO file beside the video, for editors (issue 17 §3).

``<video stem>.otio`` (OTIO JSON) holds what the join made, laid out from the same
:class:`~rdpipe.assemble.join_plan.JoinPlan` at the video's frame rate, so its length is the
video's (to the frame; tested against the MP4 decoded with PyAV):

- track "shots" (video): the title card, each shot's clip with its trim as its source range,
  the end card. A crossfade of N frames is an ``SMPTE_Dissolve`` transition centred on the cut
  (``in_offset`` N//2, ``out_offset`` the rest, taken from the clips' media either side, as the
  assembly blends them); a ``fade`` is the dip the assembly draws: a dissolve from the shot into
  black, a black gap of no length, a dissolve from black into the next shot, each as long as the
  assembly's fade (EDL writes it as dissolves to and from ``BL``, Final Cut 7 XML as
  ``end-black`` and ``start-black`` transitions). The video's length does not change.
- track "shot sound" (audio): the same clips for their own sound (a gap under the cards).
- track "music" (audio): the music bed, repeated as the assembly loops it, cut at the video's
  end; its gain, fade-out and ducking (the very ffmpeg filter the join runs) are a note in the
  clips' ``metadata["rdpipe"]``.
- markers on the timeline: each caption (its text and range) and each chapter.

Title and end cards are written as their own small MP4 beside the video (``<stem>.title.mp4``,
``<stem>.end.mp4``): the assembly keeps its card only in its piece cache. They are drawn as
the assembly draws them (same image, size, rate, colours and frames).

Media are referenced by absolute ``file://`` URLs: OTIO defines no base for a relative URL
(each reader resolves it against its own working folder, not the ``.otio`` file's), and the
Final Cut XML formats OTIO converts to need absolute file URLs (``pathurl``, ``src``). An
editor whose project moved relinks the clips by file name.

Which editors this was checked with: none was run. The tests convert every timeline through
OTIO's own adapters — ``fcpx_xml`` (Final Cut Pro X), ``fcp_xml`` (Final Cut 7 XML, which
Premiere Pro and DaVinci Resolve import) and ``cmx_3600`` (EDL) — and check that each writes
and names every clip. The ``fcpx_xml`` adapter (1.0) drops transitions and markers; EDL keeps
the video track only.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Any

import anyio.to_thread
import av
import opentimelineio as otio  # type: ignore[import-untyped]

from rdpipe.assemble.colour import card_scale_options, tag_filter
from rdpipe.assemble.images import render_card
from rdpipe.assemble.join_plan import (
    CardPiece,
    ClipInput,
    ClipPiece,
    CrossfadePiece,
    JoinPlan,
    Span,
    fraction_text,
)
from rdpipe.assemble.music import build_audio_graph
from rdpipe.assemble.runner import run_ffmpeg
from rdpipe.assemble.target import TargetFormat
from rdpipe.files import write_atomically
from rdpipe.model.output import MusicSpec, OutputSpec
from rdpipe.text import FontChain

_RT = otio.opentime.RationalTime
_RANGE = otio.opentime.TimeRange
_DISSOLVE = otio.schema.TransitionTypes.SMPTE_Dissolve


@dataclass(frozen=True)
class MusicMedia:
    """The music bed as the timeline references it: a URL, and its length when known."""

    url: str
    seconds: float | None  # ``None`` for a URL that was not fetched (one clip, not repeated)


def timeline_path(video: Path) -> Path:
    """Where the timeline of the video at ``video`` goes: beside it, ``<stem>.otio``."""
    return video.with_suffix(".otio")


def card_path(video: Path, name: str) -> Path:
    """Where the ``title`` or ``end`` card of ``video`` is written: ``<stem>.<name>.mp4``."""
    return video.with_suffix(f".{name}.mp4")


async def write_timeline(
    plan: JoinPlan,
    clips: Sequence[ClipInput],
    *,
    spec: OutputSpec,
    output: Path,
    ffmpeg: str,
    base_dir: Path,
    fonts: FontChain,
) -> Path:
    """Write the cards' MP4s and ``<stem>.otio`` beside ``output``; the timeline's path.

    ``base_dir`` resolves the card images and the music. Raises
    :class:`~rdpipe.assemble.errors.FfmpegFailed` when a card cannot be encoded.
    """
    cards = [piece for piece in plan.pieces if isinstance(piece, CardPiece)]
    for card in cards:
        await _write_card(card, plan.target, spec, output=output, ffmpeg=ffmpeg,
                          base_dir=base_dir, fonts=fonts)  # fmt: skip
    media: dict[str, Path] = {card.name: card_path(output, card.name) for card in cards}
    write = partial(_write_otio, plan, clips, spec=spec, output=output, cards=media,
                    base_dir=base_dir)  # fmt: skip
    return await anyio.to_thread.run_sync(write)


def _write_otio(
    plan: JoinPlan,
    clips: Sequence[ClipInput],
    *,
    spec: OutputSpec,
    output: Path,
    cards: dict[str, Path],
    base_dir: Path,
) -> Path:
    """Build the timeline (resolving paths, reading the music's length) and write it. Blocking."""
    music = None if spec.music is None else _music_media(spec.music, base_dir)
    timeline = build_timeline(plan, clips, spec=spec, name=output.stem, cards=cards, music=music)
    text = otio.adapters.write_to_string(timeline, adapter_name="otio_json")
    path = timeline_path(output)
    write_atomically(path, text.encode("utf-8"))
    return path


def build_timeline(
    plan: JoinPlan,
    clips: Sequence[ClipInput],
    *,
    spec: OutputSpec,
    name: str,
    cards: dict[str, Path],
    music: MusicMedia | None,
) -> Any:
    """The OTIO ``Timeline`` of ``plan``; ``cards`` maps ``title``/``end`` to the MP4s.

    Blocking: media paths are resolved to absolute ``file://`` URLs.
    """
    rate = float(plan.target.fps)
    prompts = {clip.shot_id: clip.prompt for clip in clips}
    shots = otio.schema.Track(name="shots", kind=otio.schema.TrackKind.Video)
    sound = otio.schema.Track(name="shot sound", kind=otio.schema.TrackKind.Audio)
    layout = _Layout(shots, sound, rate, prompts)
    for piece in plan.pieces:
        if isinstance(piece, CardPiece):
            layout.add_card(piece, cards[piece.name])
        elif isinstance(piece, CrossfadePiece):
            layout.add_crossfade(piece.frames)
        else:
            layout.add_shot(piece)
    timeline = otio.schema.Timeline(name=name)
    timeline.tracks.extend([shots, sound])
    total = sum(piece.frames for piece in plan.pieces)
    if music is not None and spec.music is not None:
        note = _music_note(spec, spec.music, plan.duration)
        timeline.tracks.append(_music_track(music, spec.music, note, total, rate))
    timeline.tracks.markers.extend(_markers(plan.cues, "caption", rate))
    timeline.tracks.markers.extend(_markers(plan.chapters, "chapter", rate))
    timeline.metadata["rdpipe"] = {"frame_rate": fraction_text(plan.target.fps),
                                   "size": [plan.target.width, plan.target.height],
                                   "loudness_lufs": spec.loudness}  # fmt: skip
    return timeline


class _Layout:
    """The shots and shot-sound tracks filled piece by piece, transitions between clips."""

    def __init__(self, shots: Any, sound: Any, rate: float, prompts: dict[str, str]) -> None:
        self.shots, self.sound, self.rate, self.prompts = shots, sound, rate, prompts
        self.last: ClipPiece | None = None  # the shot before, while nothing came between
        self.head = 0  # frames of the next shot shown before its piece (a crossfade's second half)

    def add_card(self, piece: CardPiece, path: Path) -> None:
        length = _RT(piece.frames, self.rate)
        media = otio.schema.ExternalReference(
            target_url=path.resolve().as_uri(), available_range=_RANGE(_RT(0, self.rate), length)
        )
        self.shots.append(
            otio.schema.Clip(
                name=f"{piece.name} card",
                media_reference=media,
                source_range=_RANGE(_RT(0, self.rate), length),
            )
        )
        self.sound.append(otio.schema.Gap(source_range=_RANGE(_RT(0, self.rate), length)))
        self.last = None

    def add_shot(self, piece: ClipPiece) -> None:
        if self.last is not None and self.last.fade_out and piece.fade_in:
            self._dip(self.last.fade_out, piece.fade_in)
        start = _first_frame(piece.start, self.rate) - self.head
        source = _RANGE(_RT(start, self.rate), _RT(piece.frames + self.head, self.rate))
        available = _RANGE(_RT(0, self.rate), _RT(round(piece.info.video_duration * self.rate),
                                                  self.rate))  # fmt: skip
        media = otio.schema.ExternalReference(target_url=piece.info.path.resolve().as_uri(),
                                              available_range=available)  # fmt: skip
        metadata = {"rdpipe": {"shot": piece.shot_id, "prompt": self.prompts.get(piece.shot_id),
                               "caption": piece.caption}}  # fmt: skip
        clip = otio.schema.Clip(name=piece.shot_id, media_reference=media, source_range=source,
                                metadata=metadata)  # fmt: skip
        self.shots.append(clip)
        if piece.info.audio is None:  # nothing to hear: silence, as the assembly puts there
            self.sound.append(otio.schema.Gap(source_range=source))
        else:
            self.sound.append(clip.clone())
        self.last, self.head = piece, 0

    def add_crossfade(self, frames: int) -> None:
        """A dissolve centred on the cut: the shot before lengthens by the frames before it."""
        before, after = frames // 2, frames - frames // 2
        for track in (self.shots, self.sound):
            item = track[-1]
            item.source_range = _RANGE(
                item.source_range.start_time, item.source_range.duration + _RT(before, self.rate)
            )
            track.append(
                otio.schema.Transition(
                    name="crossfade",
                    transition_type=_DISSOLVE,
                    in_offset=_RT(before, self.rate),
                    out_offset=_RT(after, self.rate),
                    metadata={"rdpipe": {"kind": "crossfade"}},
                )
            )
        self.head = after

    def _dip(self, out_frames: int, in_frames: int) -> None:
        """Dissolve into black, a black gap of no length, dissolve out of it (a ``fade``).

        The gap starts at ``out_frames`` so the black before it (the first dissolve's media)
        is never before zero, which the EDL writer cannot write.
        """
        for track in (self.shots, self.sound):
            track.append(self._transition("fade to black", out_frames, 0))
            track.append(
                otio.schema.Gap(source_range=_RANGE(_RT(out_frames, self.rate), _RT(0, self.rate)))
            )
            track.append(self._transition("fade from black", 0, in_frames))

    def _transition(self, name: str, before: int, after: int) -> Any:
        return otio.schema.Transition(name=name, transition_type=_DISSOLVE,
                                      in_offset=_RT(before, self.rate),
                                      out_offset=_RT(after, self.rate),
                                      metadata={"rdpipe": {"kind": "fade"}})  # fmt: skip


def _first_frame(seconds: float, rate: float) -> int:
    """The frame (at ``rate``) the assembly shows first when it seeks to ``seconds``: the
    first whole frame at or after it (a seek keeps no frame before its point)."""
    return math.ceil(round(seconds * rate, 6))


def _music_track(music: MusicMedia, bed: MusicSpec, note: str, total: int, rate: float) -> Any:
    """The music bed: its file again and again until the video's ``total`` frames end, as
    ``-stream_loop`` plays it (each repeat rounded down to whole frames)."""
    track = otio.schema.Track(name="music", kind=otio.schema.TrackKind.Audio)
    whole = total if music.seconds is None else max(1, math.floor(music.seconds * rate))
    available = None if music.seconds is None else _RANGE(_RT(0, rate), _RT(whole, rate))
    metadata = {"rdpipe": {"note": note, "volume": bed.volume, "fade_out_seconds": bed.fade_out,
                           "duck": bed.duck}}  # fmt: skip
    placed, loop = 0, 1
    while placed < total:
        frames = min(whole, total - placed)
        media = otio.schema.ExternalReference(target_url=music.url, available_range=available)
        name = "music" if loop == 1 else f"music (loop {loop})"
        source = _RANGE(_RT(0, rate), _RT(frames, rate))
        track.append(otio.schema.Clip(name=name, media_reference=media, source_range=source,
                                      metadata=metadata))  # fmt: skip
        placed, loop = placed + frames, loop + 1
    return track


def _music_note(spec: OutputSpec, bed: MusicSpec, seconds: float) -> str:
    """What the join does to the music ``bed`` of ``spec``, in words, with the ducking filter
    it runs (from :func:`~rdpipe.assemble.music.build_audio_graph`, so they cannot differ)."""
    said = f"gain {bed.volume:g}, fades out over the last {bed.fade_out:g} s"
    if not bed.duck:
        return said + "; not ducked"
    steps = build_audio_graph(spec, duration=seconds, music_input=1)
    (ducking,) = [step for step in steps if "sidechaincompress" in step]
    ffmpeg_filter = ducking.split("]", 2)[-1].rsplit("[", 1)[0]  # "[bed][key]<filter>[duck]"
    return f"{said}; ducked under the shots' own sound while it is loud (ffmpeg {ffmpeg_filter})"


def _markers(spans: Sequence[Span], kind: str, rate: float) -> list[Any]:
    """One marker a span, on the timeline's clock; captions yellow, chapters green."""
    colour = otio.schema.MarkerColor.YELLOW if kind == "caption" else otio.schema.MarkerColor.GREEN
    markers = []
    for span in spans:
        start = round(span.start * rate)
        marked = _RANGE(_RT(start, rate), _RT(round(span.end * rate) - start, rate))
        markers.append(otio.schema.Marker(name=span.title, marked_range=marked, color=colour,
                                          comment=span.title,
                                          metadata={"rdpipe": {"kind": kind}}))  # fmt: skip
    return markers


def _music_media(music: MusicSpec, base_dir: Path) -> MusicMedia:
    """The music's URL and length (read with PyAV); a web URL as it is. Blocking."""
    if music.source.startswith(("http://", "https://")):
        return MusicMedia(music.source, None)
    path = (base_dir / music.source).resolve()
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        if stream.duration is not None and stream.time_base is not None:
            seconds = float(stream.duration * stream.time_base)
        else:
            seconds = (container.duration or 0) / av.time_base
    return MusicMedia(path.as_uri(), seconds or None)


async def _write_card(
    piece: CardPiece,
    target: TargetFormat,
    spec: OutputSpec,
    *,
    output: Path,
    ffmpeg: str,
    base_dir: Path,
    fonts: FontChain,
) -> None:
    """Draw the card as the assembly does and encode it, picture only, to its own MP4."""
    dest = card_path(output, piece.name)
    scratch = Path(await anyio.to_thread.run_sync(
        lambda: tempfile.mkdtemp(prefix=f".{dest.stem}.", dir=output.parent)))  # fmt: skip
    try:
        image = base_dir / piece.card.image if piece.card.image else None
        size = (target.width, target.height)
        png = await anyio.to_thread.run_sync(
            lambda: render_card(piece.card, size, scratch / "card.png", image=image, fonts=fonts)
        )
        unfinished = scratch / "card.mp4"
        argv = build_card_video_argv(ffmpeg, png, piece.frames, target, preset=spec.preset,
                                     crf=spec.crf, dest=unfinished)  # fmt: skip
        await run_ffmpeg(argv, step=f"writing the {piece.name} card for the timeline")
        await anyio.to_thread.run_sync(unfinished.replace, dest)
    finally:
        await anyio.to_thread.run_sync(lambda: shutil.rmtree(scratch, ignore_errors=True))


def build_card_video_argv(
    ffmpeg: str, image: Path, frames: int, target: TargetFormat, *, preset: str, crf: int,
    dest: Path,
) -> list[str]:  # fmt: skip
    """A card's picture as an H.264 MP4 of ``frames`` frames at the target's rate and colours."""
    rate: Fraction = target.fps
    return [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "warning", "-y",
            "-loop", "1", "-framerate", fraction_text(rate), "-i", str(image),
            "-vf", f"scale={card_scale_options(target.colour)},format=yuv420p,setsar=1,"
                   f"{tag_filter(target.colour)}",
            "-frames:v", str(frames), "-c:v", "libx264", "-preset", preset, "-crf", str(crf),
            "-pix_fmt", "yuv420p", "-video_track_timescale", str(target.timescale()),
            "-movflags", "+faststart", "-f", "mp4", str(dest)]  # fmt: skip

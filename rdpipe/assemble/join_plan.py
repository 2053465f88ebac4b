"""The pure plan of a join: copy or normalise, the pieces to encode, chapters and caption cues.

Nothing here touches a file; :func:`plan_join` takes probed clip parameters and returns what
the runner must do, with the reason the copy path was or was not taken.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal

from rdpipe.assemble.errors import AssemblyInvalid
from rdpipe.assemble.framing import CENTRE, Fit, frame_size
from rdpipe.assemble.probe import AudioInfo, ClipInfo
from rdpipe.assemble.target import TargetFormat
from rdpipe.model.output import CardSpec, ClipTrim, OutputSpec
from rdpipe.model.timeline import ShotLength, frame_rate, plan_timeline

_COPY_CODECS = {"h264", "hevc"}
_PRIMING_SECONDS = 0.1  # AAC encoder priming an edit list hides: up to 2112 samples, rounded up
_START_TOLERANCE = 0.001  # seconds between a copied clip's first picture and first sound
_KEY_NAMES = ("video codec", "profile", "width", "height", "orientation", "sample aspect ratio",
              "pixel format", "frame rate", "time base", "audio")  # fmt: skip


@dataclass(frozen=True)
class ClipInput:
    """One shot's clip as the assembly stage receives it.

    ``sha256`` (hex) is the digest of the file's bytes when the caller knows it (a run's clips
    come from the clip store, which hashed them); without it the stage hashes the file.
    ``fit`` and ``focus`` say how the clip fills a frame of another shape
    (:mod:`rdpipe.assemble.framing`).
    """

    shot_id: str
    path: Path
    prompt: str = ""
    caption: str | None = None
    trim: ClipTrim | None = None
    sha256: str | None = None
    fit: Fit = "pad"
    focus: tuple[float, float] = CENTRE


@dataclass(frozen=True)
class ClipPiece:
    """A stretch of one clip, normalised on its own: ``frames`` frames from ``start`` seconds."""

    shot_id: str
    info: ClipInfo
    start: float
    frames: int
    fade_in: int = 0
    fade_out: int = 0
    caption: str | None = None  # drawn into the picture when set
    fit: Fit = "pad"  # how the picture fills a frame of another shape
    focus: tuple[float, float] = CENTRE  # kept in view by a reframe (shares of the picture)


@dataclass(frozen=True)
class CardPiece:
    """A title or end card shown for ``frames`` frames."""

    name: Literal["title", "end"]
    card: CardSpec
    frames: int


@dataclass(frozen=True)
class CrossfadePiece:
    """The overlap of two shots: the tail of ``before`` blended into the head of ``after``."""

    before: ClipPiece
    after: ClipPiece
    frames: int


Piece = ClipPiece | CardPiece | CrossfadePiece


@dataclass(frozen=True)
class Span:
    """A stretch of the output with a title: a chapter or a caption cue; seconds."""

    title: str
    start: float
    end: float


@dataclass(frozen=True, kw_only=True)
class JoinPlan:
    """What the assembly will do, and why."""

    copy: bool
    reason: str
    target: TargetFormat
    pieces: tuple[Piece, ...]
    chapters: tuple[Span, ...]
    cues: tuple[Span, ...]
    duration: float
    shots: tuple[Span, ...] = field(default=())


def plan_join(
    clips: Sequence[ClipInput],
    infos: Sequence[ClipInfo],
    spec: OutputSpec,
    target: TargetFormat | None = None,
    *,
    copy_refused: str | None = None,
) -> JoinPlan:
    """Decide how to join the probed clips; ``infos[i]`` describes ``clips[i]``.

    ``copy_refused`` forces normalisation, with that reason (a copy join that went wrong).
    """
    if not clips:
        raise AssemblyInvalid("there are no clips to assemble")
    blocker = copy_refused or copy_blocker(clips, infos, spec)
    if blocker is None:
        return _copy_plan(clips, infos, spec)
    return _normalise_plan(clips, infos, spec, target=_target_for(infos[0], spec, target),
                           reason=blocker)  # fmt: skip


def copy_blocker(
    clips: Sequence[ClipInput], infos: Sequence[ClipInfo], spec: OutputSpec
) -> str | None:
    """Why the clips cannot be joined by stream copy, or ``None`` when they can."""
    first = infos[0]
    for clip, info in zip(clips, infos, strict=True):
        if reason := _clip_blocker(clip, info, first, clips[0].shot_id):
            return reason
    if spec.transition.kind != "cut":
        return f"the {spec.transition.kind} transition redraws the joins"
    if spec.title_card or spec.end_card:
        return "title and end cards are drawn into the video"
    if spec.captions.burn_in and any(_caption(c) for c in clips):
        return "captions are burned into the picture"
    if spec.fps is not None and frame_rate(spec.fps) != first.frame_rate:
        return f"output.fps {spec.fps} differs from the clips' {float(first.frame_rate):g}"
    if spec.frame_size not in (None, first.display_size):
        return f"output.size {spec.size} differs from the clips' {_size_text(first.display_size)}"
    size = frame_size(spec, first.display_size)
    if size not in (None, first.display_size):
        shown = _size_text(first.display_size)
        return f"the {_size_text(size)} frame differs from the clips' {shown}"
    return None


def _clip_blocker(clip: ClipInput, info: ClipInfo, first: ClipInfo, first_id: str) -> str | None:
    if info.codec not in _COPY_CODECS:
        return f"shot {clip.shot_id!r} is {info.codec}, which an mp4 cannot carry as is"
    if info.audio is None or info.audio.codec != "aac":
        return f"shot {clip.shot_id!r} has no AAC audio"
    if clip.trim is not None:
        return f"shot {clip.shot_id!r} is trimmed"
    if reason := _offset_blocker(info, info.audio):
        return f"shot {clip.shot_id!r} {reason}"
    if abs(info.audio.duration - info.video_duration) > float(1 / info.frame_rate):
        return f"shot {clip.shot_id!r} has audio and video of different lengths"
    if difference := info.colour.difference(first.colour):
        return f"shot {clip.shot_id!r} differs from shot {first_id!r} in {difference}"
    for name, mine, theirs in zip(_KEY_NAMES, info.join_key(), first.join_key(), strict=True):
        if mine != theirs:
            if name == "orientation":
                return (f"shot {clip.shot_id!r} is shown {info.orientation.describe()}, "
                        f"shot {first_id!r} {first.orientation.describe()}")  # fmt: skip
            return f"shot {clip.shot_id!r} differs from shot {first_id!r} in {name}"
    return None


def _offset_blocker(info: ClipInfo, audio: AudioInfo) -> str | None:
    """Why a clip's streams do not start together, which a copy join would keep (issue 11 §2).

    The concat demuxer shifts each file as a whole: sound before the first picture would play
    over the previous shot's last frame (and lengthen every later shot's slot), silence before
    late sound would stay, and frames an edit list hides would show.
    """
    if info.hidden_frames:
        return f"has {info.hidden_frames} frames its edit list hides"
    lag = audio.start - info.video_start
    if abs(lag) > _START_TOLERANCE:
        side = "after" if lag > 0 else "before"
        return f"starts its sound {abs(lag) * 1000:.0f} ms {side} its picture"
    hidden = audio.start - float(audio.first_pts * audio.time_base)
    if hidden > _PRIMING_SECONDS:
        return f"has {hidden:.2f} s of sound its edit list hides"
    return None


def _target_for(first: ClipInfo, spec: OutputSpec, target: TargetFormat | None) -> TargetFormat:
    """The normalised format: ``output.size``/``output.fps`` (or the frame of a deliverable's
    ratio, :func:`~rdpipe.assemble.framing.frame_size`), else ``target``, else the first clip's
    picture as it is shown (turned upright, square pixels) at its nominal rate.

    Never a size computed from the storyboard's ratio: the models' sizes are not the ratio's
    arithmetic (864x480 for 16:9 at 480p), and the video would change size with its cards.
    """
    width, height = first.display_size if target is None else (target.width, target.height)
    width, height = frame_size(spec, first.display_size) or (width, height)
    fps = first.frame_rate if target is None else target.fps
    fps = fps if spec.fps is None else frame_rate(spec.fps)
    # Limited range whatever the first clip's: no player shows a mix of ranges right.
    return TargetFormat(width + width % 2, height + height % 2, fps, first.colour.limited())


def _size_text(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def _copy_plan(clips: Sequence[ClipInput], infos: Sequence[ClipInfo], spec: OutputSpec) -> JoinPlan:
    first = infos[0]
    target = TargetFormat(*first.display_size, first.frame_rate, first.colour)
    pieces = tuple(
        ClipPiece(shot_id=c.shot_id, info=i, start=0.0, frames=i.frames)
        for c, i in zip(clips, infos, strict=True)
    )
    # Each clip's slot is its picture (the concat list gives it as each file's duration); the
    # sound is cut to the same length.
    lengths = [i.video_duration for i in infos]
    shots = _consecutive([c.shot_id for c in clips], lengths)
    return _finish(clips, spec, copy=True, reason="all clips share codec, size, rate and audio",
                   target=target, pieces=pieces, shots=shots, duration=sum(lengths))  # fmt: skip


def _normalise_plan(
    clips: Sequence[ClipInput],
    infos: Sequence[ClipInfo],
    spec: OutputSpec,
    *,
    target: TargetFormat,
    reason: str,
) -> JoinPlan:
    lengths = [
        ShotLength(c.shot_id, i.video_duration, c.trim) for c, i in zip(clips, infos, strict=True)
    ]
    timeline = plan_timeline(lengths, spec, target.fps, probed=True)
    if timeline.problems:  # the clips differ from the lengths validate checked
        problem = timeline.problems[0]
        raise AssemblyInvalid(problem.message, shot_id=problem.shot_id)
    burn = spec.captions.burn_in
    pieces: list[Piece] = []
    shot_spans: list[Span] = []
    cursor = 0
    if spec.title_card:
        pieces.append(CardPiece("title", spec.title_card, timeline.title_frames))
        cursor += timeline.title_frames
    for index, (clip, info, timing) in enumerate(zip(clips, infos, timeline.shots, strict=True)):
        start = timing.start + target.seconds_of(timing.head)
        caption = _caption(clip) if burn else None
        shot_start = cursor - (timing.head + 1) // 2 if timing.head else cursor
        pieces.append(ClipPiece(shot_id=clip.shot_id, info=info, start=start,
                                frames=timing.body, fade_in=timing.fade_in,
                                fade_out=timing.fade_out, caption=caption, fit=clip.fit,
                                focus=clip.focus))  # fmt: skip
        cursor += timing.body
        if timing.tail:
            after = clips[index + 1]
            pieces.append(CrossfadePiece(
                before=ClipPiece(shot_id=clip.shot_id, info=info,
                                 start=start + target.seconds_of(timing.body),
                                 frames=timing.tail, caption=caption, fit=clip.fit,
                                 focus=clip.focus),
                after=ClipPiece(shot_id=after.shot_id, info=infos[index + 1],
                                start=timeline.shots[index + 1].start, frames=timing.tail,
                                caption=_caption(after) if burn else None, fit=after.fit,
                                focus=after.focus),
                frames=timing.tail,
            ))  # fmt: skip
            cursor += timing.tail
        shot_end = cursor - timing.tail // 2
        shot_spans.append(Span(clip.shot_id, target.seconds_of(shot_start),
                               target.seconds_of(shot_end)))  # fmt: skip
    if spec.end_card:
        pieces.append(CardPiece("end", spec.end_card, timeline.end_frames))
        cursor += timeline.end_frames
    return _finish(clips, spec, copy=False, reason=reason, target=target, pieces=tuple(pieces),
                   shots=tuple(shot_spans), duration=target.seconds_of(cursor))  # fmt: skip


def _consecutive(ids: Sequence[str], lengths: Sequence[float]) -> tuple[Span, ...]:
    spans, cursor = [], 0.0
    for shot_id, length in zip(ids, lengths, strict=True):
        spans.append(Span(shot_id, cursor, cursor + length))
        cursor += length
    return tuple(spans)


def _finish(
    clips: Sequence[ClipInput],
    spec: OutputSpec,
    *,
    copy: bool,
    reason: str,
    target: TargetFormat,
    pieces: tuple[Piece, ...],
    shots: tuple[Span, ...],
    duration: float,
) -> JoinPlan:
    """The plan, with its chapters (shots, and cards when set) and caption cues."""
    chapters = list(shots) if spec.chapters else []
    if spec.chapters and spec.title_card:
        chapters.insert(0, Span(_first_line(spec.title_card.text), 0.0, shots[0].start))
    if spec.chapters and spec.end_card:
        chapters.append(Span(_first_line(spec.end_card.text), shots[-1].end, duration))
    cues = tuple(
        Span(caption, shot.start, shot.end)
        for clip, shot in zip(clips, shots, strict=True)
        if (caption := _caption(clip))
    )
    return JoinPlan(copy=copy, reason=reason, target=target, pieces=pieces, shots=shots,
                    chapters=tuple(chapters), cues=cues, duration=duration)  # fmt: skip


def _caption(clip: ClipInput) -> str | None:
    """The shot's caption, or ``None`` when it has none or only blanks (no empty cue)."""
    return clip.caption if clip.caption and clip.caption.strip() else None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "card"


def fraction_text(value: Fraction) -> str:
    """A rate as ffmpeg reads it: ``30000/1001`` or ``25``."""
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )

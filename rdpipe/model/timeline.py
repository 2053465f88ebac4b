"""The arithmetic of a storyboard's timeline: trims, transitions and cards, counted in frames.

One definition shared by ``validate`` (on the planned shot lengths, before anything is sent)
and the assembly plan (on the probed clips), so that the check and the ffmpeg graph cannot
disagree (issue 10 §5). Pure: lengths in seconds in, frame counts and problems out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from rdpipe.model.output import CardSpec, ClipTrim, OutputSpec

#: Frame rate of the clips the API returns: the video's rate unless ``output.fps`` is set.
PLANNED_FPS = Fraction(24)

#: Where in the pipeline file a problem is, e.g. ``("shots", 2, "trim", "end")``.
FieldPath = tuple[str | int, ...]


def frame_rate(fps: Fraction | float) -> Fraction:
    """A frame rate as a fraction, recognising the NTSC rates written as decimals."""
    if isinstance(fps, Fraction):
        return fps
    for ntsc in (24, 30, 60):
        if abs(fps - ntsc * 1000 / 1001) < 0.01:
            return Fraction(ntsc * 1000, 1001)
    return Fraction(fps).limit_denominator(1001)


def planned_fps(spec: OutputSpec) -> Fraction:
    """The rate the video is planned at: ``output.fps``, else the API's 24 fps."""
    return PLANNED_FPS if spec.fps is None else frame_rate(spec.fps)


def round_half_up(value: Fraction) -> int:
    """The whole number closest to ``value``, halves rounded up (Python's ``round`` goes to the
    even one: 12.5 frames would be 12 and 37.5 frames 38)."""
    return math.floor(value + Fraction(1, 2))


def exact(seconds: float | Fraction) -> Fraction:
    """``seconds`` as written: a float by its shortest decimal (0.3 is 3/10, not the binary
    0.29999…), so that a length of exactly half a frame rounds up as it reads."""
    return seconds if isinstance(seconds, Fraction) else Fraction(repr(float(seconds)))


def frames_in(seconds: float | Fraction, fps: Fraction) -> int:
    """Whole frames closest to ``seconds`` at ``fps``, a half frame rounded up; validate and
    the assembly count every length with it."""
    return round_half_up(exact(seconds) * fps)


@dataclass(frozen=True)
class ShotLength:
    """One shot as the timeline sees it: its length in seconds before its trim, and the trim."""

    shot_id: str
    seconds: float
    trim: ClipTrim | None = None


@dataclass(frozen=True)
class ShotTiming:
    """Where a shot's frames start in its clip (seconds) and how it meets its neighbours."""

    start: float
    frames: int
    head: int = 0  # frames blended with the shot before (crossfade)
    tail: int = 0  # frames blended with the shot after
    fade_in: int = 0  # frames of the dip to black at its start (fade)
    fade_out: int = 0

    @property
    def body(self) -> int:
        """Frames of the shot outside its crossfades."""
        return self.frames - self.head - self.tail


@dataclass(frozen=True)
class LengthProblem:
    """A length the join cannot be drawn with, at a data path of the pipeline file."""

    shot_id: str | None
    path: FieldPath
    message: str


@dataclass(frozen=True)
class Timeline:
    """Frames of every shot and card; ``problems`` lists every length that does not fit."""

    shots: tuple[ShotTiming, ...]
    title_frames: int
    end_frames: int
    problems: tuple[LengthProblem, ...]


def plan_timeline(
    shots: Sequence[ShotLength], spec: OutputSpec, fps: Fraction, *, probed: bool = False
) -> Timeline:
    """Lay the shots and cards of ``spec`` out in frames at ``fps``, finding every misfit.

    ``probed`` says the lengths are the clips' own (the assembly) rather than the requested
    seconds (validate): a trim ending beyond a clip then keeps it to its end instead of
    being an error. Paths name a shot by its position in ``shots``.
    """
    problems: list[LengthProblem] = []
    overlap = _transition_frames(spec, fps, "crossfade", 1)
    half = _transition_frames(spec, fps, "fade", 2)
    last = len(shots) - 1
    timings = []
    for index, shot in enumerate(shots):
        start, frames = _trimmed(index, shot, fps, probed, problems)
        head, tail = (1 if index > 0 else 0), (1 if index < last else 0)
        timing = ShotTiming(start, frames, overlap * head, overlap * tail, half * head, half * tail)
        if frames >= 1 and timing.body - timing.fade_in - timing.fade_out < 1:
            problems.append(_transition_problem(index, shot, timing, spec, fps, probed))
        timings.append(timing)
    title = _card_frames("title_card", spec.title_card, fps, problems)
    end = _card_frames("end_card", spec.end_card, fps, problems)
    return Timeline(tuple(timings), title, end, tuple(problems))


def _transition_frames(spec: OutputSpec, fps: Fraction, kind: str, parts: int) -> int:
    """Frames a transition of ``kind`` takes at each side of a join; at least one."""
    transition = spec.transition
    if transition.kind != kind:
        return 0
    return max(1, frames_in(exact(transition.seconds) / parts, fps))


def _kept(shot: ShotLength) -> Fraction:
    """Seconds of the shot left after its trim (a trim past its end keeps it to its end)."""
    trim = shot.trim or ClipTrim()
    return min(exact(shot.seconds), exact(trim.end or shot.seconds)) - exact(trim.start)


def _trimmed(
    index: int, shot: ShotLength, fps: Fraction, probed: bool, problems: list[LengthProblem]
) -> tuple[float, int]:
    """Start (seconds) and frames the shot keeps after its trim; problems when they misfit."""
    trim = shot.trim or ClipTrim()
    where: FieldPath = ("shots", index, "trim")
    length = _s(shot.seconds)
    whole = f"the clip lasts only {length} s" if probed else f"the shot is only {length} s long"
    if trim.start >= shot.seconds:
        message = f"trim starts at {_s(trim.start)} s but {whole}"
        problems.append(LengthProblem(shot.shot_id, (*where, "start"), message))
        return trim.start, 0
    if trim.end is not None and trim.end > shot.seconds and not probed:
        message = f"trim ends at {_s(trim.end)} s but {whole}"
        problems.append(LengthProblem(shot.shot_id, (*where, "end"), message))
    kept = _kept(shot)
    frames = frames_in(kept, fps)
    if frames < 1:
        said = f"the clip lasts {_s(kept)} s"
        if shot.trim:
            said = f"trim keeps {_s(kept)} s of the {'clip' if probed else 'shot'}"
        message = f"{said}, less than one frame at {_s(fps)} fps"
        path = where if shot.trim else ("shots", index)
        problems.append(LengthProblem(shot.shot_id, path, message))
    return trim.start, frames


def _transition_problem(
    index: int, shot: ShotLength, timing: ShotTiming, spec: OutputSpec, fps: Fraction, probed: bool
) -> LengthProblem:
    """The shot is too short for the transitions at its ends."""
    transition = spec.transition
    kept = _s(_kept(shot))
    path: FieldPath = ("output", "transition", "seconds")
    if probed:
        subject = f"its clip lasts {kept} s" + (" after its trim" if shot.trim else "")
    elif shot.trim:
        subject = f"shot {shot.shot_id!r} keeps {kept} s after its trim"
        path = ("shots", index, "trim")
    else:
        subject = f"shot {shot.shot_id!r} is {kept} s long"
    advice = "keep more of the shot" if shot.trim else "lengthen the shot"
    if probed and not shot.trim:  # the clip came back shorter than the seconds it was asked
        advice = f"regenerate the shot (run again with --force {shot.shot_id})"
    needed = timing.head + timing.tail + timing.fade_in + timing.fade_out
    return LengthProblem(
        shot.shot_id,
        path,
        f"{subject}, too short for the {_s(transition.seconds)} s {transition.kind}: it needs "
        f"more than {_s(needed / fps)} s ({_transition_parts(timing, fps)}); shorten "
        f"output.transition.seconds or {advice}",
    )


def _transition_parts(timing: ShotTiming, fps: Fraction) -> str:
    """What the transitions take from the shot, e.g. ``1.5 s fading in and 1.5 s fading out``."""
    parts = []
    if timing.head:
        parts.append(f"{_s(timing.head / fps)} s blended with the shot before")
    if timing.tail:
        parts.append(f"{_s(timing.tail / fps)} s blended with the shot after")
    if timing.fade_in:
        parts.append(f"{_s(timing.fade_in / fps)} s fading in")
    if timing.fade_out:
        parts.append(f"{_s(timing.fade_out / fps)} s fading out")
    return " and ".join(parts)


def _card_frames(
    name: str, card: CardSpec | None, fps: Fraction, problems: list[LengthProblem]
) -> int:
    """Frames of a card (zero without one); a problem when it lasts less than a frame."""
    if card is None:
        return 0
    frames = frames_in(card.seconds, fps)
    if frames < 1:
        message = f"{_s(card.seconds)} s is less than one frame at {_s(fps)} fps"
        problems.append(LengthProblem(None, ("output", name, "seconds"), message))
    return frames


def _s(value: float | Fraction) -> str:
    """Seconds (or a rate) as people write them: ``3``, ``1.5``, ``0.042``, ``23.976``."""
    return f"{round(float(value), 3):g}"

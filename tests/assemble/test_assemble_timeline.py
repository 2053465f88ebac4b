"""The join is laid out by the same timeline validate checks; clips that do not fit are refused.

A server may return a clip shorter than the seconds asked: the assembly then raises a clear
``AssemblyInvalid`` naming the shot before ffmpeg runs, never an ffmpeg error dump.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import anyio
import pytest

from rdpipe.assemble import AssemblyInvalid, ClipInfo, ClipInput, TargetFormat, assemble, plan_join
from rdpipe.assemble.join_plan import ClipPiece, CrossfadePiece
from rdpipe.assemble.probe import AudioInfo
from rdpipe.model.output import ClipTrim, OutputSpec, TransitionSpec
from rdpipe.model.timeline import PLANNED_FPS, ShotLength, frames_in, plan_timeline
from tests.assemble.clips import ClipRecipe, make_clip

TARGET = TargetFormat(320, 180, PLANNED_FPS)


def _info(name: str, seconds: float) -> ClipInfo:
    sound = AudioInfo(codec="aac", sample_rate=48000, channels=2,
                      time_base=Fraction(1, 48000), first_pts=-1024,
                      duration=seconds, packets=95, priming_packets=1)  # fmt: skip
    return ClipInfo(path=Path(f"/clips/{name}.mp4"), container="mp4", codec="h264",
                    profile="High", width=320, height=180, sample_aspect_ratio=Fraction(1),
                    pixel_format="yuv420p", frame_rate=PLANNED_FPS,
                    time_base=Fraction(1, 12288), frames=round(seconds * 24),
                    video_duration=seconds, container_duration=seconds, start_time=0.0,
                    audio=sound)  # fmt: skip


def _plan(spec: OutputSpec, *shots: tuple[str, float, ClipTrim | None]) -> list[ClipPiece]:
    clips = [ClipInput(name, Path(f"/clips/{name}.mp4"), trim=trim) for name, _s, trim in shots]
    infos = [_info(name, seconds) for name, seconds, _t in shots]
    plan = plan_join(clips, infos, spec, TARGET)
    return [p for p in plan.pieces if isinstance(p, ClipPiece)]


@pytest.mark.parametrize(
    "transition",
    [
        TransitionSpec(kind="cut"),
        TransitionSpec(kind="fade", seconds=1.5),
        TransitionSpec(kind="crossfade", seconds=0.5),
    ],
    ids=lambda t: t.kind,
)
def test_plan_draws_the_timeline_validate_checked(transition: TransitionSpec) -> None:
    """Clips as long as planned are cut into exactly the frames and fades validate counted."""
    spec = OutputSpec(transition=transition, contact_sheet=False)
    shots = [("a", 5.0, ClipTrim(end=3)), ("b", 4.0, None), ("c", 5.0, ClipTrim(start=1))]
    timeline = plan_timeline([ShotLength(*shot) for shot in shots], spec, PLANNED_FPS)
    pieces = _plan(spec, *shots)
    assert timeline.problems == ()
    assert [(p.start, p.frames, p.fade_in, p.fade_out) for p in pieces] == [
        (t.start + t.head / 24, t.body, t.fade_in, t.fade_out) for t in timeline.shots
    ]
    expected = {"cut": [72, 96, 96], "fade": [72, 96, 96], "crossfade": [60, 72, 84]}
    assert [p.frames for p in pieces] == expected[transition.kind]
    assert [(p.fade_in, p.fade_out) for p in pieces] == (
        [(0, 18), (18, 18), (18, 0)] if transition.kind == "fade" else [(0, 0)] * 3
    )


def test_a_clip_shorter_than_planned_is_refused_with_a_clear_message() -> None:
    """A 2 s clip where 5 s were asked cannot take a 3 s fade: the shot is named, no ffmpeg."""
    spec = OutputSpec(transition=TransitionSpec(kind="fade", seconds=3))
    with pytest.raises(AssemblyInvalid) as caught:
        _plan(spec, ("a", 5.0, None), ("b", 2.0, None), ("c", 5.0, None))
    assert str(caught.value) == (
        "shot 'b': its clip lasts 2 s, too short for the 3 s fade: it needs more than 3 s "
        "(1.5 s fading in and 1.5 s fading out); shorten output.transition.seconds or "
        "regenerate the shot (run again with --force b)"
    )
    assert caught.value.shot_id == "b"


def test_a_crossfade_longer_than_a_trimmed_clip_is_refused() -> None:
    """A trimmed clip that keeps less than its two crossfades is named, with what it keeps."""
    spec = OutputSpec(transition=TransitionSpec(kind="crossfade", seconds=1))
    with pytest.raises(AssemblyInvalid) as caught:
        _plan(spec, ("a", 5.0, None), ("b", 2.5, ClipTrim(start=1, end=4)), ("c", 5.0, None))
    assert str(caught.value) == (
        "shot 'b': its clip lasts 1.5 s after its trim, too short for the 1 s crossfade: it "
        "needs more than 2 s (1 s blended with the shot before and 1 s blended with the shot "
        "after); shorten output.transition.seconds or keep more of the shot"
    )


def test_a_trim_starting_past_a_short_clip_is_refused() -> None:
    """A trim that starts after the clip's real end is refused naming both lengths."""
    with pytest.raises(AssemblyInvalid) as caught:
        _plan(OutputSpec(), ("a", 5.0, None), ("b", 2.0, ClipTrim(start=3)))
    assert str(caught.value) == "shot 'b': trim starts at 3 s but the clip lasts only 2 s"


def test_a_trim_ending_past_a_short_clip_keeps_it_to_its_end() -> None:
    """A clip shorter than its trim's end is used to its end: the graph can still be drawn."""
    pieces = _plan(OutputSpec(), ("a", 5.0, None), ("b", 2.0, ClipTrim(start=1, end=4)))
    assert [(p.start, p.frames) for p in pieces] == [(0.0, 120), (1.0, 24)]


def test_crossfade_pieces_follow_the_trims() -> None:
    """The blended head of a shot starts at its trim, as the timeline says."""
    spec = OutputSpec(transition=TransitionSpec(kind="crossfade", seconds=0.5))
    clips = [ClipInput("a", Path("/clips/a.mp4")),
             ClipInput("b", Path("/clips/b.mp4"), trim=ClipTrim(start=2))]  # fmt: skip
    plan = plan_join(clips, [_info("a", 4.0), _info("b", 4.0)], spec, TARGET)
    blend = next(p for p in plan.pieces if isinstance(p, CrossfadePiece))
    assert (blend.before.start, blend.after.start, blend.frames) == (3.5, 2.0, 12)


def test_assembling_a_short_clip_stops_before_ffmpeg(tmp_path: Path, ffmpeg: str) -> None:
    """Real files: a 2 s clip between 4 s ones under a 3 s fade raises AssemblyInvalid."""
    lengths = {"a": 4.0, "b": 2.0, "c": 4.0}
    paths = {
        name: make_clip(ffmpeg, ClipRecipe(f"short-{name}", 320, 180, "24", seconds), tmp_path)
        for name, seconds in lengths.items()
    }
    spec = OutputSpec(transition=TransitionSpec(kind="fade", seconds=3), contact_sheet=False)

    async def main() -> None:
        await assemble([ClipInput(name, path) for name, path in paths.items()], spec,
                       output=tmp_path / "film.mp4", cache_dir=tmp_path / "cache",
                       ffmpeg=ffmpeg, target=TARGET)  # fmt: skip

    with pytest.raises(AssemblyInvalid, match=r"^shot 'b': its clip lasts 2 s, too short"):
        anyio.run(main)
    assert not (tmp_path / "film.mp4").exists()
    assert not list((tmp_path / "cache").glob("*.mov"))


@pytest.mark.parametrize(
    ("kind", "seconds", "frames"),
    [("crossfade", 0.5, 13), ("crossfade", 1.5, 38), ("crossfade", 0.3, 8), ("fade", 1.0, 13),
     ("fade", 3.0, 38), ("crossfade", 0.54, 14)],
)  # fmt: skip
def test_lengths_round_half_frames_up(kind: str, seconds: float, frames: int) -> None:
    """A length of a whole number of frames and a half rounds up, the same in validate's
    timeline and in the assembly's pieces (0.5 s at 25 fps is 13 frames, as 1.5 s is 38)."""
    fps = Fraction(25)
    spec = OutputSpec(transition=TransitionSpec(kind=kind, seconds=seconds))  # type: ignore[arg-type]
    timeline = plan_timeline([ShotLength("a", 4.0), ShotLength("b", 4.0)], spec, fps)
    counted = timeline.shots[0].tail or timeline.shots[0].fade_out
    assert counted == frames
    clips = [ClipInput("a", Path("/clips/a.mp4")), ClipInput("b", Path("/clips/b.mp4"))]
    infos = [_info("a", 4.0), _info("b", 4.0)]
    plan = plan_join(clips, infos, spec, TargetFormat(320, 180, fps))
    drawn = [p.frames for p in plan.pieces if isinstance(p, CrossfadePiece)]
    drawn += [p.fade_out for p in plan.pieces if isinstance(p, ClipPiece) and p.fade_out]
    assert drawn == [frames]
    assert frames_in(0.02, fps) == 1 and frames_in(0.0199, fps) == 0

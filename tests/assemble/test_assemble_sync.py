"""Sound and picture stay together (issue 11 §2): each shot's t=0 is its first picture.

Every clip here flashes white while it beeps. Their streams start apart as cameras and
re-muxes leave them (picture late, sound late, an edit list hiding frames, WebM offsets, sound
shorter or longer than the picture); the output is decoded to find each flash (mean luma) and
each beep (first loud sample), which must stay within one frame of each other, at the time the
storyboard puts them, on the copy path and on the normalise path.
"""

from __future__ import annotations

import re
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import pytest

from rdpipe.assemble import AssemblyResult, ClipInput, TargetFormat, plan_join
from rdpipe.assemble.argv import build_normalise_argv
from rdpipe.assemble.join_plan import ClipPiece
from rdpipe.assemble.probe import AudioInfo, ClipInfo, probe_clip_blocking
from rdpipe.assemble.probe_cache import ProbeCache
from rdpipe.model.output import CardSpec, ClipTrim, MusicSpec, OutputSpec, TransitionSpec
from tests.assemble.clips import MarkedClip, make_marked_clip
from tests.assemble.joining import join
from tests.assemble.media import beep_times, flash_times

FRAME = 1 / 25
TARGET = TargetFormat(160, 120, Fraction(25))
# name: how the clip is made, and the trim of its shot (its mark stays clear of 0.4 s blends).
CLIPS = {
    "late": (MarkedClip("late", mark=0.5, rate="24", video_delay=0.5, audio_seconds=2.5), None),
    "plain": (MarkedClip("plain", mark=1.0), ClipTrim(start=0.3, end=1.9)),
    "sound_late": (MarkedClip("sound_late", mark=1.2, audio_delay=0.48), None),
    "edited": (MarkedClip("edited", mark=0.8, cut=1.28), None),
    "sound_short": (MarkedClip("sound_short", mark=0.8, audio_seconds=1.2), None),
    "sound_long": (MarkedClip("sound_long", mark=1.2, audio_seconds=3.0), ClipTrim(start=0.4)),
    "webm_late": (MarkedClip("webm_late", mark=0.8, video_delay=0.32, webm=True), None),
}
COPYABLE = {
    "a": MarkedClip("copy_a", mark=1.0),
    "b": MarkedClip("copy_b", mark=0.6, seconds=1.6),
    "c": MarkedClip("copy_c", mark=1.4, seconds=2.4),
}


@pytest.fixture(scope="module")
def marked(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every marked clip, made once for the module."""
    directory = tmp_path_factory.mktemp("marked")
    recipes = [recipe for recipe, _trim in CLIPS.values()] + list(COPYABLE.values())
    return {recipe.name: make_marked_clip(ffmpeg, recipe, directory) for recipe in recipes}


def _assemble(clips: list[ClipInput], spec: OutputSpec, tmp_path: Path, ffmpeg: str,
              target: TargetFormat | None = TARGET) -> AssemblyResult:  # fmt: skip
    return join(clips, spec, tmp_path, ffmpeg, target=target)


def _planned_marks(starts: list[float], clips: list[ClipInput], marks: list[float]) -> list[float]:
    """Where each shot's mark belongs in the output: its shot's start, plus the mark, less trim."""
    return [
        start + mark - (clip.trim.start if clip.trim else 0.0)
        for start, clip, mark in zip(starts, clips, marks, strict=True)
    ]


def _assert_in_sync(result: AssemblyResult, planned: list[float]) -> None:
    """Each beep where the storyboard puts it, its flash within a frame of it, and both
    streams (sound throughout) from zero to the storyboard's end."""
    flashes, beeps = flash_times(result.output), beep_times(result.output)
    assert len(flashes) == len(beeps) == len(planned), (flashes, beeps, planned)
    for flash, beep, at in zip(flashes, beeps, planned, strict=True):
        assert beep == pytest.approx(at, abs=0.005), (beeps, planned)
        assert flash == pytest.approx(beep, abs=FRAME), (flashes, beeps)
    with av.open(str(result.output)) as container:
        assert (container.duration or 0) / av.time_base == pytest.approx(result.duration, abs=0.002)
        for stream in (container.streams.video[0], container.streams.audio[0]):
            tick = stream.time_base or Fraction(1)
            assert float((stream.start_time or 0) * tick) == pytest.approx(0.0, abs=0.001)
            assert float((stream.duration or 0) * tick) == pytest.approx(result.duration, abs=0.002)


def test_the_issue_clip_keeps_its_beep_on_its_flash(
    marked: dict[str, Path], tmp_path: Path, ffmpeg: str
) -> None:
    """A clip whose picture starts 0.5 s after its sound, joined with a 25 fps clip, stays in sync.

    The picture is the shot: its flash, 0.5 s after the first frame, is at 0.5 s in the output
    (0.52 once 24 fps becomes 25) and the beep with it, not at 1.0 s where the file had it.
    """
    clips = [ClipInput("late", marked["late"]), ClipInput("plain", marked["copy_a"])]
    result = _assemble(clips, OutputSpec(contact_sheet=False), tmp_path, ffmpeg)
    assert not result.copied
    assert result.duration == pytest.approx(4.0)
    _assert_in_sync(result, [0.5, 3.0])


@pytest.mark.parametrize("kind", ["cut", "fade", "crossfade"])
def test_every_offset_kind_stays_in_sync_through_each_transition(
    kind: str, marked: dict[str, Path], tmp_path: Path, ffmpeg: str
) -> None:
    """Late picture, late sound, edit lists, WebM offsets, short and long sound, trims, a card.

    The storyboard lasts its card plus its shots' pictures (less the crossfades' overlaps),
    with sound throughout, and every beep lands on its flash where the storyboard puts it.
    """
    overlap = 0.4 if kind == "crossfade" else 0.0
    spec = OutputSpec(
        transition=TransitionSpec(kind=kind, seconds=0.4),  # type: ignore[arg-type]
        title_card=CardSpec(text="Sync", seconds=1.0),
        contact_sheet=False,
    )
    clips = [ClipInput(name, marked[recipe.name], trim=trim)
             for name, (recipe, trim) in CLIPS.items()]  # fmt: skip
    lengths = [(c.trim.end or 2.0) - c.trim.start if c.trim else 2.0 for c in clips]
    starts = [1.0 + sum(lengths[:i]) - i * overlap for i in range(len(clips))]
    result = _assemble(clips, spec, tmp_path, ffmpeg)
    assert result.duration == pytest.approx(1.0 + sum(lengths) - (len(clips) - 1) * overlap)
    marks = [recipe.mark for recipe, _trim in CLIPS.values()]
    _assert_in_sync(result, _planned_marks(starts, clips, marks))


@pytest.mark.parametrize("music", [False, True], ids=["copied-sound", "music-bed"])
def test_clips_sharing_their_start_are_copied_in_sync(
    music: bool, marked: dict[str, Path], tmp_path: Path, ffmpeg: str
) -> None:
    """Clips whose streams start together (AAC priming before zero) are copied without drift,
    their sound copied, or decoded again to go under a music bed."""
    bed = None
    if music:
        subprocess.run([ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i", "sine=f=220:d=3",
                        str(tmp_path / "bed.wav")], check=True)  # fmt: skip
        bed = MusicSpec(source="bed.wav", volume=0.1)
    clips = [ClipInput(name, marked[recipe.name]) for name, recipe in [*COPYABLE.items()] * 2]
    spec = OutputSpec(contact_sheet=False, music=bed)
    result = _assemble(clips, spec, tmp_path, ffmpeg, target=None)
    assert result.copied and result.encoded == 0
    seconds = [recipe.seconds for recipe in COPYABLE.values()] * 2
    starts = [sum(seconds[:i]) for i in range(len(clips))]
    marks = [recipe.mark for recipe in COPYABLE.values()] * 2
    _assert_in_sync(result, _planned_marks(starts, clips, marks))


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("sound_late", r"shot 'sound_late' starts its sound 45\d ms after its picture"),
        ("edited", r"shot 'edited' has 32 frames its edit list hides"),
    ],
)
def test_clips_whose_streams_start_apart_are_normalised_instead_of_copied(
    name: str, reason: str, marked: dict[str, Path], tmp_path: Path, ffmpeg: str
) -> None:
    """A copy join would keep a clip's lead or hidden frames: it falls back, and stays in sync."""
    recipe = CLIPS[name][0]
    clips = [ClipInput("a", marked["copy_a"]), ClipInput(name, marked[recipe.name]),
             ClipInput("b", marked["copy_b"])]  # fmt: skip
    result = _assemble(clips, OutputSpec(contact_sheet=False), tmp_path, ffmpeg, target=None)
    assert not result.copied
    assert re.fullmatch(reason, result.reason), result.reason
    _assert_in_sync(result, [1.0, 2.0 + recipe.mark, 4.0 + 0.6])


def test_the_probe_reads_where_each_stream_starts(marked: dict[str, Path], tmp_path: Path) -> None:
    """Picture and sound starts, hidden frames and the picture's length, remembered as read."""
    late = probe_clip_blocking(marked["late"], shot_id="late")
    edited = probe_clip_blocking(marked["edited"], shot_id="edited")
    sound_late = probe_clip_blocking(marked["sound_late"], shot_id="sound_late")
    assert late.audio is not None and edited.audio is not None and sound_late.audio is not None
    assert (late.video_start, late.file_start, late.audio.start) == (0.5, 0.0, 0.0)
    assert late.video_duration == pytest.approx(2.0)
    assert (edited.video_start, edited.hidden_frames, edited.frames) == (0.0, 32, 50)
    assert edited.video_duration == pytest.approx(2.0)
    assert sound_late.audio.start == pytest.approx(0.48 - 1024 / 48000)
    cache = ProbeCache(tmp_path / "probes.json")
    cache.remember_info(edited)
    cache.save()
    assert ProbeCache(tmp_path / "probes.json").recall_info(marked["edited"]) == edited


def test_normalising_seeks_to_the_first_picture() -> None:
    """A trimmed piece of a clip whose picture starts 0.5 s in seeks 0.5 s plus the trim."""
    late = _probed(video_start=0.5)
    argv = build_normalise_argv("ffmpeg", ClipPiece("late", late, 0.25, 25), TARGET,
                                preset="veryfast", crf=20, dest=Path("/cache/k.mov"))  # fmt: skip
    assert argv[6:12] == ["-ss", "0.750000", "-t", "2.000000", "-i", "/clips/late.mp4"]
    graph = argv[argv.index("-filter_complex") + 1]
    assert graph.startswith("[0:v]fps=25:start_time=0,scale=")
    assert "[0:a]aresample=async=1:first_pts=0:" in graph
    plan = plan_join([ClipInput("late", late.path)], [late], OutputSpec())
    assert not plan.copy
    assert plan.reason == "shot 'late' starts its sound 500 ms before its picture"


def _probed(*, video_start: float) -> ClipInfo:
    """A probed 2 s 25 fps clip with AAC sound from zero and its picture from ``video_start``."""
    sound = AudioInfo(codec="aac", sample_rate=48000, channels=2,
                      time_base=Fraction(1, 48000), first_pts=-1024,
                      duration=2.0 + video_start, packets=95, priming_packets=1,
                      start=0.0)  # fmt: skip
    return ClipInfo(path=Path("/clips/late.mp4"), container="mp4", codec="h264", profile="High",
                    width=160, height=120, sample_aspect_ratio=Fraction(1),
                    pixel_format="yuv420p", frame_rate=Fraction(25),
                    time_base=Fraction(1, 12800), frames=50, video_duration=2.0,
                    container_duration=2.0 + video_start, start_time=-1024 / 48000,
                    audio=sound, video_start=video_start)  # fmt: skip

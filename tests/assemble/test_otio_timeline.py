"""The editors' timeline beside each video (issue 17 §3): ``<stem>.otio`` from a real assembly.

Each film is assembled by the real stage with the bundled ffmpeg from generated clips; the
``.otio`` written beside it is read back with OTIO, compared with what the assembly did
(clips, trims, transitions, cards, music, captions, chapters), measured against the MP4
decoded with PyAV, and converted through OTIO's Final Cut Pro X, Final Cut 7 XML and CMX 3600
EDL adapters. No editor application is run.
"""

from __future__ import annotations

import copy
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio
import pytest

from rdpipe.assemble import AssemblyResult, ClipInput
from rdpipe.model.output import (
    CaptionsSpec,
    CardSpec,
    ClipTrim,
    MusicSpec,
    OutputSpec,
    TransitionSpec,
)
from tests.assemble.clips import ClipRecipe, make_clip
from tests.assemble.joining import join
from tests.assemble.media import measure

RATE = 24


@dataclass(frozen=True)
class Film:
    """An assembled film: its result, the timeline read back from disk, its clips."""

    result: AssemblyResult
    timeline: Any
    clips: dict[str, Path]
    folder: Path


def _clips(ffmpeg: str, folder: Path) -> dict[str, Path]:
    """Three 2 s clips at 24 fps, 320x180, with sound; ``c`` is 3 s."""
    recipes = [ClipRecipe("a", 320, 180, "24", seconds=2.0, hue=0),
               ClipRecipe("b", 320, 180, "24", seconds=2.0, hue=120),
               ClipRecipe("c", 320, 180, "24", seconds=3.0, hue=240)]  # fmt: skip
    return {recipe.name: make_clip(ffmpeg, recipe, folder) for recipe in recipes}


def _music(ffmpeg: str, folder: Path) -> Path:
    """A 2.5 s tone: shorter than the film, so the assembly loops it."""
    dest = folder / "bed.m4a"
    subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
                    "-i", "sine=f=220:r=48000:d=2.5", "-c:a", "aac", str(dest)],
                   check=True)  # fmt: skip
    return dest


def _assemble(
    ffmpeg: str, folder: Path, spec: OutputSpec, inputs: list[ClipInput], **options: Any
) -> Film:
    result = join(inputs, spec, folder, ffmpeg, base_dir=folder, **options)
    timeline = otio.adapters.read_from_file(str(folder / "film.otio"))
    return Film(result, timeline, {i.shot_id: i.path for i in inputs}, folder)


@pytest.fixture(scope="module")
def crossfaded(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Film:
    """Trims, a 0.5 s crossfade, title and end cards, a looped ducked music bed, captions."""
    folder = tmp_path_factory.mktemp("otio-crossfade")
    paths = _clips(ffmpeg, folder)
    _music(ffmpeg, folder)
    spec = OutputSpec(path="film.mp4", transition=TransitionSpec(kind="crossfade", seconds=0.5),
                      title_card=CardSpec(text="Coast", seconds=1.0),
                      end_card=CardSpec(text="The end", seconds=0.5, background="navy"),
                      music=MusicSpec(source="bed.m4a", volume=0.4),
                      captions=CaptionsSpec(sidecars=("srt",)), contact_sheet=False)  # fmt: skip
    inputs = [ClipInput("a", paths["a"], prompt="the cliff", caption="Gulls over the cliff",
                        trim=ClipTrim(start=0.5)),
              ClipInput("b", paths["b"], caption="The lighthouse"),
              ClipInput("c", paths["c"], trim=ClipTrim(start=0.25, end=2.5))]  # fmt: skip
    return _assemble(ffmpeg, folder, spec, inputs)


@pytest.fixture(scope="module")
def faded(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Film:
    """A 0.5 s dip to black between three untrimmed shots, captions and chapters."""
    folder = tmp_path_factory.mktemp("otio-fade")
    paths = _clips(ffmpeg, folder)
    spec = OutputSpec(path="film.mp4", transition=TransitionSpec(kind="fade", seconds=0.5),
                      contact_sheet=False)  # fmt: skip
    inputs = [ClipInput(name, path, caption=f"caption {name}") for name, path in paths.items()]
    return _assemble(ffmpeg, folder, spec, inputs)


@pytest.fixture(scope="module")
def copied(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Film:
    """Matching clips joined by stream copy (no cards, no transitions)."""
    folder = tmp_path_factory.mktemp("otio-copy")
    paths = _clips(ffmpeg, folder)
    spec = OutputSpec(path="film.mp4", contact_sheet=False)
    return _assemble(ffmpeg, folder, spec, [ClipInput(n, p) for n, p in paths.items()])


def _track(timeline: Any, name: str) -> Any:
    (track,) = [track for track in timeline.tracks if track.name == name]
    return track


def _items(track: Any) -> list[tuple[object, ...]]:
    """Each item of a track: clip (name, file URL, start frame, frames), transition (name,
    in, out frames) or gap (frames)."""
    described: list[tuple[object, ...]] = []
    for item in track:
        if isinstance(item, otio.schema.Transition):
            described.append(("transition", item.name, item.transition_type,
                              item.in_offset.value, item.out_offset.value))  # fmt: skip
        elif isinstance(item, otio.schema.Gap):
            described.append(("gap", item.source_range.duration.value))
        else:
            source = item.source_range
            described.append((item.name, item.media_reference.target_url,
                              source.start_time.value, source.duration.value))  # fmt: skip
    return described


def _markers(timeline: Any) -> list[tuple[str, str, float, float]]:
    return [(m.metadata["rdpipe"]["kind"], m.name, m.marked_range.start_time.to_seconds(),
             m.marked_range.end_time_exclusive().to_seconds())
            for m in timeline.tracks.markers]  # fmt: skip


def _url(path: Path) -> str:
    return path.resolve().as_uri()


def test_crossfaded_timeline_has_every_clip_trim_card_and_transition(crossfaded: Film) -> None:
    """Cards, trimmed shots and 12-frame dissolves centred on each cut, in frames at 24 fps."""
    film, clips = crossfaded, crossfaded.clips
    dissolve = ("transition", "crossfade", "SMPTE_Dissolve", 6, 6)
    # a: from 0.5 s (frame 12) to its end, 36 frames; a crossfade of 12 frames takes 6 each
    # side of the cut: a shows frames 12..41 (30), b from frame 6 to 6 frames before its end
    # (36), c from 0.25 s (frame 6) + 6 to 2.5 s (frame 60): 48 frames.
    assert _items(_track(film.timeline, "shots")) == [
        ("title card", _url(film.folder / "film.title.mp4"), 0, 24),
        ("a", _url(clips["a"]), 12, 30), dissolve,
        ("b", _url(clips["b"]), 6, 36), dissolve,
        ("c", _url(clips["c"]), 12, 48),
        ("end card", _url(film.folder / "film.end.mp4"), 0, 12),
    ]  # fmt: skip
    assert _items(_track(film.timeline, "shot sound")) == [
        ("gap", 24), ("a", _url(clips["a"]), 12, 30), dissolve, ("b", _url(clips["b"]), 6, 36),
        dissolve, ("c", _url(clips["c"]), 12, 48), ("gap", 12),
    ]  # fmt: skip
    (shot_a,) = [item for item in _track(film.timeline, "shots") if item.name == "a"]
    assert shot_a.metadata["rdpipe"]["prompt"] == "the cliff"


def test_crossfaded_timeline_lasts_as_long_as_the_video(crossfaded: Film) -> None:
    """The timeline and each track last what the MP4 lasts, decoded with PyAV, to a frame."""
    video = measure(crossfaded.folder / "film.mp4")
    timeline = crossfaded.timeline.duration().to_seconds()
    assert round(video.video_seconds * RATE) == 24 + 30 + 36 + 48 + 12
    assert abs(timeline - video.video_seconds) < 1 / RATE
    assert abs(timeline - video.audio_seconds) < 1 / RATE
    for track in crossfaded.timeline.tracks:
        assert abs(track.duration().to_seconds() - video.video_seconds) < 1 / RATE, track.name


def test_music_bed_is_its_own_track_looped_with_its_ducking_as_a_note(crossfaded: Film) -> None:
    """The 2.5 s bed repeats (60 frames) to the 150-frame end; the note gives the ducking."""
    music = _track(crossfaded.timeline, "music")
    url = _url(crossfaded.folder / "bed.m4a")
    assert music.kind == otio.schema.TrackKind.Audio
    assert _items(music) == [("music", url, 0, 60), ("music (loop 2)", url, 0, 60),
                             ("music (loop 3)", url, 0, 30)]  # fmt: skip
    note = music[0].metadata["rdpipe"]["note"]
    assert note == (
        "gain 0.4, fades out over the last 2 s; ducked under the shots' own sound while it is "
        "loud (ffmpeg sidechaincompress=threshold=0.03:ratio=8:attack=20:release=400)"
    )


def test_captions_and_chapters_are_markers_at_their_times(crossfaded: Film) -> None:
    """Each caption is a marker with its text over its shot; each chapter a marker."""
    chapters = [(c.title, c.start, c.end) for c in crossfaded.result.chapters]
    assert _markers(crossfaded.timeline) == [
        ("caption", "Gulls over the cliff", 1.0, 2.25),
        ("caption", "The lighthouse", 2.25, 3.75),
        *[("chapter", title, pytest.approx(start, abs=1 / 48), pytest.approx(end, abs=1 / 48))
          for title, start, end in chapters],
    ]  # fmt: skip
    assert [title for title, _s, _e in chapters] == ["Coast", "a", "b", "c", "The end"]


def test_card_media_are_the_cards_frames(crossfaded: Film) -> None:
    """The title and end cards are MP4s of exactly their frames at the video's size."""
    title = measure(crossfaded.folder / "film.title.mp4")
    end = measure(crossfaded.folder / "film.end.mp4")
    assert (title.width, title.height, round(title.video_seconds * RATE)) == (320, 180, 24)
    assert (end.width, end.height, round(end.video_seconds * RATE)) == (320, 180, 12)


def test_timeline_round_trips_through_otio(crossfaded: Film, faded: Film) -> None:
    """Written again and read back, the timeline keeps every clip, transition and marker."""
    for film in (crossfaded, faded):
        text = otio.adapters.write_to_string(film.timeline, adapter_name="otio_json")
        again = otio.adapters.read_from_string(text, adapter_name="otio_json")
        for track in film.timeline.tracks:
            assert _items(_track(again, track.name)) == _items(track)
        assert _markers(again) == _markers(film.timeline)
        assert again.duration() == film.timeline.duration()
        assert text == (film.folder / "film.otio").read_text(encoding="utf-8")


def test_fade_is_a_dip_to_black_the_length_of_the_assemblys(faded: Film) -> None:
    """A 0.5 s fade: 6 frames into black, a gap of none, 6 frames out; shots keep all frames."""
    film, clips = faded, faded.clips
    dip = [("transition", "fade to black", "SMPTE_Dissolve", 6, 0), ("gap", 0),
           ("transition", "fade from black", "SMPTE_Dissolve", 0, 6)]  # fmt: skip
    assert _items(_track(film.timeline, "shots")) == [
        ("a", _url(clips["a"]), 0, 48), *dip, ("b", _url(clips["b"]), 0, 48), *dip,
        ("c", _url(clips["c"]), 0, 72),
    ]  # fmt: skip
    video = measure(film.folder / "film.mp4")
    assert abs(film.timeline.duration().to_seconds() - video.video_seconds) < 1 / RATE
    assert [(kind, name) for kind, name, _s, _e in _markers(film.timeline)] == [
        ("caption", "caption a"), ("caption", "caption b"), ("caption", "caption c"),
        ("chapter", "a"), ("chapter", "b"), ("chapter", "c"),
    ]  # fmt: skip


def test_copied_join_timeline_lasts_as_long_as_the_video(copied: Film) -> None:
    """Clips joined by stream copy: whole clips, one after the other, the video's length."""
    assert copied.result.copied
    clips = copied.clips
    assert _items(_track(copied.timeline, "shots")) == [
        ("a", _url(clips["a"]), 0, 48), ("b", _url(clips["b"]), 0, 48),
        ("c", _url(clips["c"]), 0, 72),
    ]  # fmt: skip
    video = measure(copied.folder / "film.mp4")
    assert abs(copied.timeline.duration().to_seconds() - video.video_seconds) < 1 / RATE
    assert not list(copied.folder.glob("film.*.mp4"))  # no cards, no card media


@pytest.mark.parametrize("adapter", ["fcpx_xml", "fcp_xml", "cmx_3600"])
def test_timeline_converts_for_editors(crossfaded: Film, faded: Film, adapter: str) -> None:
    """Final Cut Pro X XML, Final Cut 7 XML (Premiere, Resolve) and EDL name every clip."""
    for film in (crossfaded, faded):
        # The EDL writer changes the timeline it is given: convert a copy.
        text = otio.adapters.write_to_string(copy.deepcopy(film.timeline), adapter_name=adapter)
        names = [item.name for item in _track(film.timeline, "shots") if isinstance(
            item, otio.schema.Clip)]  # fmt: skip
        for name in names:
            assert name in text, (adapter, name)
        for path in film.clips.values():
            assert path.name in text, (adapter, path.name)


def _written_to_xml(items: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """A track's items as Final Cut 7 XML keeps them: no gap of no length, none at the end."""
    kept = [item for item in items if item != ("gap", 0)]
    return kept[:-1] if kept and kept[-1][0] == "gap" else kept


def test_final_cut_7_xml_reads_back_the_same_timeline(crossfaded: Film, faded: Film) -> None:
    """Converted to Final Cut 7 XML and read back with OTIO's own reader: the same clips,
    ranges, transitions, markers and length (XML has no empty space after a track's last
    clip, nor a dip's gap of no length)."""
    for film in (crossfaded, faded):
        text = otio.adapters.write_to_string(copy.deepcopy(film.timeline), adapter_name="fcp_xml")
        back = otio.adapters.read_from_string(text, adapter_name="fcp_xml")
        expected = [_written_to_xml(_items(track)) for track in film.timeline.tracks]
        assert [_items(track) for track in back.tracks] == expected
        assert [(m.name, m.marked_range) for m in back.tracks.markers] == [
            (m.name, m.marked_range) for m in film.timeline.tracks.markers
        ]
        assert back.duration() == film.timeline.duration()


def test_ntsc_rate_timeline_lasts_as_long_as_the_video(
    ffmpeg: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """At 30000/1001 fps, with a title card and a crossfade, the timeline is counted in the
    video's frames and lasts what the MP4 lasts, to a frame."""
    folder = tmp_path_factory.mktemp("otio-ntsc")
    recipes = [ClipRecipe(f"n{i}", 320, 180, "30000/1001", seconds=1.5, hue=i * 90)
               for i in range(2)]  # fmt: skip
    inputs = [ClipInput(r.name, make_clip(ffmpeg, r, folder)) for r in recipes]
    spec = OutputSpec(path="film.mp4", transition=TransitionSpec(kind="crossfade", seconds=0.3),
                      title_card=CardSpec(text="NTSC", seconds=0.5),
                      contact_sheet=False)  # fmt: skip
    film = _assemble(ffmpeg, folder, spec, inputs)
    video = measure(folder / "film.mp4")
    frame = float(Fraction(1001, 30000))
    assert film.timeline.tracks[0][0].source_range.duration.rate == pytest.approx(30000 / 1001)
    assert abs(film.timeline.duration().to_seconds() - video.video_seconds) < frame
    fcp = otio.adapters.write_to_string(copy.deepcopy(film.timeline), adapter_name="fcp_xml")
    assert "<ntsc>TRUE</ntsc>" in fcp


def test_final_cut_pro_x_xml_keeps_the_clips_and_their_trims(crossfaded: Film) -> None:
    """Converted to FCPXML and read back: the same clips and source ranges, the same length;
    the fcpx_xml adapter writes no transitions and no markers (stated in the module)."""
    timeline = crossfaded.timeline
    text = otio.adapters.write_to_string(copy.deepcopy(timeline), adapter_name="fcpx_xml")
    back = otio.adapters.read_from_string(text, adapter_name="fcpx_xml")
    (video,) = [track for track in back.tracks if track.kind == otio.schema.TrackKind.Video]
    shots = [item for item in _items(_track(timeline, "shots")) if item[0] != "transition"]
    assert _items(video) == shots
    assert back.duration() == timeline.duration()
    assert "<transition" not in text and "<marker" not in text


def test_a_silent_shot_is_a_gap_on_the_sound_track(
    ffmpeg: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A clip without sound stays on the shots track; the shot-sound track has silence there,
    crossfaded like the picture."""
    folder = tmp_path_factory.mktemp("otio-silent")
    recipes = [ClipRecipe("loud", 320, 180, "24", seconds=1.0),
               ClipRecipe("quiet", 320, 180, "24", seconds=1.0, audio=False)]  # fmt: skip
    inputs = [ClipInput(r.name, make_clip(ffmpeg, r, folder)) for r in recipes]
    spec = OutputSpec(path="film.mp4", transition=TransitionSpec(kind="crossfade", seconds=0.25),
                      contact_sheet=False)  # fmt: skip
    film = _assemble(ffmpeg, folder, spec, inputs)
    dissolve = ("transition", "crossfade", "SMPTE_Dissolve", 3, 3)
    loud = ("loud", _url(folder / "loud.mp4"), 0, 21)  # 18 frames alone, 3 of the blend
    assert _items(_track(film.timeline, "shots")) == [
        loud, dissolve, ("quiet", _url(folder / "quiet.mp4"), 3, 21)]  # fmt: skip
    assert _items(_track(film.timeline, "shot sound")) == [loud, dissolve, ("gap", 21)]
    video = measure(folder / "film.mp4")
    assert abs(film.timeline.duration().to_seconds() - video.video_seconds) < 1 / RATE

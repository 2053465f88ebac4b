"""The ``output:`` options: transitions, trim, cards, music, loudness, captions, sheet, frames."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import anyio
import av
import pytest
from PIL import Image, ImageStat

from rdpipe.assemble import (
    AssemblyResult,
    ClipCorrupt,
    ClipInput,
    ClipMissing,
    FfmpegFailed,
    TargetFormat,
    assemble,
    extract_last_frame,
    probe_duration,
)
from rdpipe.assemble.runner import run_ffmpeg
from rdpipe.model.output import (
    CaptionsSpec,
    CardSpec,
    ClipTrim,
    MusicSpec,
    OutputSpec,
    TransitionSpec,
)
from tests.assemble.media import decode_errors, measure
from tests.media_measure import integrated_loudness

TARGET = TargetFormat(320, 180, Fraction(25))


def _run(clips: list[ClipInput], spec: OutputSpec, tmp_path: Path, ffmpeg: str) -> AssemblyResult:
    async def main() -> AssemblyResult:
        return await assemble(clips, spec, output=tmp_path / "film.mp4",
                              cache_dir=tmp_path / "cache", ffmpeg=ffmpeg, target=TARGET,
                              base_dir=tmp_path)  # fmt: skip

    return anyio.run(main)


def _shots(paths: list[Path], **extra: object) -> list[ClipInput]:
    return [ClipInput(f"shot{i}", p, prompt=f"A long prompt for shot {i}", **extra)  # type: ignore[arg-type]
            for i, p in enumerate(paths)]  # fmt: skip


def test_crossfade_overlaps_the_shots(
    matching_clips: list[Path], tmp_path: Path, ffmpeg: str
) -> None:
    """A 0.4 s crossfade shortens three 1 s shots by two overlaps, with one chapter per shot."""
    spec = OutputSpec(transition=TransitionSpec(kind="crossfade", seconds=0.4), contact_sheet=False)
    result = _run(_shots(matching_clips[:3]), spec, tmp_path, ffmpeg)
    produced = measure(result.output)
    assert not result.copied
    assert produced.video_seconds == pytest.approx(3.0 - 2 * 0.4, abs=1 / 25)
    assert produced.audio_end == pytest.approx(produced.video_end, abs=1 / 25)
    assert [t for t, _s in produced.chapters] == ["shot0", "shot1", "shot2"]
    assert decode_errors(ffmpeg, result.output) == ""


def test_fade_dips_to_black_between_shots(
    matching_clips: list[Path], tmp_path: Path, ffmpeg: str
) -> None:
    """With a fade the frame at the join is black and the length is unchanged."""
    spec = OutputSpec(transition=TransitionSpec(kind="fade", seconds=0.4), contact_sheet=False)
    result = _run(_shots(matching_clips[:2]), spec, tmp_path, ffmpeg)
    with av.open(str(result.output)) as container:
        frames = [f.to_image() for f in container.decode(video=0)]  # type: ignore[no-untyped-call]
    assert len(frames) == 50
    brightness = [ImageStat.Stat(frame.convert("L")).mean[0] for frame in frames]
    assert brightness[24] < 15 and brightness[25] < 15
    assert brightness[10] > 80 and brightness[40] > 80


def test_trim_cards_and_burned_captions(
    matching_clips: list[Path], tmp_path: Path, ffmpeg: str
) -> None:
    """Trimmed shots between a title card over an image and an end card give the summed length."""
    Image.new("RGB", (64, 48), "navy").save(tmp_path / "poster.png")
    spec = OutputSpec(
        title_card=CardSpec(text="My film", seconds=1.0, image="poster.png"),
        end_card=CardSpec(text="The end", seconds=0.5, background="#202020"),
        captions=CaptionsSpec(burn_in=True), contact_sheet=False,
    )  # fmt: skip
    clips = [
        ClipInput("a", matching_clips[0], caption="Hello", trim=ClipTrim(start=0.2, end=0.8)),
        ClipInput("b", matching_clips[1], caption="World"),
    ]
    result = _run(clips, spec, tmp_path, ffmpeg)
    produced = measure(result.output)
    assert produced.video_seconds == pytest.approx(1.0 + 0.6 + 1.0 + 0.5, abs=2 / 25)
    assert [t for t, _s in produced.chapters] == ["My film", "a", "b", "The end"]
    assert [s for _t, s in produced.chapters] == pytest.approx([0, 1.0, 1.6, 2.6], abs=0.05)
    srt = (tmp_path / "film.srt").read_text()
    assert "00:00:01,000 --> 00:00:01,600\nHello" in srt
    assert (tmp_path / "film.vtt").read_text().startswith("WEBVTT")


@pytest.mark.parametrize("copy", [True, False], ids=["copy", "normalise"])
def test_music_bed_and_loudness_target(
    copy: bool, matching_clips: list[Path], tmp_path: Path, ffmpeg: str
) -> None:
    """A music bed plays under copied or normalised clips and meets the loudness target."""
    music = tmp_path / "bed.wav"
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "sine=f=220:d=1.5", str(music)],
                   check=True)  # fmt: skip
    spec = OutputSpec(music=MusicSpec(source="bed.wav", fade_out=0.5), loudness=-20,
                      contact_sheet=False, fps=None if copy else 30)  # fmt: skip
    result = _run(_shots(matching_clips), spec, tmp_path, ffmpeg)
    produced = measure(result.output)
    assert result.copied is copy
    assert produced.video_seconds == pytest.approx(4.0, abs=1 / 25)
    assert produced.audio_end == pytest.approx(produced.video_end, abs=1 / 25)
    assert integrated_loudness(result.output, ffmpeg) == pytest.approx(-20, abs=1.5)


def test_contact_sheet_has_a_cell_per_shot(
    matching_clips: list[Path], tmp_path: Path, ffmpeg: str
) -> None:
    """The contact sheet is a PNG beside the video, one row of four for four shots."""
    result = _run(_shots(matching_clips), OutputSpec(), tmp_path, ffmpeg)
    sheet = tmp_path / "film.contact.png"
    assert sheet in result.sidecars
    with Image.open(sheet) as image:
        assert image.format == "PNG"
        assert image.width > 4 * 320 > image.height


def test_missing_and_corrupt_clips_name_their_shot(
    matching_clips: list[Path], tmp_path: Path, ffmpeg: str
) -> None:
    """A missing file and a file of garbage each raise an error naming the shot."""
    garbage = tmp_path / "broken.mp4"
    garbage.write_bytes(b"\x00not a video" * 100)
    with pytest.raises(ClipMissing, match="shot 'gone'"):
        _run([ClipInput("gone", tmp_path / "nope.mp4")], OutputSpec(), tmp_path, ffmpeg)
    with pytest.raises(ClipCorrupt, match="shot 'bad'"):
        _run(
            [ClipInput("ok", matching_clips[0]), ClipInput("bad", garbage)],
            OutputSpec(),
            tmp_path,
            ffmpeg,
        )


def test_ffmpeg_failure_shows_its_last_lines(tmp_path: Path, ffmpeg: str) -> None:
    """A failing ffmpeg run raises FfmpegFailed quoting ffmpeg's own error line."""

    async def main() -> None:
        await run_ffmpeg(
            [ffmpeg, "-v", "error", "-i", str(tmp_path / "absent.mp4")], step="testing"
        )

    with pytest.raises(FfmpegFailed) as caught:
        anyio.run(main)
    assert "while testing" in str(caught.value)
    assert "No such file or directory" in str(caught.value)


def test_last_frame_and_duration(mixed_clips: list[Path], tmp_path: Path, ffmpeg: str) -> None:
    """The last-frame PNG has the clip's size and the probed duration is the clip's length."""
    clip = mixed_clips[2]
    png = anyio.run(lambda: extract_last_frame(clip, tmp_path / "last.png", ffmpeg=ffmpeg))
    with Image.open(png) as image:
        assert image.size == (854, 480)
    assert anyio.run(probe_duration, clip) == pytest.approx(1.0, abs=1 / 29.97)

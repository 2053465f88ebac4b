"""Orientation as the probe, the cache, the plan and Pillow see it, against ffmpeg's own turning."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image, ImageChops, ImageStat

from rdpipe.assemble import AudioInfo, ClipInfo, ClipInput, TargetFormat, plan_join
from rdpipe.assemble.orientation import UPRIGHT, Orientation, frame_orientation
from rdpipe.assemble.probe import probe_clip_blocking
from rdpipe.assemble.probe_cache import ProbeCache, probe_remembered
from rdpipe.model.output import OutputSpec
from tests.assemble.oriented import PhoneClip, make_phone_clip, tag_display

TURNS = [(rotation, mirrored) for rotation in (0, 90, 180, 270) for mirrored in (False, True)]


@pytest.fixture(scope="module")
def tagged(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[int, bool], Path]:
    """One short clip stream-copied with each of the eight display matrices."""
    directory = tmp_path_factory.mktemp("tagged")
    source = make_phone_clip(ffmpeg, PhoneClip("source", frames=2), directory)
    return {
        (r, m): tag_display(ffmpeg, source, directory / f"r{r}m{m:d}.mp4", rotation=r, mirrored=m)
        for r, m in TURNS
    }


@pytest.mark.parametrize(("rotation", "mirrored"), TURNS)
def test_orientation_turns_pictures_as_ffmpeg_does(
    rotation: int, mirrored: bool, tagged: dict[tuple[int, bool], Path], ffmpeg: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    """The probe reads the matrix from the MP4 header as the decoder reports it on frames, and
    turning a decoded frame with it gives the picture ffmpeg's autorotation gives."""
    clip = tagged[rotation, mirrored]
    info = probe_clip_blocking(clip, shot_id="s")
    with av.open(str(clip)) as container:
        frame = next(container.decode(video=0))
        assert frame_orientation(frame) == info.orientation
        ours = info.orientation.upright(frame.to_image())  # type: ignore[no-untyped-call]
    png = tmp_path / "ffmpeg.png"
    subprocess.run([ffmpeg, "-v", "error", "-i", str(clip), "-frames:v", "1", str(png)],
                   check=True)  # fmt: skip
    with Image.open(png) as theirs:
        assert ours.size == theirs.size
        assert max(ImageStat.Stat(ImageChops.difference(ours, theirs.convert("RGB"))).mean) < 2
    assert info.display_size == ((240, 320) if rotation % 180 else (320, 240))
    turns = {(rotation, mirrored), ((rotation + 180) % 360, not mirrored)}  # a vertical flip
    assert (info.orientation.turn, info.orientation.mirrored) in turns


def test_the_probe_cache_keeps_the_orientation(
    tagged: dict[tuple[int, bool], Path], tmp_path: Path
) -> None:
    """A remembered probe comes back with its orientation; a record without one is probed again."""
    clip = tagged[90, True]
    cache = ProbeCache(tmp_path / "probes.json")
    probed = probe_remembered(clip, shot_id="s", cache=cache)
    cache.save()
    assert ProbeCache(tmp_path / "probes.json").recall_info(clip) == probed
    document = json.loads((tmp_path / "probes.json").read_text())
    for record in document["files"].values():
        del record["probe"]["orientation"]  # as written before orientation was probed
    (tmp_path / "probes.json").write_text(json.dumps(document))
    assert ProbeCache(tmp_path / "probes.json").recall_info(clip) is None


def _info(name: str, width: int, height: int, orientation: Orientation = UPRIGHT) -> ClipInfo:
    return ClipInfo(path=Path(f"/clips/{name}.mp4"), container="mp4", codec="h264",
                    profile="High", width=width, height=height, sample_aspect_ratio=Fraction(1),
                    pixel_format="yuv420p", frame_rate=Fraction(24),
                    time_base=Fraction(1, 12288), frames=48, video_duration=2.0,
                    container_duration=2.0, start_time=0.0, audio=None,
                    orientation=orientation)  # fmt: skip


def test_the_target_is_the_first_clips_picture_as_shown() -> None:
    """Size from the first clip turned upright, rate its nominal one; output.size and
    output.fps win over both, and an explicit target over the clip."""
    turned = _info("turned", 320, 240, Orientation.from_matrix([0, -1, 1, 0]))
    clips = [ClipInput("a", turned.path), ClipInput("b", turned.path)]
    infos = [turned, _info("wide", 864, 480)]
    assert plan_join(clips, infos, OutputSpec()).target == TargetFormat(240, 320, Fraction(24))
    spec = OutputSpec(size="864x480", fps=30)
    assert plan_join(clips, infos, spec).target == TargetFormat(864, 480, Fraction(30))
    explicit = TargetFormat(640, 360, Fraction(25))
    assert plan_join(clips, infos, OutputSpec(), explicit).target == explicit


def test_copy_is_refused_for_another_orientation_or_an_explicit_size() -> None:
    """The plan names the orientations that differ, and an output.size the clips do not have."""
    upright = replace(_info("a", 864, 480), audio=None)
    turned = replace(upright, orientation=Orientation.from_matrix([0, 1, -1, 0]))
    clips = [ClipInput("a", upright.path), ClipInput("b", turned.path)]
    aac = _aac(upright)
    plan = plan_join(clips, [aac, replace(aac, orientation=turned.orientation)], OutputSpec())
    assert plan.reason == "shot 'b' is shown turned 270°, shot 'a' upright"
    plan = plan_join(clips, [aac, aac], OutputSpec(size="1280x720"))
    assert plan.reason == "output.size 1280x720 differs from the clips' 864x480"
    assert plan_join(clips, [aac, aac], OutputSpec(size="864x480")).copy


def _aac(info: ClipInfo) -> ClipInfo:
    return replace(info, audio=AudioInfo(codec="aac", sample_rate=48000, channels=2,
                                         time_base=Fraction(1, 48000), first_pts=-1024,
                                         duration=2.0))  # fmt: skip


def test_output_size_must_be_even() -> None:
    """An odd output.size is refused when the file is read, before anything is generated."""
    with pytest.raises(ValueError, match=r"853x480. is not a frame size: .* and even"):
        OutputSpec(size="853x480")

"""Phone clips, odd rates and the models' real sizes, joined on both paths and measured.

Every case decodes the produced video as a player shows it (display matrix applied) and checks
which way up each shot is, the frame size, each shot's frames by their source frame numbers,
the rate, and that the video lasts as long as its clips (issue 11 §1 and §4).
"""

from __future__ import annotations

from pathlib import Path

import anyio
import av
import pytest
from PIL import Image

from rdpipe.assemble import AssemblyResult, ClipInput, assemble, extract_last_frame
from rdpipe.assemble.frames import grab_frame
from rdpipe.model.output import CardSpec, OutputSpec
from tests.assemble.joining import join
from tests.assemble.oriented import PhoneClip, Viewed, make_phone_clip, view, view_image

CARD = CardSpec(text="x", seconds=0.5)  # draws the video, so a title card forces normalising
SPECS = {
    "copy": OutputSpec(contact_sheet=False),
    "normalise": OutputSpec(contact_sheet=False, title_card=CARD),
}
CLIPS = {
    clip.name: clip
    for clip in (
        PhoneClip("upright"),
        *(PhoneClip(f"turned{r}", 240, 320, rotation=r) for r in (90, 270)),
        PhoneClip("turned180", rotation=180),
        PhoneClip("vfr", hole=12),  # 48 frames over 2.5 s: an average of 19.2 fps
        PhoneClip("rate25", rate=25, frames=50),
        PhoneClip("wide480", 864, 480, frames=24),
        PhoneClip("tall480", 480, 864, frames=24),
    )
}


@pytest.fixture(scope="module")
def phone(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every clip of :data:`CLIPS`, made once."""
    directory = tmp_path_factory.mktemp("phone")
    return {name: make_phone_clip(ffmpeg, clip, directory) for name, clip in CLIPS.items()}


def _assemble(
    names: list[str], path: str, phone: dict[str, Path], tmp_path: Path, ffmpeg: str
) -> AssemblyResult:
    clips = [ClipInput(f"{i}-{name}", phone[name]) for i, name in enumerate(names)]
    return join(clips, SPECS[path], tmp_path, ffmpeg, name="out.mp4")


def _shots(frames: list[Viewed], *, card: bool) -> list[list[Viewed]]:
    """The frames after the card, split where the source frame number starts again."""
    shots: list[list[Viewed]] = []
    for frame in frames:
        if card and frame.time < CARD.seconds - 1e-3:
            continue
        if not shots or frame.number < shots[-1][-1].number:
            shots.append([])
        shots[-1].append(frame)
    return shots


def _check(result: AssemblyResult, names: list[str], *, card: bool) -> list[list[Viewed]]:
    """What every case guarantees; returns the shots for the case's own checks."""
    clips = [CLIPS[name] for name in names]
    frames = view(result.output)
    first = clips[0]
    assert {f.size for f in frames} == {(first.width, first.height)}
    shots = _shots(frames, card=card)
    assert len(shots) == len(clips)
    for clip, shot in zip(clips, shots, strict=True):
        assert {f.corners for f in shot} == {("top-left",)}, clip.name
        width, height = shot[0].picture
        assert width / height == pytest.approx(clip.width / clip.height, rel=0.03), clip.name
    with av.open(str(result.output)) as container:
        video = container.streams.video[0]
        assert video.base_rate == 24
        if not result.copied:
            assert video.average_rate == 24
    seconds = sum(clip.seconds for clip in clips) + (CARD.seconds if card else 0)
    assert frames[-1].time - frames[0].time + 1 / 24 == pytest.approx(seconds, abs=0.01)
    assert result.duration == pytest.approx(seconds, abs=0.01)
    return shots


def _numbers(shot: list[Viewed]) -> list[int]:
    return [frame.number for frame in shot]


@pytest.mark.parametrize("path", ["copy", "normalise"])
@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_turned_phone_clips_play_upright(
    rotation: int, path: str, phone: dict[str, Path], tmp_path: Path, ffmpeg: str
) -> None:
    """Two clips tagged with the same rotation are shown upright, at their shown size, whole."""
    names = [f"turned{rotation}", f"turned{rotation}"]
    result = _assemble(names, path, phone, tmp_path, ffmpeg)
    assert result.copied == (path == "copy")
    for shot in _check(result, names, card=path == "normalise"):
        assert _numbers(shot) == list(range(48))


@pytest.mark.parametrize("first", ["turned", "upright"])
@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_a_turned_clip_beside_an_upright_one_is_never_copied(
    rotation: int, first: str, phone: dict[str, Path], tmp_path: Path, ffmpeg: str
) -> None:
    """Orientation is part of a clip's identity: the copy path is refused and both shots are
    shown upright inside a frame of the first clip's shown size, the other fitted with bars."""
    names = [f"turned{rotation}", "upright"]
    names = names if first == "turned" else names[::-1]
    result = _assemble(names, "copy", phone, tmp_path, ffmpeg)
    assert not result.copied
    assert f"turned {rotation}°" in result.reason
    for shot in _check(result, names, card=False):
        assert _numbers(shot) == list(range(48))


@pytest.mark.parametrize("path", ["copy", "normalise"])
def test_a_variable_rate_first_clip_sets_its_nominal_rate(
    path: str, phone: dict[str, Path], tmp_path: Path, ffmpeg: str
) -> None:
    """A first clip with a hole in its timestamps sets 24 fps (its r_frame_rate), not 19.2: no
    frame of either shot is lost, and the hole is held on the normalise path."""
    names = ["vfr", "upright"]
    result = _assemble(names, path, phone, tmp_path, ffmpeg)
    assert result.copied == (path == "copy")
    held, upright = _check(result, names, card=path == "normalise")
    assert _numbers(upright) == list(range(48))
    assert sorted(set(_numbers(held))) == list(range(48))
    if path == "normalise":  # 2.5 s at 24 fps: frame 23 shown for the half second of the hole
        assert _numbers(held) == [*range(24), *[23] * 12, *range(24, 48)]


def test_a_faster_clip_after_a_variable_rate_one_keeps_its_frames(
    phone: dict[str, Path], tmp_path: Path, ffmpeg: str
) -> None:
    """The issue's case: a 25 fps shot after the VFR one is converted to 24 fps (2 s, 48
    frames), not to 19.2 fps, which lost a quarter of its frames. ffmpeg's fps filter, which
    converts 25 to 24 fps, repeats two frames where two timestamps round alike: 46 distinct."""
    names = ["vfr", "rate25"]
    result = _assemble(names, "copy", phone, tmp_path, ffmpeg)
    assert not result.copied
    held, faster = _check(result, names, card=False)
    assert len(held) == 60 and len(faster) == 48
    assert len(set(_numbers(faster))) >= 46


@pytest.mark.parametrize("path", ["copy", "normalise"])
@pytest.mark.parametrize("name", ["wide480", "tall480"])
def test_the_models_sizes_are_kept_on_both_paths(
    name: str, path: str, phone: dict[str, Path], tmp_path: Path, ffmpeg: str
) -> None:
    """864x480 and 480x864 clips (Seedance's 480p) give a video of that size whether or not a
    card is added: no squeeze to 854x480, no black rows."""
    result = _assemble([name, name], path, phone, tmp_path, ffmpeg)
    assert result.copied == (path == "copy")
    for shot in _check(result, [name, name], card=path == "normalise"):
        assert _numbers(shot) == list(range(24))
        assert shot[0].picture == (CLIPS[name].width, CLIPS[name].height)


@pytest.mark.parametrize("name", ["upright", "turned90", "turned180", "turned270"])
def test_stills_are_taken_the_way_up_the_clip_is_shown(
    name: str, phone: dict[str, Path], tmp_path: Path, ffmpeg: str
) -> None:
    """The contact sheet's frame and the continuity last frame are upright at the shown size."""
    clip = CLIPS[name]

    async def main() -> tuple[Image.Image, Path, AssemblyResult]:
        middle = await grab_frame(phone[name], 1.0, shot_id=name)
        last = await extract_last_frame(phone[name], tmp_path / "last.png", ffmpeg=ffmpeg)
        joined = await assemble([ClipInput(name, phone[name], "a prompt")], OutputSpec(),
                                output=tmp_path / "out.mp4", cache_dir=tmp_path / "cache",
                                ffmpeg=ffmpeg)  # fmt: skip
        return middle, last, joined

    middle, last, joined = anyio.run(main)
    (sheet,) = [path for path in joined.sidecars if path.suffix == ".png"]
    with Image.open(last) as picture:
        extracted = view_image(picture)
    for still in (view_image(middle), extracted):
        assert still.size == (clip.width, clip.height)
        assert still.corners == ("top-left",)
    assert (view_image(middle).number, extracted.number) == (24, 47)
    with Image.open(sheet) as picture:  # the cell is 320 wide, as tall as the shot's shape
        cell = view_image(picture.crop((16, 16, 336, 16 + round(320 * clip.height / clip.width))))
    assert cell.corners == ("top-left",)

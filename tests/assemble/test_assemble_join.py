"""The join itself: heterogeneous clips, the copy path, sync over many clips, the cache."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import anyio
import pytest

from rdpipe.assemble import (
    AssemblyResult,
    ClipInput,
    TargetFormat,
    assemble,
    probe_clip,
    probe_clips,
)
from rdpipe.model.output import OutputSpec
from tests.assemble.clips import MIXED, ClipRecipe, make_clip
from tests.assemble.media import decode_errors, measure

TARGET = TargetFormat(640, 360, Fraction(25))


def _inputs(paths: list[Path]) -> list[ClipInput]:
    return [ClipInput(f"s{i}-{p.stem}", p, prompt=f"prompt {i}") for i, p in enumerate(paths)]


def _run(
    paths: list[Path], tmp_path: Path, ffmpeg: str, *, spec: OutputSpec | None = None,
    target: TargetFormat | None = None, cache: Path | None = None,
) -> AssemblyResult:  # fmt: skip
    async def main() -> AssemblyResult:
        return await assemble(
            _inputs(paths), spec or OutputSpec(contact_sheet=False), output=tmp_path / "out.mp4",
            cache_dir=cache or tmp_path / "cache", ffmpeg=ffmpeg, target=target,
        )  # fmt: skip

    return anyio.run(main)


def test_mixed_clips_join_into_one_clean_video(
    mixed_clips: list[Path], tmp_path: Path, ffmpeg: str
) -> None:
    """Clips of every size, rate, codec and audio state decode cleanly after the join."""
    result = _run(mixed_clips, tmp_path, ffmpeg, target=TARGET)
    produced = measure(result.output)
    assert not result.copied
    assert decode_errors(ffmpeg, result.output) == ""
    assert (produced.width, produced.height, produced.frame_rate) == (640, 360, Fraction(25))
    assert produced.video_seconds == pytest.approx(len(MIXED) * 1.0, abs=len(MIXED) / 25)
    assert produced.audio_start == pytest.approx(0.0, abs=0.03)
    assert produced.audio_end == pytest.approx(produced.video_end, abs=1 / 25)
    assert produced.audio_seconds == pytest.approx(produced.video_seconds, abs=1 / 25)
    assert [title for title, _start in produced.chapters] == [
        c.shot_id for c in _inputs(mixed_clips)
    ]
    assert [start for _title, start in produced.chapters] == pytest.approx(
        [0, 1, 2, 3, 4, 5], abs=0.05
    )


def test_portrait_clip_is_fitted_with_bars_not_stretched(
    mixed_clips: list[Path], tmp_path: Path, ffmpeg: str
) -> None:
    """A portrait clip in a landscape video keeps its shape, with black bars on the sides."""
    import av

    portrait = [p for p in mixed_clips if p.stem == "portrait"]
    spec = OutputSpec(contact_sheet=False, fps=25)  # differs from the clip's 30: normalise
    result = _run(portrait, tmp_path, ffmpeg, spec=spec, target=TARGET)
    with av.open(str(result.output)) as container:
        image = next(container.decode(video=0)).to_image()  # type: ignore[no-untyped-call]
    assert image.size == (640, 360)
    assert max(image.getpixel((5, 180))) < 20  # left bar
    assert max(image.getpixel((634, 180))) < 20  # right bar
    assert max(image.getpixel((320, 100))) > 60  # the picture itself


def test_matching_clips_are_joined_by_stream_copy(
    matching_clips: list[Path], tmp_path: Path, ffmpeg: str
) -> None:
    """Clips sharing every stream parameter are copied, with no re-encode and no drift."""
    result = _run(matching_clips, tmp_path, ffmpeg)
    produced = measure(result.output)
    assert result.copied and result.encoded == 0
    assert decode_errors(ffmpeg, result.output) == ""
    assert produced.video_seconds == pytest.approx(4.0, abs=1 / 25)
    assert produced.audio_end == pytest.approx(produced.video_end, abs=1 / 25)
    assert len(produced.chapters) == 4
    assert not list((tmp_path / "cache").glob("*.mov"))


def test_one_different_clip_turns_off_the_copy_path(
    matching_clips: list[Path], tmp_path: Path, ffmpeg: str
) -> None:
    """A single clip at another frame rate makes every clip go through normalisation."""
    faster = make_clip(ffmpeg, ClipRecipe("same30", 320, 180, "30"), tmp_path)
    result = _run([*matching_clips[:2], faster], tmp_path, ffmpeg)
    assert not result.copied
    assert "differs" in result.reason and "frame rate" in result.reason
    assert measure(result.output).frame_rate == 25


@pytest.mark.parametrize("copy", [True, False], ids=["copy", "normalise"])
def test_fifty_clips_end_in_sync(copy: bool, tmp_path: Path, ffmpeg: str) -> None:
    """After fifty joins, audio and video end within one frame of each other."""
    odd = make_clip(ffmpeg, ClipRecipe("odd", 160, 90, "30", seconds=1.3), tmp_path)
    silent = make_clip(ffmpeg, ClipRecipe("quiet", 160, 90, "24", audio=False), tmp_path)
    paths = [odd] * 50 if copy else [odd, silent] * 25
    result = _run(paths, tmp_path, ffmpeg, target=TargetFormat(160, 90, TARGET.fps))
    produced = measure(result.output)
    assert result.copied is copy
    assert produced.audio_end == pytest.approx(produced.video_end, abs=1 / 25)
    assert produced.video_seconds == pytest.approx(result.duration, abs=1 / 25)
    assert len(produced.chapters) == 50


def test_each_distinct_clip_is_encoded_once_and_cached(
    mixed_clips: list[Path], tmp_path: Path, ffmpeg: str
) -> None:
    """A repeated clip is encoded once, a rerun encodes nothing, a changed clip alone again."""
    paths = [mixed_clips[0], mixed_clips[1], mixed_clips[0]]
    cache = tmp_path / "cache"
    first = _run(paths, tmp_path, ffmpeg, target=TARGET, cache=cache)
    again = _run(paths, tmp_path, ffmpeg, target=TARGET, cache=cache)
    changed = tmp_path / "changed.mp4"
    make_clip(ffmpeg, ClipRecipe("changed", 320, 240, "24", hue=30), tmp_path)
    third = _run(
        [mixed_clips[0], changed, mixed_clips[0]], tmp_path, ffmpeg, target=TARGET, cache=cache
    )
    assert (first.encoded, again.encoded, third.encoded) == (2, 0, 1)
    assert measure(third.output).video_seconds == pytest.approx(3.0, abs=3 / 25)


def test_a_rewritten_clip_is_probed_again(tmp_path: Path, ffmpeg: str) -> None:
    """A clip rewritten in place with another length is not mistaken for the remembered one."""
    clip = make_clip(ffmpeg, ClipRecipe("retake", 320, 180, "25", seconds=1.0), tmp_path)
    cache = tmp_path / "cache"
    first = _run([clip, clip], tmp_path, ffmpeg, cache=cache)
    make_clip(ffmpeg, ClipRecipe("retake", 320, 180, "25", seconds=2.0), tmp_path)
    second = _run([clip, clip], tmp_path, ffmpeg, cache=cache)
    assert first.duration == pytest.approx(2.0, abs=0.05)
    assert second.duration == pytest.approx(4.0, abs=0.05)
    assert measure(second.output).video_seconds == pytest.approx(4.0, abs=1 / 25)


def test_unchanged_reassembly_encodes_nothing_and_matches(
    mixed_clips: list[Path], tmp_path: Path, ffmpeg: str
) -> None:
    """Assembling mixed clips again from the cache encodes nothing and gives the same video."""
    first = _run(mixed_clips[:3], tmp_path, ffmpeg, target=TARGET)
    before = measure(first.output)
    again = _run(mixed_clips[:3], tmp_path, ffmpeg, target=TARGET)
    assert (first.encoded, again.encoded) == (3, 0)
    assert measure(again.output) == before
    assert decode_errors(ffmpeg, again.output) == ""


def test_header_twins_get_the_probe_of_their_own_file(
    matching_clips: list[Path], mixed_clips: list[Path], tmp_path: Path, ffmpeg: str
) -> None:
    """Clips probed together, some sharing a header layout, read as each one alone would."""
    longer = make_clip(ffmpeg, ClipRecipe("longer", 320, 180, "25", seconds=1.5), tmp_path)
    paths = [*matching_clips, longer, *mixed_clips]
    together = anyio.run(lambda: probe_clips(_inputs(paths)))
    alone = [anyio.run(lambda p=p: probe_clip(p, shot_id="x")) for p in paths]  # type: ignore[misc]
    assert together == alone
    assert together[4].frames == 38 and together[0].frames == 25

"""Only whole clips are joined (issue 11 §3): a cut file is named, on both join paths.

An MP4 cut short still opens when its index (``moov``) comes first, and reports its full
length; one whose index comes last does not open at all. Both are refused by name, with the
bytes the file has and what they hold, whether the clips would be copied or normalised.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import anyio
import av
import pytest

from rdpipe.assemble import AssemblyResult, ClipIncomplete, ClipInput, assemble, media_gap
from rdpipe.model.output import OutputSpec
from rdpipe.state import MediaVerdict, MediaVerdicts, hash_file
from tests.assemble.clips import ClipRecipe, make_clip
from tests.assemble.media import measure

CUT = 0.55
SPEC = OutputSpec(contact_sheet=False, preset="ultrafast")


@pytest.fixture(scope="module")
def made(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """2 s clips: two alike (320x180), one wider (640x360); ``*_fast`` with the index first."""
    folder = tmp_path_factory.mktemp("whole")
    clips = {
        "first": make_clip(ffmpeg, ClipRecipe("first", 320, 180, "25", seconds=2.0), folder),
        "second": make_clip(ffmpeg, ClipRecipe("second", 320, 180, "25", 2.0, hue=90), folder),
        "wider": make_clip(ffmpeg, ClipRecipe("wider", 640, 360, "25", 2.0, hue=180), folder),
    }
    fast = folder / "second_fast.mp4"
    subprocess.run([ffmpeg, "-v", "error", "-i", str(clips["second"]), "-c", "copy",
                    "-movflags", "+faststart", str(fast)], check=True)  # fmt: skip
    return {**clips, "second_fast": fast}


def _cut(source: Path, dest: Path) -> Path:
    data = source.read_bytes()
    dest.write_bytes(data[: int(len(data) * CUT)])
    return dest


def _holds(whole: Path, size: int) -> str:
    """What the first ``size`` bytes of ``whole`` hold, counted from its index independently."""
    parts = []
    with av.open(str(whole)) as container:
        for stream in (container.streams.video[0], container.streams.audio[0]):
            entries = stream.index_entries
            inside = sum(entry.pos + entry.size <= size for entry in entries)
            noun = "frames" if stream.type == "video" else "packets"
            parts.append(f"{inside} of its {len(entries)} {stream.type} {noun}")
    return "it holds " + " and ".join(parts)


def _expected_gap(whole: Path, size: int) -> str:
    """The gap a file cut to ``size`` bytes has, in the words rdpipe uses."""
    data = whole.read_bytes()
    moov = data.index(b"moov") - 4
    if moov < size:  # the index comes first: what the media holds, and the bytes missing
        short = len(data) - size
        return f"{_holds(whole, size)} (the file ends {short} bytes before the end of its mdat box)"
    return (
        f"the file ends {moov - size} bytes before the end of its mdat box and the index of "
        "its frames (moov box) is missing"
    )


def test_whole_clips_have_no_gap(made: dict[str, Path], mixed_clips: list[Path]) -> None:
    """MP4s with the index first or last, WebM, with and without sound: nothing is missing."""
    for clip in [*made.values(), *mixed_clips]:
        assert media_gap(clip) is None, clip.name


@pytest.mark.parametrize("layout", ["second_fast", "second"], ids=["moov_first", "moov_last"])
def test_gap_of_a_cut_clip_says_what_it_holds(
    made: dict[str, Path], tmp_path: Path, layout: str
) -> None:
    """A file cut at 55% says which frames and packets it holds, or that its index is gone."""
    cut = _cut(made[layout], tmp_path / "cut.mp4")
    assert media_gap(cut) == _expected_gap(made[layout], cut.stat().st_size)


def test_gap_of_a_clip_whose_end_does_not_decode(made: dict[str, Path], tmp_path: Path) -> None:
    """A file of the right size whose last fifth is zeros (a sparse copy) does not decode."""
    data = bytearray(made["second_fast"].read_bytes())
    data[len(data) * 4 // 5 :] = bytes(len(data) - len(data) * 4 // 5)
    broken = tmp_path / "zeros.mp4"
    broken.write_bytes(bytes(data))
    problem = "Invalid data found when processing input"
    assert media_gap(broken) == f"its last frames do not decode ({problem})"


@pytest.mark.parametrize("layout", ["second_fast", "second"], ids=["moov_first", "moov_last"])
@pytest.mark.parametrize("first", ["first", "wider"], ids=["copy", "normalise"])
def test_assembly_names_a_cut_clip_on_both_paths(
    made: dict[str, Path], ffmpeg: str, tmp_path: Path, layout: str, first: str
) -> None:
    """A cut clip stops the join by shot name; whole, the same clips join to their full length."""
    whole = [ClipInput("opening", made[first]), ClipInput("harbour", made[layout])]
    result = anyio.run(_assemble_with, whole, tmp_path / "whole.mp4", tmp_path / "cache", ffmpeg)
    assert result.copied is (first == "first")
    assert measure(result.output).video_seconds == pytest.approx(4.0, abs=0.04)
    cut = _cut(made[layout], tmp_path / "harbour.mp4")
    clips = [whole[0], ClipInput("harbour", cut)]
    with pytest.raises(ClipIncomplete) as caught:
        anyio.run(_assemble_with, clips, tmp_path / "film.mp4", tmp_path / "cache", ffmpeg)
    size = cut.stat().st_size
    gap = _expected_gap(made[layout], size)
    expected = f"shot 'harbour': clip is incomplete: {cut} has {size} bytes: {gap}"
    assert caught.value.message == expected
    assert not (tmp_path / "film.mp4").exists()


async def _assemble_with(
    clips: list[ClipInput], output: Path, cache: Path, ffmpeg: str
) -> AssemblyResult:
    return await assemble(clips, SPEC, output=output, cache_dir=cache, ffmpeg=ffmpeg)


def test_each_content_is_checked_once(
    made: dict[str, Path], ffmpeg: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Verdicts are kept by SHA-256: a copy of a checked clip elsewhere is not checked again."""
    clips = [ClipInput("a", made["first"]), ClipInput("b", made["second"])]
    anyio.run(_assemble_with, clips, tmp_path / "one.mp4", tmp_path / "cache", ffmpeg)
    verdicts = MediaVerdicts(tmp_path / "cache")
    assert verdicts.recall(hash_file(made["first"])) == MediaVerdict()
    assert verdicts.recall(hash_file(made["second"])) == MediaVerdict()
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(made["second"].read_bytes())

    def unexpected(path: Path) -> str:
        raise AssertionError(f"{path} was checked again")

    monkeypatch.setattr("rdpipe.assemble.completeness.media_gap", unexpected)
    clips = [ClipInput("a", made["first"]), ClipInput("b", copy)]
    result = anyio.run(_assemble_with, clips, tmp_path / "two.mp4", tmp_path / "cache", ffmpeg)
    assert result.copied


def test_clips_that_carry_their_digest_are_not_hashed_and_use_the_verdicts_given(
    made: dict[str, Path], ffmpeg: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run's clips come with the clip store's digest and verdicts: the join reads no clip to
    hash it, asks no media check the verdicts answer, and keeps no verdicts of its own."""
    hashes = {name: hash_file(made[name]) for name in ("first", "wider")}
    verdicts = MediaVerdicts(tmp_path / "store")
    verdicts.remember(hashes["first"], MediaVerdict())

    def unexpected(*args: object) -> str:
        raise AssertionError(f"{args[0]} was read again")

    monkeypatch.setattr("rdpipe.assemble.normalise._digest", unexpected)
    checked: list[Path] = []
    monkeypatch.setattr("rdpipe.assemble.completeness.media_gap", lambda path: checked.append(path))
    clips = [ClipInput(name, made[name], sha256=hashes[name]) for name in ("first", "wider")]

    async def main() -> AssemblyResult:
        output, cache = tmp_path / "film.mp4", tmp_path / "cache"
        return await assemble(
            clips, SPEC, output=output, cache_dir=cache, ffmpeg=ffmpeg, verdicts=verdicts
        )

    result = anyio.run(main)
    assert not result.copied and result.encoded == 2, "normalised: pieces keyed by the digests"
    assert checked == [made["wider"]], "the one clip without a verdict"
    assert verdicts.recall(hashes["wider"]) == MediaVerdict()
    assert not (tmp_path / "cache" / "media-verdicts.jsonl").exists()

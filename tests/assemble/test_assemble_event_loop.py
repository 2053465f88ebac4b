"""The assembly keeps file work off the event loop, and the join's two paths end as typed."""

from __future__ import annotations

import stat
from fractions import Fraction
from pathlib import Path

import anyio
import pytest

from rdpipe.assemble import AssemblyInvalid, ClipInput, JoinPlan, TargetFormat, extract_last_frame
from rdpipe.assemble.join import CopiedClips, JoinOptions, NormalisedPieces, run_join
from rdpipe.model.output import CaptionsSpec, CardSpec, MusicSpec, OutputSpec
from tests.assemble.joining import join


def test_a_copy_join_does_its_file_work_in_worker_threads(
    matching_clips: list[Path], tmp_path: Path, ffmpeg: str, loop_file_calls: list[str]
) -> None:
    """Checking, probing, the scratch folder, the concat list, chapters, the sound file, the
    rename into place, caption files and the contact sheet never block the event loop."""
    clips = [ClipInput(f"s{i}", p, caption=f"line {i}") for i, p in enumerate(matching_clips)]
    spec = OutputSpec()  # chapters, .srt, .vtt and the contact sheet
    result = join(clips, spec, tmp_path, ffmpeg)
    assert result.copied and len(result.sidecars) == 3
    assert list(loop_file_calls) == []


def test_a_normalised_join_does_its_file_work_in_worker_threads(
    mixed_clips: list[Path], tmp_path: Path, ffmpeg: str, loop_file_calls: list[str]
) -> None:
    """Cards, burned captions, the piece cache and the join of the pieces stay off the loop."""
    clips = [ClipInput(f"s{i}", p, caption="hello") for i, p in enumerate(mixed_clips[:2])]
    spec = OutputSpec(title_card=CardSpec(text="Title", seconds=0.5),
                      captions=CaptionsSpec(burn_in=True), contact_sheet=False)  # fmt: skip
    target = TargetFormat(320, 180, Fraction(25))
    result = join(clips, spec, tmp_path, ffmpeg, target=target)
    assert not result.copied and result.encoded == 3
    assert list(loop_file_calls) == []


def test_the_last_frame_is_written_off_the_loop(
    matching_clips: list[Path], tmp_path: Path, ffmpeg: str, loop_file_calls: list[str]
) -> None:
    """Extracting a clip's last frame checks, makes folders and renames in worker threads."""
    dest = tmp_path / "frames" / "last.png"

    async def main() -> Path:
        return await extract_last_frame(matching_clips[0], dest, ffmpeg=ffmpeg)

    assert anyio.run(main) == dest
    assert list(loop_file_calls) == []
    assert dest.is_file()


def test_a_failed_assembly_leaves_no_scratch_folder(
    matching_clips: list[Path], tmp_path: Path, ffmpeg: str
) -> None:
    """A music file that holds no sound stops the join; its scratch folder is removed."""
    (tmp_path / "music.mp3").write_bytes(b"not sound")
    spec = OutputSpec(music=MusicSpec(source="music.mp3"), contact_sheet=False)
    clips = [ClipInput(f"s{i}", p) for i, p in enumerate(matching_clips[:2])]
    with pytest.raises(AssemblyInvalid, match=r"music file 'music\.mp3'"):
        join(clips, spec, tmp_path, ffmpeg, base_dir=tmp_path)
    cache = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert cache == [".gitignore", "media-verdicts.jsonl", "probes.json"]
    assert not list(tmp_path.glob("*.mp4"))


@pytest.mark.parametrize("source", ["copied", "normalised"])
def test_only_a_copy_join_is_undone_by_broken_timestamps(source: str, tmp_path: Path) -> None:
    """ffmpeg's 'Non-monotonic DTS' removes a copied join (the caller normalises instead) and
    is only a warning for normalised pieces, which are renamed into place."""
    fake = tmp_path / "ffmpeg"
    fake.write_text('#!/bin/sh\nfor last; do :; done\necho "Non-monotonic DTS" >&2\n'
                    ': > "$last"\n')  # fmt: skip
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    work = tmp_path / "work"
    work.mkdir()
    options = JoinOptions(ffmpeg=str(fake), spec=OutputSpec(), output=tmp_path / "film.mp4",
                          work=work, base_dir=tmp_path, concurrency=1)  # fmt: skip
    plan = JoinPlan(copy=source == "copied", reason="", pieces=(), chapters=(), cues=(),
                    target=TargetFormat(160, 90, Fraction(25)), duration=1.0)  # fmt: skip
    files = ((tmp_path / "a.mp4", 1.0),)
    typed = (
        CopiedClips(files, work / "sound.pcm") if source == "copied" else NormalisedPieces(files)
    )

    async def main() -> bool:
        return await run_join(options, plan, typed)

    assert anyio.run(main) is (source == "normalised")
    assert (tmp_path / "film.mp4").exists() is (source == "normalised")
    assert not (tmp_path / ".film.partial.mp4").exists()

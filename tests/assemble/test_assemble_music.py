"""A bad music bed stops the assembly with one paragraph naming it, never ffmpeg's output.

``validate`` refuses a bad local file first (tests/pipeline/test_music_rule.py); the assembly
checks again, since the file may have changed since, and a URL is only read by ffmpeg.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from rdpipe.assemble import AssemblyInvalid, FfmpegFailed
from rdpipe.model.output import MusicSpec, OutputSpec
from tests.assemble.joining import join, numbered


def _assemble(clips: list[Path], source: str, tmp_path: Path, ffmpeg: str) -> None:
    spec = OutputSpec(contact_sheet=False, music=MusicSpec(source=source))
    join(numbered(clips), spec, tmp_path, ffmpeg, base_dir=tmp_path)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("gone.mp3", "music file 'gone.mp3' not found (looked at {dir}/gone.mp3)"),
        ("empty.mp3", "music file 'empty.mp3' is empty (0 bytes)"),
        (
            "text.mp3",
            "music file 'text.mp3' is not a sound file rdpipe can read (Invalid data "
            "found when processing input)",
        ),
        (
            "silent.mp4",
            "music file 'silent.mp4' has no audio track; use a sound file (mp3, m4a, "
            "wav, flac, ogg)",
        ),
    ],
)
def test_a_bad_music_file_is_named_before_ffmpeg_runs(
    name: str, message: str, matching_clips: list[Path], tmp_path: Path, ffmpeg: str
) -> None:
    """Missing, empty, not sound, or a video without sound: one line, and no video written."""
    if name == "empty.mp3":
        (tmp_path / name).write_bytes(b"")
    elif name == "text.mp3":
        (tmp_path / name).write_text("la la la\n" * 100)
    elif name == "silent.mp4":
        subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "color=black:s=64x64:d=1",
                        str(tmp_path / name)], check=True)  # fmt: skip
    with pytest.raises(AssemblyInvalid) as caught:
        _assemble(matching_clips[:2], name, tmp_path, ffmpeg)
    assert str(caught.value) == "output.music.source: " + message.format(dir=tmp_path)
    assert not (tmp_path / "film.mp4").exists()


def test_music_ffmpeg_cannot_read_is_named_in_one_paragraph(
    matching_clips: list[Path], tmp_path: Path, ffmpeg: str
) -> None:
    """A music URL ffmpeg cannot open gives one line naming it, not ffmpeg's output."""
    url = "http://127.0.0.1:9/bed.mp3"  # the discard port: nothing listens
    with pytest.raises(FfmpegFailed) as caught:
        _assemble(matching_clips[:2], url, tmp_path, ffmpeg)
    text = str(caught.value)
    assert text.startswith("ffmpeg failed while joining the clips into film.mp4 (exit status ")
    assert f"): it could not read {url} (" in text
    assert "\n" not in text and "@ 0x" not in text

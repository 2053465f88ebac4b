"""``output.music.source`` is checked by ``validate``: a file inside the folder with sound in it.

A bad music file used to surface only at the end of the assembly, after every clip was paid
for, as ffmpeg's error output (issue 11). Each case is refused with its located message
(exit 2); the file is opened with PyAV only when a pipeline has music.
"""

from __future__ import annotations

import os
import subprocess
import sys
import wave
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from rdpipe.ffmpeg_path import find_ffmpeg

HEAD = "version: 1\nname: demo\nmodel: doubao-seedance-2-0-720p\nshots:\n  - {id: a, prompt: x}\n"
TAIL = "\n1 error; nothing was sent to the API.\n"


def _tone(path: Path) -> bytes:
    """A quarter second of a 16-bit stereo WAV tone."""
    with wave.open(str(path), "wb") as sound:
        sound.setnchannels(2)
        sound.setsampwidth(2)
        sound.setframerate(48000)
        sound.writeframes(b"\x00\x10\x00\x10" * 12000)
    return path.read_bytes()


def _silent_video(path: Path) -> bytes:
    """A one-second video with no audio track."""
    subprocess.run([find_ffmpeg(os.environ), "-v", "error", "-y", "-f", "lavfi", "-i",
                    "color=black:s=64x64:r=25:d=1", "-c:v", "libx264", "-preset", "ultrafast",
                    str(path)], check=True)  # fmt: skip
    return path.read_bytes()


CASES = {
    "missing": ("nope.mp3", None, "music file 'nope.mp3' not found (looked at {root}/nope.mp3)"),
    "empty": ("empty.mp3", b"", "music file 'empty.mp3' is empty (0 bytes)"),
    "text named mp3": (
        "text.mp3", b"not music at all\n" * 40,
        "music file 'text.mp3' is not a sound file rdpipe can read (Invalid data found when "
        "processing input)",
    ),
    "video without sound": (
        "video.mp4", "video",
        "music file 'video.mp4' has no audio track; use a sound file (mp3, m4a, wav, flac, ogg)",
    ),
    "outside the folder": (
        "../bed.wav", "tone",
        "'../bed.wav' is outside the pipeline's folder {root}; move it inside or pass "
        "--allow-outside-files if you trust this pipeline",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_music_file_is_refused_where_it_is_named(
    case: str, make_tree: Callable[[dict[str, object]], Path], cli: Callable[..., Result]
) -> None:
    """Missing, empty, unreadable, soundless or outside: the message points at the source."""
    source, content, message = CASES[case]
    root = make_tree({"sb.yaml": HEAD + f"output:\n  music: {{source: {source}}}\n"})
    path = root / source
    if content == "video":
        _silent_video(path)
    elif content == "tone":
        _tone(path)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    result = cli("validate", "sb.yaml")
    assert (result.exit_code, result.stdout) == (2, "")
    expected = "sb.yaml:7:19: output.music.source: " + message.format(root=root.resolve())
    assert result.stderr == "error: " + expected + TAIL


def test_a_music_file_with_sound_passes(
    make_tree: Callable[[dict[str, object]], Path], cli: Callable[..., Result]
) -> None:
    """A WAV inside the folder, and a URL (not fetched), are fine."""
    root = make_tree({"sb.yaml": HEAD + "output:\n  music: {source: music/bed.wav}\n"})
    (root / "music").mkdir()
    _tone(root / "music" / "bed.wav")
    assert cli("validate", "sb.yaml").exit_code == 0
    (root / "sb.yaml").write_text(HEAD + "output:\n  music: {source: 'https://x.test/a.mp3'}\n")
    assert cli("validate", "sb.yaml").exit_code == 0


def test_validate_opens_no_media_library_without_music(tmp_path: Path) -> None:
    """A pipeline without music is validated without importing PyAV."""
    (tmp_path / "sb.yaml").write_text(HEAD, encoding="utf-8")
    code = (
        "import sys; from pathlib import Path; "
        "from rdpipe.prepare.pipeline import prepare_pipeline; "
        f"prepare_pipeline(Path({str(tmp_path / 'sb.yaml')!r})); print('av' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)  # fmt: skip
    assert result.stdout == "False\n"

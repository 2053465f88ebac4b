"""No drift over many shots: each shot's sound lasts exactly its picture (issue 11).

Every AAC clip ends with encoder padding (a 3 s clip decodes to 3.008 s of sound); copied or
joined piece by piece, that padding put each later beep 8 ms further behind its flash. Twelve
3 s shots that each flash white while they beep are joined by every path (copy, normalise
behind a title card, fade, crossfade); the output is decoded, and every beep must be on its
flash where the storyboard puts it, with sound exactly as long as the picture.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import pytest

from rdpipe.assemble import AssemblyResult
from rdpipe.model.output import CardSpec, OutputSpec, TransitionSpec
from tests.assemble.clips import MarkedClip, make_marked_clip
from tests.assemble.joining import join, numbered
from tests.assemble.media import beep_times, flash_times

SHOTS = 12
SECONDS = 3.0
MARK = 1.0
SAMPLE = 1 / 48000
# path: the output block, the title card's length and the overlap of each join (seconds)
PATHS = {
    "copy": (OutputSpec(contact_sheet=False), 0.0, 0.0),
    "normalise": (OutputSpec(contact_sheet=False, title_card=CardSpec(text="T", seconds=1.0)),
                  1.0, 0.0),
    "fade": (OutputSpec(contact_sheet=False, transition=TransitionSpec(kind="fade", seconds=0.4)),
             0.0, 0.0),
    "crossfade": (OutputSpec(contact_sheet=False,
                             transition=TransitionSpec(kind="crossfade", seconds=0.4)), 0.0, 0.4),
}  # fmt: skip


@pytest.fixture(scope="module")
def three_seconds(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3 s 25 fps AAC clip flashing and beeping at 1 s (its AAC decodes to 3.008 s)."""
    directory = tmp_path_factory.mktemp("drift")
    return make_marked_clip(ffmpeg, MarkedClip("three", mark=MARK, seconds=SECONDS), directory)


def _assemble(clip: Path, spec: OutputSpec, tmp_path: Path, ffmpeg: str) -> AssemblyResult:
    return join(numbered([clip] * SHOTS), spec, tmp_path, ffmpeg)


def _stream_seconds(path: Path) -> tuple[float, float, int]:
    """Seconds of the video and audio streams as the file states them, and decoded samples."""
    with av.open(str(path)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        lengths = [float((s.duration or 0) * (s.time_base or Fraction(1))) for s in (video, audio)]
        samples = sum(frame.samples for frame in container.decode(audio))
    return lengths[0], lengths[1], samples


@pytest.mark.parametrize("path", list(PATHS))
def test_every_shot_keeps_its_beep_on_its_flash(
    path: str, three_seconds: Path, tmp_path: Path, ffmpeg: str
) -> None:
    """Shot 12's beep is on its flash as shot 1's is (no 8 ms a shot), and the sound track lasts
    exactly as long as the picture."""
    spec, card, overlap = PATHS[path]
    result = _assemble(three_seconds, spec, tmp_path, ffmpeg)
    assert result.copied == (path == "copy")
    planned = [card + i * (SECONDS - overlap) + MARK for i in range(SHOTS)]
    flashes, beeps = flash_times(result.output), beep_times(result.output, played=True)
    assert flashes == pytest.approx(planned, abs=0.001)
    offsets = [round((beep - flash) * 1000, 1) for beep, flash in zip(beeps, flashes, strict=True)]
    assert all(abs(offset) <= 1.0 for offset in offsets), offsets
    length = card + SHOTS * SECONDS - (SHOTS - 1) * overlap
    video, audio, samples = _stream_seconds(result.output)
    assert (video, audio) == (pytest.approx(length, abs=SAMPLE), pytest.approx(length, abs=SAMPLE))
    # Decoding also yields the padding of the last AAC frame, which the track's edit list hides.
    assert 0 <= samples - round(length * 48000) < 1024

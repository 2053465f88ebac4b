"""5.1 sound is mixed down to stereo at ITU-R BS.775 levels, and stereo is left alone (issue 11).

ffmpeg's default downmix divides the coefficients by their sum, so a 5.1 clip among stereo
clips came out quieter (its centre channel 10.7 dB down). Each shot of the output is decoded
and its level measured (RMS of the left channel, and the peak).
"""

from __future__ import annotations

import math
import subprocess
from array import array
from pathlib import Path

import av
import pytest

from rdpipe.assemble import AssemblyResult
from rdpipe.model.output import OutputSpec
from tests.assemble.joining import join, numbered

SECONDS = 2.0
AMPLITUDE = 0.9  # near full scale: a stereo clip must not be made to clip
# name: (channel layout, pan of the mono tone into it)
SOUNDS = {
    "stereo": ("stereo", "c0=c0|c1=c0"),
    "front": ("5.1", "c0=c0|c1=c0"),  # the tone in front left and right
    "centre": ("5.1", "c2=c0"),  # the tone in the centre channel only
}


@pytest.fixture(scope="module")
def sounds(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 2 s black clip per layout, its 440 Hz tone at 0.9 of full scale where panned."""
    directory = tmp_path_factory.mktemp("downmix")
    made = {}
    for name, (layout, pan) in SOUNDS.items():
        dest = directory / f"{name}.mp4"
        tone = f"sine=f=440:r=48000:d={SECONDS},volume={AMPLITUDE * 8:g},pan={layout}|{pan}"
        subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"color=black:s=160x120:r=25:d={SECONDS}", "-f", "lavfi", "-i", tone,
                        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                        "-c:a", "aac", "-b:a", "384k", str(dest)], check=True)  # fmt: skip
        made[name] = dest
    return made


def _levels(path: Path, shots: int) -> list[tuple[float, float]]:
    """RMS and peak (dBFS) of the left channel over the middle second of each 2 s shot."""
    found = [[0.0, 0, 0.0] for _ in range(shots)]
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            values = array("f", bytes(frame.planes[0]))[: frame.samples]
            for index, value in enumerate(values):
                at = (frame.time or 0) + index / frame.sample_rate
                shot, offset = divmod(at, SECONDS)
                if 0.5 <= offset < 1.5 and int(shot) < shots:
                    level = found[int(shot)]
                    level[0] += value * value
                    level[1] += 1
                    level[2] = max(level[2], abs(value))
    return [(10 * math.log10(s / n), 20 * math.log10(p)) for s, n, p in found]


def _assemble(paths: list[Path], tmp_path: Path, ffmpeg: str) -> AssemblyResult:
    return join(numbered(paths), OutputSpec(contact_sheet=False), tmp_path, ffmpeg, name="o.mp4")


def test_five_one_among_stereo_keeps_its_level(
    sounds: dict[str, Path], tmp_path: Path, ffmpeg: str
) -> None:
    """Front channels come out as loud as a stereo clip's, the centre 3 dB down per side, and
    the stereo clip's near-full-scale tone keeps its level without clipping."""
    result = _assemble([sounds[n] for n in ("stereo", "front", "centre")], tmp_path, ffmpeg)
    assert not result.copied
    (stereo, stereo_peak), (front, _), (centre, _) = _levels(result.output, 3)
    sine_rms = 20 * math.log10(AMPLITUDE / math.sqrt(2))
    assert stereo == pytest.approx(sine_rms, abs=0.3)
    assert stereo_peak == pytest.approx(20 * math.log10(AMPLITUDE), abs=0.3)
    assert front == pytest.approx(stereo, abs=0.3)
    assert centre == pytest.approx(stereo - 3.0, abs=0.3)


def test_copied_five_one_clips_are_mixed_down_alike(
    sounds: dict[str, Path], tmp_path: Path, ffmpeg: str
) -> None:
    """5.1 clips joined by copy get the same downmix: their sound is read again and cut."""
    result = _assemble([sounds["centre"], sounds["front"]], tmp_path, ffmpeg)
    assert result.copied
    (centre, _), (front, _) = _levels(result.output, 2)
    assert centre == pytest.approx(front - 3.0, abs=0.3)
    with av.open(str(result.output)) as container:
        assert container.streams.audio[0].codec_context.channels == 2

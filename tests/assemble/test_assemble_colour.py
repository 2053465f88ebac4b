"""Every shot keeps its levels whatever range its neighbours are in (issue 11).

A full-range clip (``yuvj420p`` H.264, or MJPEG with PCM sound, as cameras write them) joined
first with limited-range clips tagged the whole video full range, so the other shots showed
white as grey 235 and red as (238, 14, 13). Each output is decoded to RGB by its own tags,
as a player shows it, and every shot's white flash and red box are measured.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import anyio
import av
import pytest

from rdpipe.assemble import AssemblyResult, ClipInput, plan_join, probe_clip
from rdpipe.assemble.colour import UNSTATED, Colour, scale_options, tag_filter
from rdpipe.model.output import OutputSpec
from tests.assemble.joining import join, numbered

SECONDS = 2.0
# Grey with a red box in the top-left corner; white all over from 1 s to 1.2 s.
PICTURE = (
    f"color=c=0x808080:s=160x120:r=25:d={SECONDS},format=yuv420p,"
    "drawbox=x=0:y=0:w=40:h=30:color=red:t=fill,"
    "drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='between(t,1,1.16)'"
)
KINDS = {
    "limited": ("mp4", ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                        "-c:a", "aac"]),
    "full": ("mp4", ["-vf", "scale=out_range=full,format=yuvj420p", "-c:v", "libx264",
                     "-preset", "ultrafast", "-c:a", "aac"]),
    "mjpeg": ("mov", ["-vf", "scale=out_range=full,format=yuvj420p", "-c:v", "mjpeg",
                      "-q:v", "2", "-c:a", "pcm_s16le"]),
}  # fmt: skip


@pytest.fixture(scope="module")
def clips(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One clip of each kind, with the same picture and a tone."""
    directory = tmp_path_factory.mktemp("colour")
    made = {}
    for name, (suffix, codec) in KINDS.items():
        dest = directory / f"{name}.{suffix}"
        subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", PICTURE, "-f", "lavfi",
                        "-i", f"sine=f=440:r=48000:d={SECONDS}", *codec, "-ac", "2", str(dest)],
                       check=True)  # fmt: skip
        made[name] = dest
    return made


def _shown(path: Path, seconds: float) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The RGB of the middle of the picture and of the red box at ``seconds``, decoded by the
    stream's own range and matrix, as a player shows them."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if (frame.time or 0) >= seconds - 0.001:
                shown = frame.reformat(
                    format="rgb24", src_color_range=frame.color_range,
                    src_colorspace=frame.colorspace if frame.colorspace != 2 else None,
                ).to_image()  # fmt: skip
                return shown.getpixel((80, 90)), shown.getpixel((10, 10))  # type: ignore[return-value]
    raise AssertionError(f"no frame at {seconds} s")


def _assemble(paths: list[Path], tmp_path: Path, ffmpeg: str) -> AssemblyResult:
    return join(numbered(paths), OutputSpec(contact_sheet=False), tmp_path, ffmpeg, name="o.mp4")


@pytest.mark.parametrize(
    "order",
    [("full", "limited", "limited"), ("mjpeg", "limited", "full"), ("limited", "full", "mjpeg")],
    ids="-".join,
)
def test_every_shot_keeps_its_white_and_red(
    order: tuple[str, ...], clips: dict[str, Path], tmp_path: Path, ffmpeg: str
) -> None:
    """Whatever range the first clip is in, every shot's white is white and its red red."""
    result = _assemble([clips[kind] for kind in order], tmp_path, ffmpeg)
    assert not result.copied
    for index in range(len(order)):
        white = _shown(result.output, index * SECONDS + 1.04)[0]
        grey, red = _shown(result.output, index * SECONDS + 0.5)
        assert min(white) >= 252, (index, white)
        assert red[0] >= 248 and max(red[1:]) <= 6, (index, red)
        assert all(abs(value - 128) <= 3 for value in grey), (index, grey)
    with av.open(str(result.output)) as container:
        assert container.streams.video[0].codec_context.color_range != 2  # not full range


def test_copy_is_refused_when_ranges_differ(clips: dict[str, Path]) -> None:
    """Clips in different ranges are not copied, and the plan says why."""
    paths = [clips["full"], clips["limited"]]
    infos = [anyio.run(lambda p=p: probe_clip(p, shot_id=p.stem)) for p in paths]
    inputs = [ClipInput(p.stem, p) for p in paths]
    plan = plan_join(inputs, infos, OutputSpec())
    assert (infos[0].colour.range, infos[1].colour.range) == ("pc", "tv")
    assert plan.reason == "shot 'limited' differs from shot 'full' in colour range (limited, full)"
    same = plan_join(inputs[:1] * 2, infos[:1] * 2, OutputSpec())
    assert same.copy


def test_colours_differ_only_where_both_clips_state_them() -> None:
    """Range always counts; a matrix, primaries or transfer only when both clips state it. The
    matrix is converted between stated ones, range always to limited."""
    hd, sd = Colour("tv", "bt709", "bt709", "bt709"), Colour("tv", "smpte170m", "smpte170m")
    assert hd.difference(UNSTATED) is None
    assert hd.difference(sd) == "colour matrix (bt709, smpte170m)"
    assert Colour("pc").difference(UNSTATED) == "colour range (full, limited)"
    assert scale_options(Colour("pc", "smpte170m"), hd) == (
        "out_range=tv:in_color_matrix=smpte170m:out_color_matrix=bt709"
    )
    assert scale_options(Colour("pc"), hd) == "out_range=tv"
    assert tag_filter(hd) == (
        "setparams=range=tv:colorspace=bt709:color_primaries=bt709:color_trc=bt709"
    )

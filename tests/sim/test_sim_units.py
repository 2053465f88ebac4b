"""Pure pieces of the simulator: ranges, signatures, the size table, argv, exports."""

from __future__ import annotations

from pathlib import Path

import pytest

import rdpipe.sim
from rdpipe.sim import MODELS, frame_size, synthetic_bytes
from rdpipe.sim.catalog import RATIOS, RESOLUTIONS
from rdpipe.sim.clips import parse_range
from rdpipe.sim.picture import PictureSpec
from rdpipe.sim.preview_clips import ClipSpec, build_render_argv
from rdpipe.sim.signing import UrlSigner


@pytest.mark.parametrize(
    ("header", "span"),
    [
        (None, None),
        ("bytes=0-99", (0, 100)),
        ("bytes=900-", (900, 1000)),
        ("bytes=-100", (900, 1000)),
        ("bytes=-5000", (0, 1000)),
        ("bytes=990-5000", (990, 1000)),
        ("bytes=0-1,5-6", None),
        ("items=0-1", None),
    ],
)
def test_parse_range(header: str | None, span: tuple[int, int] | None) -> None:
    """Single byte ranges become [start, stop); forms the parser ignores mean the whole body."""
    assert parse_range(header, 1000) == span


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5-2", "bytes=-0"])
def test_unsatisfiable_ranges_raise(header: str) -> None:
    """Ranges past the end, reversed or empty cannot be satisfied."""
    with pytest.raises(ValueError):
        parse_range(header, 1000)


def test_signatures_check_path_expiry_and_secret() -> None:
    """A URL verifies only with its own path, expiry and secret, and only before it expires."""
    signer = UrlSigner(b"secret")
    signature = signer.signature("/clips/a.mp4", 2000)
    good = {"expires": "2000", "signature": signature}
    assert signer.refusal("/clips/a.mp4", good, now=1999) is None
    assert signer.refusal("/clips/a.mp4", good, now=2000) == "Request has expired"
    assert signer.refusal("/clips/b.mp4", good, now=1999) is not None
    assert UrlSigner(b"other").refusal("/clips/a.mp4", good, now=1999) is not None
    assert signer.refusal("/clips/a.mp4", {"expires": "2000"}, now=1) is not None


def test_frame_sizes_are_even_and_oriented() -> None:
    """Every size in the table is even, and portrait ratios are taller than wide."""
    for resolution in RESOLUTIONS:
        for ratio in RATIOS:
            width, height = frame_size(resolution, ratio)
            assert width % 2 == 0 and height % 2 == 0
            across, down = (int(part) for part in ratio.split(":"))
            assert (width > height) == (across > down)
    assert frame_size("720p", "16:9") == (1280, 720)
    assert frame_size("720p", "9:16") == (720, 1280)
    assert frame_size("720p", "1:1") == (960, 960)


def test_synthetic_bytes_follow_the_pattern() -> None:
    """Synthetic clip byte n is n % 251, whatever the offset and length."""
    data = synthetic_bytes(250, 200_000)
    assert len(data) == 200_000
    assert data[:3] == bytes([250, 0, 1])
    assert data[-1] == (250 + 199_999) % 251


def test_models_table_has_the_required_ids() -> None:
    """The simulator serves the Seedance 2.0, 1.5 pro and 1.0 ids the contract names."""
    assert {
        "doubao-seedance-2-0-480p",
        "doubao-seedance-2-0-720p",
        "doubao-seedance-2-0-1080p",
        "seedance-1-5-pro-with-audio",
        "seedance-1-5-pro-no-audio",
        "doubao-seedance-1-0-pro",
    } <= set(MODELS)


def test_render_argv_golden() -> None:
    """The ffmpeg command for a 4 s 480p clip with audio is exactly this."""
    picture = PictureSpec(864, 480, "p", "c", None, None)
    argv = build_render_argv("ffmpeg", ClipSpec(picture, 4, True), Path("in.png"), Path("o.mp4"))
    assert argv == [
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
        "-i", "in.png",
        "-f", "lavfi", "-i", "color=c=0xffb000:s=16x20:r=24:d=4",
        "-f", "lavfi", "-i", "sine=frequency=440:beep_factor=4:sample_rate=48000:duration=4",
        "-filter_complex",
        "[0:v]format=yuv420p,loop=loop=-1:size=1,fps=24,trim=duration=4[still];"
        "[still][1:v]overlay=x='24+(816-w)*t/4':y=442:shortest=1:format=yuv420[v]",
        "-map", "[v]",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-r", "24",
        "-map", "2:a", "-c:a", "aac", "-b:a", "96k",
        "-t", "4", "-movflags", "+faststart", "-f", "mp4", "o.mp4",
    ]  # fmt: skip


def test_exported_names_are_complete() -> None:
    """rdpipe.sim's __all__ lists exactly its public names, and each exists."""
    public = {name for name in vars(rdpipe.sim) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(rdpipe.sim, name)).__name__ == "module"}
    assert set(rdpipe.sim.__all__) == public - modules - {"annotations"}
    assert {"SimConfig", "Timing", "Faults", "SimServer", "run_simulator"} <= public

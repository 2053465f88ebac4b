"""Golden ffmpeg command lines, the pure join plan, caption and chapter text, exports."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import rdpipe.assemble
from rdpipe.assemble import ClipInfo, ClipInput, TargetFormat, build_concat_argv, plan_join
from rdpipe.assemble.argv import build_normalise_argv
from rdpipe.assemble.chapters import format_ffmetadata, format_srt, format_vtt
from rdpipe.assemble.concat import build_priming_drop_bsf
from rdpipe.assemble.plan import ClipPiece, Span
from rdpipe.assemble.probe import AudioInfo
from rdpipe.model.output import OutputSpec


def _info(name: str, *, rate: int = 25, audio: bool = True) -> ClipInfo:
    sound = AudioInfo("aac", 48000, 2, Fraction(1, 48000), -1024, 2.0, 95, 1) if audio else None
    return ClipInfo(Path(f"/clips/{name}.mp4"), "mp4", "h264", "High", 1280, 720, Fraction(1),
                    "yuv420p", Fraction(rate), Fraction(1, 12800), 2 * rate, 2.0, 2.0,
                    -1024 / 48000, sound)  # fmt: skip


def test_normalise_argv_is_stable() -> None:
    """A silent clip is fitted, padded, given silence, cut to exact lengths, with AAC and PCM."""
    piece = ClipPiece("b", _info("b", rate=30, audio=False), 0.5, 25, fade_in=3)
    argv = build_normalise_argv("ffmpeg", piece, TargetFormat(640, 360, Fraction(25)),
                                preset="veryfast", crf=20, dest=Path("/cache/k.mov"))  # fmt: skip
    assert argv == [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-y",
        "-ss", "0.500000", "-t", "2.000000", "-i", "/clips/b.mp4",
        "-f", "lavfi", "-t", "2.000000", "-i", "anullsrc=r=48000:cl=stereo",
        "-filter_complex",
        "[0:v]fps=25:start_time=0,"
        "scale=640:360:force_original_aspect_ratio=decrease:force_divisible_by=2,"
        "pad=640:360:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,format=yuv420p,"
        "tpad=stop_mode=clone:stop_duration=2,trim=end_frame=25,fade=t=in:s=0:n=3[v];"
        "[1:a]aformat=sample_fmts=s16:sample_rates=48000:channel_layouts=stereo,"
        "apad,atrim=end_sample=48000,afade=t=in:ns=5760[a];[a]asplit=2[aac][pcm]",
        "-frames:v", "25", "-map", "[v]", "-map", "[aac]", "-map", "[pcm]",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
        "-profile:v", "high", "-video_track_timescale", "12800",
        "-c:a:0", "aac", "-b:a", "192k", "-c:a:1", "pcm_s16le", "-ar", "48000", "-ac", "2",
        "-f", "mov", "/cache/k.mov",
    ]  # fmt: skip


def test_copy_argv_drops_later_clips_priming() -> None:
    """The copy join copies both streams, drops the priming packet of the second clip on, and
    keeps the timestamps (the first clip's priming stays before zero)."""
    bsf = build_priming_drop_bsf([_info("a"), _info("b"), _info("c")])
    argv = build_concat_argv("ffmpeg", Path("/w/list"), Path("/o.mp4"),
                             metadata=Path("/w/meta"), audio_bsf=bsf)  # fmt: skip
    assert bsf == "noise=drop='between(n\\,95\\,95)+between(n\\,190\\,190)'"
    assert argv[6:] == [
        "-copyts",
        "-f", "concat", "-safe", "0", "-i", "/w/list", "-f", "ffmetadata", "-i", "/w/meta",
        "-map", "0:v:0", "-c:v", "copy", "-map", "0:a:0", "-c:a", "copy", "-bsf:a", bsf,
        "-map_metadata", "1", "-map_chapters", "1", "-movflags", "+faststart", "-f", "mp4",
        "/o.mp4",
    ]  # fmt: skip


def test_plan_explains_why_copy_is_refused() -> None:
    """The plan names the first shot that breaks the copy path and what differs."""
    clips = [ClipInput("a", Path("/clips/a.mp4")), ClipInput("b", Path("/clips/b.mp4"))]
    same = plan_join(clips, [_info("a"), _info("b")], OutputSpec())
    other = plan_join(clips, [_info("a"), _info("b", rate=30)], OutputSpec())
    assert same.copy and [c.start for c in same.chapters] == [0.0, 2.0]
    assert not other.copy
    assert other.reason == "shot 'b' differs from shot 'a' in frame rate"


def test_caption_and_chapter_text() -> None:
    """Cues become SubRip and WebVTT blocks, chapters an escaped ffmetadata file."""
    cues = [Span("Hello", 0.0, 1.5), Span("a=b; c", 1.5, 3661.25)]
    assert format_srt(cues).splitlines()[:3] == ["1", "00:00:00,000 --> 00:00:01,500", "Hello"]
    assert "00:00:01.500 --> 01:01:01.250\na=b; c\n" in format_vtt(cues)
    assert format_ffmetadata(cues).splitlines()[-1] == "title=a\\=b\\; c"


def test_exports_are_complete() -> None:
    """Every public name of the package is listed in __all__ and exists."""
    public = {n for n in dir(rdpipe.assemble) if not n.startswith("_")} - {"annotations"}
    modules = {"argv", "chapters", "completeness", "concat", "contact_sheet", "errors", "frames",
               "images", "mp4_header", "music", "normalise", "orientation", "parallel", "plan",
               "probe", "probe_cache", "runner", "stage", "target"}  # fmt: skip
    assert set(rdpipe.assemble.__all__) == public - modules


def test_priming_drop_is_split_over_a_chain_for_many_clips() -> None:
    """Two hundred clips give a chain of filters whose indices skip what earlier ones dropped."""
    bsf = build_priming_drop_bsf([_info(f"c{i}") for i in range(200)]) or ""
    filters = bsf.split(",noise=")
    assert len(filters) == 4 and all(f.count("between") <= 64 for f in filters)
    assert "between(n\\,6080\\,6080)'" in filters[0]  # clip 64 in the first filter
    assert filters[1].startswith("drop='between(n\\,6111\\,6111)")  # clip 65, 64 dropped before

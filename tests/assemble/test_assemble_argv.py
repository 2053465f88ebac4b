"""Golden ffmpeg command lines, the pure join plan, caption and chapter text, exports."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from types import ModuleType

import rdpipe.assemble
from rdpipe.assemble import ClipInfo, ClipInput, TargetFormat, build_concat_argv, plan_join
from rdpipe.assemble.argv import build_normalise_argv, build_sound_argv
from rdpipe.assemble.chapters import format_ffmetadata, format_srt, format_vtt
from rdpipe.assemble.join_plan import ClipPiece, Span
from rdpipe.assemble.probe import AudioInfo
from rdpipe.model.output import CaptionsSpec, OutputSpec


def _info(name: str, *, rate: int = 25, audio: bool = True) -> ClipInfo:
    sound = AudioInfo(codec="aac", sample_rate=48000, channels=2,
                      time_base=Fraction(1, 48000), first_pts=-1024,
                      duration=2.0, packets=95, priming_packets=1)  # fmt: skip
    return ClipInfo(path=Path(f"/clips/{name}.mp4"), container="mp4", codec="h264",
                    profile="High", width=1280, height=720, sample_aspect_ratio=Fraction(1),
                    pixel_format="yuv420p", frame_rate=Fraction(rate),
                    time_base=Fraction(1, 12800), frames=2 * rate, video_duration=2.0,
                    container_duration=2.0, start_time=-1024 / 48000,
                    audio=sound if audio else None)  # fmt: skip


def test_normalise_argv_is_stable() -> None:
    """A silent clip is fitted, padded, given silence, cut to exact lengths, with PCM sound."""
    piece = ClipPiece("b", _info("b", rate=30, audio=False), 0.5, 25, fade_in=3)
    argv = build_normalise_argv("ffmpeg", piece, TargetFormat(640, 360, Fraction(25)),
                                preset="veryfast", crf=20, dest=Path("/cache/k.mov"))  # fmt: skip
    assert argv == [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-y",
        "-ss", "0.500000", "-t", "2.000000", "-i", "/clips/b.mp4",
        "-f", "lavfi", "-t", "2.000000", "-i", "anullsrc=r=48000:cl=stereo",
        "-filter_complex",
        "[0:v]fps=25:start_time=0,"
        "scale=640:360:force_original_aspect_ratio=decrease:force_divisible_by=2:out_range=tv,"
        "pad=640:360:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,format=yuv420p,setparams=range=tv,"
        "tpad=stop_mode=clone:stop_duration=2,trim=end_frame=25,fade=t=in:s=0:n=3[v];"
        "[1:a]aformat=sample_fmts=s16:sample_rates=48000:channel_layouts=stereo,"
        "apad,atrim=end_sample=48000,afade=t=in:ns=5760[a]",
        "-frames:v", "25", "-map", "[v]", "-map", "[a]",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
        "-profile:v", "high", "-video_track_timescale", "12800",
        "-c:a", "pcm_s16le", "-ar", "48000", "-ac", "2", "-f", "mov", "/cache/k.mov",
    ]  # fmt: skip


def test_copy_argv_copies_the_video_and_encodes_the_cut_sound() -> None:
    """The copy join copies the video, keeps its timestamps (the first clip's priming stays
    before zero) and encodes the clips' sound, read as raw PCM, to AAC once."""
    argv = build_concat_argv("ffmpeg", Path("/w/list"), Path("/o.mp4"),
                             metadata=Path("/w/meta"), sound=Path("/w/sound.pcm"))  # fmt: skip
    assert argv[6:] == [
        "-copyts",
        "-f", "concat", "-safe", "0", "-i", "/w/list", "-f", "ffmetadata", "-i", "/w/meta",
        "-f", "s16le", "-ar", "48000", "-ac", "2", "-i", "/w/sound.pcm",
        "-map", "0:v:0", "-c:v", "copy",
        "-map", "2:a:0", "-c:a", "aac", "-b:a", "192k", "-ar", "48000", "-ac", "2",
        "-map_metadata", "1", "-map_chapters", "1", "-movflags", "+faststart", "-f", "mp4",
        "/o.mp4",
    ]  # fmt: skip


def test_sound_argv_cuts_each_clip_to_its_picture() -> None:
    """Each copied clip's sound is put on its picture's clock, mixed down to stereo (BS.775
    levels, in float), padded or cut to its samples, and the clips joined as raw PCM."""
    argv = build_sound_argv("ffmpeg", [(_info("a"), 96000), (_info("b"), 96001)], Path("/w/s"))
    tail = "apad,atrim=end_sample="
    chain = ("aresample=async=1:first_pts=0:osr=48000:ochl=stereo:osf=fltp:clev=0.7071:"
             "slev=0.7071:lfe_mix_level=0,"
             "aformat=sample_fmts=s16:sample_rates=48000:channel_layouts=stereo,")  # fmt: skip
    assert argv[6:] == [
        "-vn", "-i", "/clips/a.mp4", "-vn", "-i", "/clips/b.mp4",
        "-filter_complex",
        f"[0:a]{chain}{tail}96000[s0];[1:a]{chain}{tail}96001[s1];[s0][s1]concat=n=2:v=0:a=1[a]",
        "-map", "[a]", "-c:a", "pcm_s16le", "-f", "s16le", "-ar", "48000", "-ac", "2", "/w/s",
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
    modules = {n for n in public if isinstance(getattr(rdpipe.assemble, n), ModuleType)}
    assert "stage" in modules
    assert set(rdpipe.assemble.__all__) == public - modules


def test_a_blank_caption_makes_no_cue() -> None:
    """A caption of spaces writes no cue and burns nothing in (the clips are still copied)."""
    clips = [ClipInput("a", Path("/clips/a.mp4"), caption="Hello"),
             ClipInput("b", Path("/clips/b.mp4"), caption="   "),
             ClipInput("c", Path("/clips/c.mp4"), caption=" \n\t")]  # fmt: skip
    infos = [_info("a"), _info("b"), _info("c")]
    plan = plan_join(clips, infos, OutputSpec())
    assert plan.cues == (Span("Hello", 0.0, 2.0),)
    burned = plan_join(clips[1:], infos[1:], OutputSpec(captions=CaptionsSpec(burn_in=True)))
    assert burned.copy and burned.cues == ()  # no cue: no .srt or .vtt is written

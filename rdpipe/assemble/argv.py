"""Pure builders of every ffmpeg command line the assembly stage runs (golden-tested).

Each returns the argv list; none looks at the disk. Normalised pieces are QuickTime files with
H.264 video and 16-bit PCM sound, exactly as many samples as their frames last. The final join
copies the video and encodes the sound once, to AAC, from sample-exact PCM: the pieces' own on
the normalise path, each clip's sound decoded and cut to its picture (:func:`build_sound_argv`)
on the copy path. AAC copied clip by clip cannot do that: every AAC file ends on a whole
1024-sample frame, so each carried a few ms of padding into the join, and the sound of the
twelfth 3 s shot came 88 ms after its picture (issue 11).

A clip's timeline starts at its first picture (issue 11 §2): a piece seeks past whatever the
file holds before that frame (sound that starts earlier is cut there, frames an edit list hides
are never shown) and cuts both streams at the same instants; silence fills sound that starts
late, and sound shorter or longer than the picture is padded or cut at its end. Each stream
keeps its offset to the other, whatever the file's start times and edit lists.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from rdpipe.assemble.colour import card_scale_options, scale_options, tag_filter
from rdpipe.assemble.framing import fit_steps
from rdpipe.assemble.join_plan import ClipPiece, CrossfadePiece, fraction_text
from rdpipe.assemble.probe import ClipInfo
from rdpipe.assemble.target import CHANNELS, SAMPLE_RATE, TargetFormat

_HEAD = ("-hide_banner", "-nostdin", "-loglevel", "warning", "-y")
AAC_ARGS = ("aac", "-b:a", "192k")
_STEREO = f"aformat=sample_fmts=s16:sample_rates={SAMPLE_RATE}:channel_layouts=stereo"
_RAW_PCM = ("-f", "s16le", "-ar", str(SAMPLE_RATE), "-ac", str(CHANNELS))
# A clip's sound on its picture's clock (silence before sound that starts late), in stereo.
# More channels are mixed down as ITU-R BS.775 says: centre and surrounds at -3 dB, LFE left
# out. The mix is made in float: for integer output swresample divides the coefficients by
# their sum, which left a 5.1 clip's centre channel 10.7 dB quieter than a stereo clip
# (issue 11). Stereo and mono sound is not touched by it.
_SOUND_IN = (
    f"aresample=async=1:first_pts=0:osr={SAMPLE_RATE}:ochl=stereo:osf=fltp:"
    f"clev=0.7071:slev=0.7071:lfe_mix_level=0,{_STEREO}"
)
# Warnings the copy join must not print: each means timestamps went backwards or jumped.
TIMESTAMP_WARNINGS = ("Non-monotonic", "non monotonically", "Invalid DTS", "Invalid PTS",
                      "out of order", "discontinuity")  # fmt: skip


def encode_args(
    target: TargetFormat, *, preset: str, crf: int, dest: Path, threads: int | None = None
) -> list[str]:
    """Maps and encoder settings shared by every normalised piece, so they join by copy.

    The filtergraph before them ends in ``[v]`` and ``[a]`` (PCM, sample-exact). ``threads``
    caps x264's threads: when several short pieces encode at once, one thread each beats frame
    threads contending for cores.
    """
    limit = [] if threads is None else ["-threads:v", str(threads)]
    return [
        "-map", "[v]", "-map", "[a]",
        "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
        "-profile:v", "high", "-video_track_timescale", str(target.timescale()), *limit,
        "-c:a", "pcm_s16le", "-ar", str(SAMPLE_RATE), "-ac", str(CHANNELS),
        "-f", "mov", str(dest),
    ]  # fmt: skip


def build_normalise_argv(
    ffmpeg: str,
    piece: ClipPiece,
    target: TargetFormat,
    *,
    preset: str,
    crf: int,
    dest: Path,
    overlay: Path | None = None,
    threads: int | None = None,
) -> list[str]:
    """Normalise one stretch of a clip: fitted size, target rate, exact frame and sample count.

    ``threads`` caps the threads of the decoder and of the encoder.
    """
    inputs, graph = _piece_inputs(piece, target, first_index=0, overlay=overlay,
                                  labels=("v", "a"), threads=threads)  # fmt: skip
    return [ffmpeg, *_HEAD, *inputs, "-filter_complex", ";".join(graph),
            "-frames:v", str(piece.frames),
            *encode_args(target, preset=preset, crf=crf, dest=dest, threads=threads)]  # fmt: skip


def build_crossfade_argv(
    ffmpeg: str,
    piece: CrossfadePiece,
    target: TargetFormat,
    *,
    preset: str,
    crf: int,
    dest: Path,
    overlays: tuple[Path | None, Path | None] = (None, None),
    threads: int | None = None,
) -> list[str]:
    """Blend the tail of one shot into the head of the next, both normalised on the way."""
    inputs, graph = _piece_inputs(piece.before, target, first_index=0, overlay=overlays[0],
                                  labels=("va", "aa"), threads=threads)  # fmt: skip
    more_inputs, more_graph = _piece_inputs(
        piece.after, target, first_index=_input_count(inputs), overlay=overlays[1],
        labels=("vb", "ab"), threads=threads,
    )  # fmt: skip
    seconds = target.seconds_of(piece.frames)
    graph += more_graph
    graph.append(f"[va][vb]xfade=transition=fade:duration={seconds:.6f}:offset=0[v]")
    graph.append(f"[aa][ab]acrossfade=ns={target.samples_of(piece.frames)}[a]")
    return [ffmpeg, *_HEAD, *inputs, *more_inputs, "-filter_complex", ";".join(graph),
            "-frames:v", str(piece.frames),
            *encode_args(target, preset=preset, crf=crf, dest=dest, threads=threads)]  # fmt: skip


def build_card_argv(
    ffmpeg: str, image: Path, frames: int, target: TargetFormat, *, preset: str, crf: int,
    dest: Path,
) -> list[str]:  # fmt: skip
    """Turn a rendered card image into a piece with silence under it."""
    rate = fraction_text(target.fps)
    return [ffmpeg, *_HEAD, "-loop", "1", "-framerate", rate, "-i", str(image),
            "-f", "lavfi", "-i", f"anullsrc=r={SAMPLE_RATE}:cl=stereo",
            "-filter_complex",
            ";".join([f"[0:v]scale={card_scale_options(target.colour)},format=yuv420p,"
                      f"setsar=1,{tag_filter(target.colour)}[v]",
                      f"[1:a]{_STEREO},atrim=end_sample={target.samples_of(frames)}[a]"]),
            "-frames:v", str(frames),
            *encode_args(target, preset=preset, crf=crf, dest=dest)]  # fmt: skip


def build_concat_argv(
    ffmpeg: str,
    concat_list: Path,
    dest: Path,
    *,
    metadata: Path | None = None,
    sound: Path | None = None,
    music: str | None = None,
    audio_graph: str | None = None,
) -> list[str]:
    """Join the listed files' video by stream copy, and encode the sound to AAC once.

    Inputs are numbered: 0 the concat list, then the metadata, then ``sound`` (the copy path's
    raw PCM, see :func:`build_sound_argv`; without it the listed files' own first audio track
    is the sound), then the music. ``audio_graph`` writes ``[a]``; without it the
    sound is encoded as it comes.

    ``-copyts`` keeps the first file's AAC priming before zero, where the muxer's edit list
    hides it: ffmpeg would otherwise start the join's clock there, putting every picture 21 ms
    late against the sound (issue 11 §2).
    """
    argv = [ffmpeg, *_HEAD, "-copyts", "-f", "concat", "-safe", "0", "-i", str(concat_list)]
    audio = "0:a:0"
    if metadata is not None:
        argv += ["-f", "ffmetadata", "-i", str(metadata)]
    if sound is not None:
        audio = f"{_input_count(argv)}:a:0"
        argv += [*_RAW_PCM, "-i", str(sound)]
    if music is not None:
        argv += ["-stream_loop", "-1", "-i", music]
    argv += ["-map", "0:v:0", "-c:v", "copy"]
    if audio_graph is not None:
        argv += ["-filter_complex", audio_graph]
        audio = "[a]"
    argv += ["-map", audio, "-c:a", *AAC_ARGS, "-ar", str(SAMPLE_RATE), "-ac", str(CHANNELS)]
    if metadata is not None:
        argv += ["-map_metadata", "1", "-map_chapters", "1"]
    return [*argv, "-movflags", "+faststart", "-f", "mp4", str(dest)]


def build_sound_argv(ffmpeg: str, clips: Sequence[tuple[ClipInfo, int]], dest: Path) -> list[str]:
    """Write the sound of copied clips as raw PCM: each clip's ``samples`` samples in turn.

    Each clip's sound is read on its picture's clock, as a normalised piece's is, then padded
    with silence or cut at its end to exactly the samples its picture lasts. Raw PCM files
    join by appending their bytes, so batches of clips can be written at once.
    """
    argv = [ffmpeg, *_HEAD]
    chains = []
    for index, (info, samples) in enumerate(clips):
        seek = info.video_start - info.file_start
        argv += ["-ss", _microseconds_down(seek)] if seek > 0 else []
        argv += ["-vn", "-i", str(info.path)]
        chains.append(f"[{index}:a]{_SOUND_IN},apad,atrim=end_sample={samples}[s{index}]")
    joined = "".join(f"[s{index}]" for index in range(len(clips)))
    chains.append(f"{joined}concat=n={len(clips)}:v=0:a=1[a]")
    return [*argv, "-filter_complex", ";".join(chains), "-map", "[a]",
            "-c:a", "pcm_s16le", *_RAW_PCM, str(dest)]  # fmt: skip


def build_last_frame_argv(ffmpeg: str, clip: Path, dest: Path) -> list[str]:
    """Write the last frame of a clip as PNG: decode the final second, keep the latest frame."""
    return [ffmpeg, *_HEAD, "-sseof", "-1", "-i", str(clip), "-map", "0:v:0",
            "-update", "1", "-f", "image2", "-c:v", "png", str(dest)]  # fmt: skip


def _input_count(inputs: list[str]) -> int:
    return inputs.count("-i")


def _piece_inputs(
    piece: ClipPiece,
    target: TargetFormat,
    *,
    first_index: int,
    overlay: Path | None,
    labels: tuple[str, str],
    threads: int | None,
) -> tuple[list[str], list[str]]:
    """Inputs and filter chains that turn one stretch of a clip into the target format.

    Inputs are numbered from ``first_index``; the chains end in the video and audio
    ``labels``.
    """
    video_label, audio_label = labels
    seconds = target.seconds_of(piece.frames)
    read_for = f"{seconds + 1:.6f}"
    inputs = [] if threads is None else ["-threads", str(threads)]
    seek = _seek_of(piece)
    inputs += ["-ss", _microseconds_down(seek)] if seek > 0 else []
    inputs += ["-t", read_for, "-i", str(piece.info.path)]
    index = first_index
    source = f"[{index}:v]"
    graph: list[str] = []
    if piece.info.audio is not None:
        audio_in = f"[{index}:a]{_SOUND_IN}"
    else:
        inputs += ["-f", "lavfi", "-t", read_for, "-i", f"anullsrc=r={SAMPLE_RATE}:cl=stereo"]
        index += 1
        audio_in = f"[{index}:a]{_STEREO}"
    video = _video_chain(piece, target)
    if overlay is not None:
        inputs += ["-i", str(overlay)]
        index += 1
        graph.append(f"{source}{video}[{video_label}0]")
        graph.append(f"[{video_label}0][{index}:v]overlay=0:0,format=yuv420p[{video_label}]")
    else:
        graph.append(f"{source}{video}[{video_label}]")
    graph.append(f"{audio_in},{_audio_tail(piece, target)}[{audio_label}]")
    return inputs, graph


def _seek_of(piece: ClipPiece) -> float:
    """Seconds into the file (on ffmpeg's clock) where the piece starts on the clip's timeline.

    The shot's t=0 is its first picture (see :mod:`rdpipe.assemble.probe`): the seek skips
    whatever the file holds before it, so both streams keep their offset to each other, and
    the input's accurate seek cuts sound from before the picture.
    """
    return piece.info.video_start - piece.info.file_start + piece.start


def _microseconds_down(seconds: float) -> str:
    """``seconds`` as ffmpeg reads a time, rounded down: a frame at the seek point is kept."""
    return f"{math.floor(seconds * 1_000_000 + 1e-6) / 1_000_000:.6f}"


def _video_chain(piece: ClipPiece, target: TargetFormat) -> str:
    """Square pixels, the target rate, fitted with black bars or reframed around the shot's
    focus (never stretched; :func:`~rdpipe.assemble.framing.fit_steps`), in the target's
    colours (limited range, issue 11), faded.

    Frames keep their times: the rate filter starts at zero, the shot's first picture, and
    holds the first frame kept by the seek until its own time, as the sound is not moved.
    """
    # ffmpeg has already turned the picture upright (autorotate, issue 11 §1): its pixels have
    # the shape they have once turned.
    sar = piece.info.display_sample_aspect_ratio
    steps = []
    if sar != 1:
        steps.append(f"scale=trunc(iw*{sar.numerator}/{sar.denominator}/2)*2:ih,setsar=1")
    w, h = target.width, target.height
    colour = scale_options(piece.info.colour, target.colour)
    steps += [
        f"fps={fraction_text(target.fps)}:start_time=0",
        *fit_steps(piece.fit, piece.focus, (w, h), colour),
        "setsar=1",
        "format=yuv420p",
        tag_filter(target.colour),
        "tpad=stop_mode=clone:stop_duration=2",
        f"trim=end_frame={piece.frames}",
    ]
    if piece.fade_in:
        steps.append(f"fade=t=in:s=0:n={piece.fade_in}")
    if piece.fade_out:
        # The fade filter leaves its last faded frame a step above black; end one frame early.
        start = max(0, piece.frames - piece.fade_out - 1)
        steps.append(f"fade=t=out:s={start}:n={piece.fade_out}")
    return ",".join(steps)


def _audio_tail(piece: ClipPiece, target: TargetFormat) -> str:
    """Pad with silence or cut so the audio lasts exactly as long as the piece's frames."""
    samples = target.samples_of(piece.frames)
    steps = ["apad", f"atrim=end_sample={samples}"]
    if piece.fade_in:
        steps.append(f"afade=t=in:ns={target.samples_of(piece.fade_in)}")
    if piece.fade_out:
        fade = target.samples_of(piece.fade_out)
        steps.append(f"afade=t=out:ss={samples - fade}:ns={fade}")
    return ",".join(steps)

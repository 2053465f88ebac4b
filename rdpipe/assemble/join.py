"""The final join: the listed files' video copied into one MP4, the sound encoded to AAC once.

Two paths lead here, and which one is a type, not a flag: :class:`CopiedClips` lists the clips
as they are, under their sound cut to each picture in one raw PCM file (see
:mod:`rdpipe.assemble.clip_sound`); :class:`NormalisedPieces` lists the normalised pieces,
whose own PCM is the sound. Either sound is sample-exact, mixed with the music and loudness
filters when set. The scratch files (concat list, chapters) go to the assembly's work folder,
and every file operation runs in a worker thread, off the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread

from rdpipe.assemble.argv import build_concat_argv
from rdpipe.assemble.chapters import format_ffmetadata
from rdpipe.assemble.concat import format_concat_list, timestamp_warnings
from rdpipe.assemble.join_plan import JoinPlan, Span
from rdpipe.assemble.music import build_audio_graph, music_input
from rdpipe.assemble.runner import run_ffmpeg, run_ffmpeg_measured
from rdpipe.files import writing_to
from rdpipe.model.output import OutputSpec
from rdpipe.progress_steps import StepCounter, StepListener

#: A file of the concat list, and the seconds after which the next one starts.
Listed = tuple[Path, float]


@dataclass(frozen=True, kw_only=True)
class JoinOptions:
    """How one assembly runs its ffmpeg steps, whichever path its join takes."""

    ffmpeg: str
    spec: OutputSpec  # the music and loudness of the join
    output: Path  # the video; written beside it as a partial file, then renamed
    work: Path  # this assembly's scratch folder: concat list, chapters, PCM
    base_dir: Path  # resolves ``spec``'s relative music path
    concurrency: int  # ffmpeg processes at once
    progress: StepListener | None = None  # hears the long steps (normalising, joining)


@dataclass(frozen=True)
class CopiedClips:
    """The copy path: the clips' video as it is, under ``sound`` (raw PCM, each clip's sound
    cut to its picture). A join that reports broken timestamps leaves no file."""

    files: tuple[Listed, ...]
    sound: Path


@dataclass(frozen=True)
class NormalisedPieces:
    """The normalise path: the cached pieces, each holding its own sample-exact PCM."""

    files: tuple[Listed, ...]


JoinSource = CopiedClips | NormalisedPieces


@dataclass(frozen=True)
class _Scratch:
    """The join's inputs besides the listed files, written or checked before ffmpeg runs."""

    concat_list: Path
    metadata: Path | None  # chapters, when the plan has any
    music: str | None  # what ffmpeg reads the music from


async def run_join(options: JoinOptions, plan: JoinPlan, source: JoinSource) -> bool:
    """Join ``source`` into :attr:`JoinOptions.output`; ``False`` when a copy join reported
    broken timestamps and left no file (the caller normalises instead).

    Raises :class:`~rdpipe.assemble.errors.FfmpegFailed` when ffmpeg fails, and
    :class:`~rdpipe.assemble.errors.AssemblyInvalid` for a music file that holds no sound.
    """
    scratch = await anyio.to_thread.run_sync(_write_scratch, options, source.files, plan.chapters)
    sound = source.sound if isinstance(source, CopiedClips) else None
    first_source = 2 if scratch.metadata is not None else 1
    clips_label = "[0:a:0]" if sound is None else f"[{first_source}:a]"
    music_index = None if scratch.music is None else first_source + (sound is not None)
    graph = build_audio_graph(options.spec, duration=plan.duration, music_input=music_index,
                              clips=clips_label)  # fmt: skip
    unfinished = _unfinished(options.output)
    argv = build_concat_argv(options.ffmpeg, scratch.concat_list, unfinished,
                             metadata=scratch.metadata, sound=sound, music=scratch.music,
                             audio_graph=";".join(graph) or None)  # fmt: skip
    step = f"joining the clips into {options.output.name}"
    if options.progress is None:
        stderr = await run_ffmpeg(argv, step=step)
    else:
        seconds = max(1, round(plan.duration))
        counter = StepCounter(options.progress, "joining", seconds, "seconds")
        stderr = await run_ffmpeg_measured(argv, step=step, seconds=seconds, counter=counter)
    whole = not (isinstance(source, CopiedClips) and timestamp_warnings(stderr))
    await anyio.to_thread.run_sync(_settle, unfinished, options.output if whole else None)
    return whole


def _write_scratch(
    options: JoinOptions, files: tuple[Listed, ...], chapters: tuple[Span, ...]
) -> _Scratch:
    """Write the concat list and the chapters, check the music, make the output's folder.

    Blocking: run it in a worker thread.
    """
    concat_list = options.work / "clips.ffconcat"
    with writing_to(concat_list):  # a full disk names no file
        concat_list.write_text(format_concat_list(files), encoding="utf-8")
    metadata = None
    if chapters:
        metadata = options.work / "chapters.ffmeta"
        with writing_to(metadata):
            metadata.write_text(format_ffmetadata(chapters), encoding="utf-8")
    music = music_input(options.spec, options.base_dir)
    options.output.parent.mkdir(parents=True, exist_ok=True)
    return _Scratch(concat_list, metadata, music)


def _unfinished(output: Path) -> Path:
    """Where ffmpeg writes the video until it is whole: a hidden file beside it."""
    return output.with_name(f".{output.stem}.partial.mp4")


def _settle(unfinished: Path, output: Path | None) -> None:
    """Rename the joined file into place, or remove it when ``output`` is ``None``. Blocking."""
    if output is None:
        unfinished.unlink(missing_ok=True)
    else:
        unfinished.replace(output)

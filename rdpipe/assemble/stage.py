"""The assembly stage: probe the clips, plan the join, copy or normalise, then the sidecars."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from itertools import accumulate
from pathlib import Path

import anyio.to_thread

from rdpipe.assemble.argv import build_concat_argv, build_sound_argv
from rdpipe.assemble.chapters import format_ffmetadata, format_srt, format_vtt
from rdpipe.assemble.completeness import check_clips_whole
from rdpipe.assemble.concat import format_concat_list, timestamp_warnings
from rdpipe.assemble.contact_sheet import SheetEntry, write_contact_sheet
from rdpipe.assemble.mp4_header import header_signature
from rdpipe.assemble.music import build_audio_graph, music_input
from rdpipe.assemble.normalise import Encoder, digest_files, normalise_pieces
from rdpipe.assemble.parallel import run_all
from rdpipe.assemble.plan import (
    ClipInput,
    ClipPiece,
    CrossfadePiece,
    JoinPlan,
    Piece,
    Span,
    plan_join,
)
from rdpipe.assemble.probe import ClipInfo
from rdpipe.assemble.probe_cache import ProbeCache, probe_remembered
from rdpipe.assemble.runner import run_ffmpeg
from rdpipe.assemble.target import SAMPLE_RATE, TargetFormat
from rdpipe.files import write_atomically
from rdpipe.model.output import OutputSpec
from rdpipe.model.timeline import exact, round_half_up
from rdpipe.state import MediaVerdicts
from rdpipe.text import FontChain, load_font_chain, system_fonts

_SOUND_BATCH = 64  # clips one ffmpeg reads the sound of at once


@dataclass(frozen=True)
class AssemblyResult:
    """What the stage produced; ``encoded`` counts pieces encoded now (cache misses)."""

    output: Path
    duration: float
    copied: bool
    reason: str
    encoded: int
    chapters: tuple[Span, ...]
    sidecars: tuple[Path, ...]


async def probe_clips(
    clips: Sequence[ClipInput], *, concurrency: int | None = None, cache: ProbeCache | None = None
) -> list[ClipInfo]:
    """Probe every clip once, recalling unchanged ones from ``cache``; errors name the shot.

    A clip whose MP4 header matches an already probed one's box for box (see
    :mod:`rdpipe.assemble.mp4_header`) takes that probe. Work is dealt into ``concurrency``
    batches (by default one per core), each run in one worker thread.
    """
    batches = max(1, min(concurrency or os.cpu_count() or 1, len(clips)))
    infos: list[ClipInfo | None] = [None] * len(clips)
    signatures: list[bytes | None] = [None] * len(clips)

    def _recall(first: int) -> None:
        for index in range(first, len(clips), batches):
            path = clips[index].path
            infos[index] = cache.recall_info(path) if cache is not None else None
            if infos[index] is None:
                signatures[index] = header_signature(path)

    await _in_batches(_recall, batches)
    # Each clip to probe, or the earlier clip whose probe it takes (its header twin).
    first_of: dict[bytes, int] = {}
    source = {}
    for index, info in enumerate(infos):
        signature = signatures[index]
        if info is None:
            source[index] = index if signature is None else first_of.setdefault(signature, index)
    probed = [index for index, origin in source.items() if origin == index]

    def _probe(first: int) -> None:
        for index in probed[first::batches]:
            clip = clips[index]
            infos[index] = probe_remembered(clip.path, shot_id=clip.shot_id, cache=cache)

    await _in_batches(_probe, batches)
    for index, origin in source.items():
        twin = infos[origin]
        if origin != index and twin is not None:
            infos[index] = replace(twin, path=clips[index].path)
            if cache is not None:
                cache.remember_info(replace(twin, path=clips[index].path))
    return [info for info in infos if info is not None]


async def _in_batches(work: Callable[[int], None], batches: int) -> None:
    """Run ``work(0)`` .. ``work(batches - 1)`` each in its own worker thread."""
    await run_all([partial(anyio.to_thread.run_sync, work, i) for i in range(batches)],
                  limit=batches)  # fmt: skip


async def assemble(
    clips: Sequence[ClipInput],
    spec: OutputSpec,
    *,
    output: Path,
    cache_dir: Path,
    ffmpeg: str,
    target: TargetFormat | None = None,
    concurrency: int | None = None,
    base_dir: Path | None = None,
) -> AssemblyResult:
    """Build the storyboard video at ``output`` from the clips, plus its sidecar files.

    Clips that share every stream parameter are joined by stream copy; otherwise each is
    normalised once into ``cache_dir`` (``concurrency`` encodes at a time, by default one per
    core) and the normalised pieces are joined by copy. ``base_dir`` resolves the relative
    paths of ``spec``.
    """
    cores = os.cpu_count() or 1
    base = base_dir if base_dir is not None else output.parent
    fonts = await anyio.to_thread.run_sync(
        lambda: load_font_chain(spec.font, base, system=system_fonts())
    )
    probes = await anyio.to_thread.run_sync(ProbeCache, cache_dir / "probes.json")
    # Only whole clips are joined (issue 11 §3): a header may promise what is not there.
    verdicts = MediaVerdicts(cache_dir / "media.json")
    await check_clips_whole(clips, digests=probes, verdicts=verdicts)
    infos = await probe_clips(clips, cache=probes)
    plan = plan_join(clips, infos, spec, target)
    work = Path(tempfile.mkdtemp(prefix="join-", dir=_ensure(cache_dir)))
    try:
        encoded = 0
        if plan.copy and not await _join_copy(
            plan, infos, spec, output, work, ffmpeg, base, concurrency or cores
        ):
            plan = plan_join(clips, infos, spec, target, copy_refused="the copy join was unclean")
        if not plan.copy:
            encoder = Encoder(ffmpeg, plan.target, spec.preset, spec.crf, cache_dir, base, cores,
                              fonts=fonts)  # fmt: skip
            encoded = await _join_normalised(
                plan, encoder, spec, output, work, concurrency or cores, probes
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
        await anyio.to_thread.run_sync(probes.save)
    sidecars = await _write_sidecars(plan, clips, infos, spec, output, fonts)
    return AssemblyResult(output, plan.duration, plan.copy, plan.reason, encoded,
                          plan.chapters, sidecars)  # fmt: skip


async def _join_copy(
    plan: JoinPlan,
    infos: Sequence[ClipInfo],
    spec: OutputSpec,
    output: Path,
    work: Path,
    ffmpeg: str,
    base: Path,
    cores: int,
) -> bool:
    """Join the clips' video as it is, under their sound cut to it; ``False`` when ffmpeg
    reported broken timestamps."""
    lengths = [i.video_duration for i in infos]
    entries = [(i.path, round(length, 6)) for i, length in zip(infos, lengths, strict=True)]
    shots = [p.shot_id for p in plan.pieces if isinstance(p, ClipPiece)]
    sound = await _write_clip_sound(shots, infos, _slot_samples(lengths), work, ffmpeg, cores)
    warnings = await _run_join(plan, entries, spec, output, work, ffmpeg, base, sound=sound)
    return not warnings


async def _write_clip_sound(
    shots: Sequence[str],
    infos: Sequence[ClipInfo],
    samples: Sequence[int],
    work: Path,
    ffmpeg: str,
    cores: int,
) -> Path:
    """The copied clips' sound as one raw PCM file, each clip exactly its picture's samples.

    Batches of clips are read by one ffmpeg each, ``cores`` at a time (one ffmpeg reading
    hundreds of files holds them all open at once), and their files appended in order.
    """
    size = min(_SOUND_BATCH, -(-len(infos) // max(1, cores)))
    batches = [range(first, min(first + size, len(infos))) for first in range(0, len(infos), size)]
    parts = [work / f"sound-{number}.pcm" for number in range(len(batches))]

    async def _read(batch: range, part: Path) -> None:
        argv = build_sound_argv(ffmpeg, [(infos[i], samples[i]) for i in batch], part)
        names = f"{shots[batch[0]]!r}" + (f" to {shots[batch[-1]]!r}" if len(batch) > 1 else "")
        await run_ffmpeg(argv, step=f"reading the sound of shot {names}")

    await run_all([partial(_read, b, p) for b, p in zip(batches, parts, strict=True)], limit=cores)
    if len(parts) == 1:
        return parts[0]
    sound = work / "sound.pcm"
    await anyio.to_thread.run_sync(_append_files, parts, sound)
    return sound


def _append_files(parts: Sequence[Path], dest: Path) -> None:
    with dest.open("wb") as out:
        for part in parts:
            with part.open("rb") as source:
                shutil.copyfileobj(source, out, 1 << 20)
            part.unlink()


async def _join_normalised(
    plan: JoinPlan,
    encoder: Encoder,
    spec: OutputSpec,
    output: Path,
    work: Path,
    concurrency: int,
    probes: ProbeCache,
) -> int:
    """Normalise the pieces not yet in the cache, then join them: video copied, PCM encoded."""
    sources = [i.path for p in plan.pieces for i in _infos_of(p)]
    digests = await digest_files(sources, cache=probes)
    paths, encoded = await normalise_pieces(plan.pieces, encoder, digests, concurrency=concurrency)
    target = plan.target
    entries = [
        (path, target.seconds_of(p.frames)) for path, p in zip(paths, plan.pieces, strict=True)
    ]
    await _run_join(plan, entries, spec, output, work, encoder.ffmpeg, encoder.base_dir,
                    sound=None)  # fmt: skip
    return encoded


async def _run_join(
    plan: JoinPlan,
    entries: Sequence[tuple[Path, float]],
    spec: OutputSpec,
    output: Path,
    work: Path,
    ffmpeg: str,
    base: Path,
    *,
    sound: Path | None,
) -> list[str]:
    """Run the concat join into a partial file, rename it into place, return timestamp warnings.

    ``sound`` is the copy path's PCM (the clips' sound cut to their pictures); without it the
    sound is the listed pieces' own PCM. Either is sample-exact, mixed with the music and
    loudness filters when set, and encoded to AAC once. A copy join that reports broken
    timestamps leaves no file.
    """
    concat_list = work / "clips.ffconcat"
    concat_list.write_text(format_concat_list(entries), encoding="utf-8")
    metadata = None
    if plan.chapters:
        metadata = work / "chapters.ffmeta"
        metadata.write_text(format_ffmetadata(plan.chapters), encoding="utf-8")
    music = await anyio.to_thread.run_sync(music_input, spec, base)
    first_source = 2 if metadata is not None else 1
    clips_label = "[0:a:0]" if sound is None else f"[{first_source}:a]"
    music_index = None if music is None else first_source + (sound is not None)
    graph = build_audio_graph(spec, duration=plan.duration, music_input=music_index,
                              clips=clips_label)  # fmt: skip
    _ensure(output.parent)
    unfinished = output.with_name(f".{output.stem}.partial.mp4")
    argv = build_concat_argv(ffmpeg, concat_list, unfinished, metadata=metadata, sound=sound,
                             music=music, audio_graph=";".join(graph) or None)  # fmt: skip
    stderr = await run_ffmpeg(argv, step=f"joining the clips into {output.name}")
    warnings = timestamp_warnings(stderr)
    if warnings and sound is not None:
        unfinished.unlink(missing_ok=True)
        return warnings
    unfinished.replace(output)
    return warnings


def _slot_samples(lengths: Sequence[float]) -> list[int]:
    """Samples of each clip's slot, rounded so the running total never drifts."""
    ends = [round_half_up(exact(end) * SAMPLE_RATE) for end in accumulate(lengths)]
    return [end - start for start, end in zip([0, *ends[:-1]], ends, strict=True)]


async def _write_sidecars(
    plan: JoinPlan,
    clips: Sequence[ClipInput],
    infos: Sequence[ClipInfo],
    spec: OutputSpec,
    output: Path,
    fonts: FontChain,
) -> tuple[Path, ...]:
    written: list[Path] = []
    formats = {"srt": format_srt, "vtt": format_vtt}
    if plan.cues:
        for suffix in spec.captions.sidecars:
            written.append(
                _write_text(output.with_suffix(f".{suffix}"), formats[suffix](plan.cues))
            )
    if spec.contact_sheet:
        entries = [
            SheetEntry(c.shot_id, c.path, _middle(c, i), c.prompt)
            for c, i in zip(clips, infos, strict=True)
        ]
        sheet = output.with_suffix(".contact.png")
        written.append(await write_contact_sheet(entries, sheet, fonts=fonts))
    return tuple(written)


def _middle(clip: ClipInput, info: ClipInfo) -> float:
    start = clip.trim.start if clip.trim else 0.0
    end = clip.trim.end if clip.trim and clip.trim.end else info.video_duration
    return (start + min(end, info.video_duration)) / 2


def _infos_of(piece: Piece) -> list[ClipInfo]:
    if isinstance(piece, ClipPiece):
        return [piece.info]
    if isinstance(piece, CrossfadePiece):
        return [piece.before.info, piece.after.info]
    return []


def _write_text(path: Path, text: str) -> Path:
    write_atomically(path, text.encode("utf-8"))
    return path


def _ensure(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return directory

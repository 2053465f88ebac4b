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

from rdpipe.assemble.argv import build_concat_argv
from rdpipe.assemble.chapters import format_ffmetadata, format_srt, format_vtt
from rdpipe.assemble.completeness import check_clips_whole
from rdpipe.assemble.concat import build_priming_drop_bsf, format_concat_list, timestamp_warnings
from rdpipe.assemble.contact_sheet import SheetEntry, write_contact_sheet
from rdpipe.assemble.errors import AssemblyInvalid
from rdpipe.assemble.mp4_header import header_signature
from rdpipe.assemble.music import build_audio_graph, build_clip_audio_chain
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
from rdpipe.state import MediaVerdicts
from rdpipe.text import FontChain, load_font_chain, system_fonts


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
        if plan.copy and not await _join_copy(plan, infos, spec, output, work, ffmpeg, base):
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
) -> bool:
    """Join the clips as they are; ``False`` when ffmpeg reported broken timestamps."""
    entries = [(i.path, round(i.container_duration, 6)) for i in infos]
    warnings = await _run_join(
        plan, entries, spec, output, work, ffmpeg, base, copy=infos, listed=infos
    )
    return not warnings


async def _join_normalised(
    plan: JoinPlan,
    encoder: Encoder,
    spec: OutputSpec,
    output: Path,
    work: Path,
    concurrency: int,
    probes: ProbeCache,
) -> int:
    """Normalise the pieces not yet in the cache, then join them all by stream copy."""
    sources = [i.path for p in plan.pieces for i in _infos_of(p)]
    digests = await digest_files(sources, cache=probes)
    paths, encoded = await normalise_pieces(plan.pieces, encoder, digests, concurrency=concurrency)
    target = plan.target
    entries = [
        (path, target.seconds_of(p.frames)) for path, p in zip(paths, plan.pieces, strict=True)
    ]
    # Pieces are probed (once: they never change) for their AAC priming, dropped at the joins.
    listed = None
    if not _mixes_audio(spec):
        named = [ClipInput(f"piece {i}", path) for i, path in enumerate(paths)]
        listed = await probe_clips(named, cache=probes)
    await _run_join(plan, entries, spec, output, work, encoder.ffmpeg, encoder.base_dir,
                    copy=None, listed=listed)  # fmt: skip
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
    copy: Sequence[ClipInfo] | None,
    listed: Sequence[ClipInfo] | None,
) -> list[str]:
    """Run the concat join into a partial file, rename it into place, return timestamp warnings.

    ``copy`` are the clips on the copy path; ``listed`` the probes of the listed files, whose
    AAC is copied (priming dropped) unless the sound is mixed, which decodes it instead.
    """
    concat_list = work / "clips.ffconcat"
    concat_list.write_text(format_concat_list(entries), encoding="utf-8")
    metadata = None
    if plan.chapters:
        metadata = work / "chapters.ffmeta"
        metadata.write_text(format_ffmetadata(plan.chapters), encoding="utf-8")
    music = _music_source(spec, base)
    sources = [i.path for i in copy] if copy is not None and _mixes_audio(spec) else []
    first_source = 2 if metadata is not None else 1
    graph: list[str] = []
    # Normalised pieces carry AAC first and sample-exact PCM second: mix the PCM.
    clips_label = "[0:a]" if copy is not None else "[0:a:1]"
    if sources and copy is not None:
        samples = _slot_samples([i.container_duration for i in copy])
        graph.append(build_clip_audio_chain(first_source, samples))
        clips_label = "[clips]"
    music_input = None if music is None else first_source + len(sources)
    graph += build_audio_graph(
        spec, duration=plan.duration, music_input=music_input, clips=clips_label
    )
    bsf = None
    if listed is not None and not graph:
        bsf = build_priming_drop_bsf(listed) or "null"
    _ensure(output.parent)
    unfinished = output.with_name(f".{output.stem}.partial.mp4")
    argv = build_concat_argv(ffmpeg, concat_list, unfinished, metadata=metadata,
                             audio_sources=sources, music=music,
                             audio_graph=";".join(graph) or None, audio_bsf=bsf)  # fmt: skip
    stderr = await run_ffmpeg(argv, step=f"joining the clips into {output.name}")
    warnings = timestamp_warnings(stderr)
    if warnings and copy is not None:
        unfinished.unlink(missing_ok=True)
        return warnings
    unfinished.replace(output)
    return warnings


def _mixes_audio(spec: OutputSpec) -> bool:
    return spec.music is not None or spec.loudness is not None


def _slot_samples(lengths: Sequence[float]) -> list[int]:
    """Samples of each clip's slot, rounded so the running total never drifts."""
    ends = list(accumulate(round(length * SAMPLE_RATE) for length in lengths))
    return [end - start for start, end in zip([0, *ends[:-1]], ends, strict=True)]


def _music_source(spec: OutputSpec, base: Path) -> str | None:
    if spec.music is None:
        return None
    source = spec.music.source
    if source.startswith(("http://", "https://")):
        return source
    path = base / source
    if not path.is_file():
        raise AssemblyInvalid(f"music file not found: {path}")
    return str(path)


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

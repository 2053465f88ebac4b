"""The assembly stage: check and probe the clips, plan the join, copy or normalise, then the
sidecars.

A clip goes through these steps, each a function of its own module: :func:`check_clips_whole`
(its digest, the one it carries or else read, and its media's verdict), :func:`probe_clips`,
:func:`plan_join`; then either the copy path (:func:`write_clip_sound`, :func:`run_join` of
:class:`CopiedClips`) or, when the clips differ or the copy join was unclean, the normalise
path (:func:`normalise_pieces` keyed by those digests, :func:`run_join` of
:class:`NormalisedPieces`); last :func:`write_sidecars`. File work runs in worker threads.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import anyio
import anyio.to_thread

from rdpipe.assemble.clip_probes import probe_clips
from rdpipe.assemble.clip_sound import write_clip_sound
from rdpipe.assemble.completeness import check_clips_whole
from rdpipe.assemble.join import CopiedClips, JoinOptions, NormalisedPieces, run_join
from rdpipe.assemble.join_plan import (
    ClipInput,
    ClipPiece,
    CrossfadePiece,
    JoinPlan,
    Piece,
    Span,
    plan_join,
)
from rdpipe.assemble.length_limit import check_length
from rdpipe.assemble.normalise import EncodeOptions, digest_files, normalise_pieces
from rdpipe.assemble.otio_timeline import write_timeline
from rdpipe.assemble.probe import ClipInfo
from rdpipe.assemble.probe_cache import ProbeCache
from rdpipe.assemble.sidecars import write_sidecars
from rdpipe.assemble.target import TargetFormat
from rdpipe.model.deliverables import DeliverableSpec, SafeArea
from rdpipe.model.output import OutputSpec
from rdpipe.progress_steps import StepListener
from rdpipe.state import MediaVerdicts
from rdpipe.text import load_font_chain, system_fonts


@dataclass(frozen=True, kw_only=True)
class AssemblyResult:
    """What the stage produced; ``encoded`` counts pieces encoded now (cache misses)."""

    output: Path
    duration: float  # seconds
    copied: bool  # joined by stream copy, nothing encoded but the sound
    reason: str  # why the clips were copied or normalised
    encoded: int
    chapters: tuple[Span, ...]
    sidecars: tuple[Path, ...]  # caption files and contact sheet written beside the video


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
    verdicts: MediaVerdicts | None = None,
    progress: StepListener | None = None,
) -> AssemblyResult:
    """Build the storyboard video at ``output`` from the clips, plus its sidecar files.

    Clips that share every stream parameter are joined by stream copy; otherwise each is
    normalised once into ``cache_dir`` (``concurrency`` encodes at a time, by default one per
    core) and the normalised pieces are joined by copy. ``base_dir`` resolves the relative
    paths of ``spec``. ``verdicts``: what is known of the clips' media (a run's clip store's);
    by default those kept in ``cache_dir``. ``progress`` hears the long steps: "normalising"
    (pieces encoded of those to encode), "joining" (seconds of video written of its length)
    and "contact sheet" (shots whose frame is on it).
    """
    cores = os.cpu_count() or 1
    base = base_dir if base_dir is not None else output.parent
    fonts = await anyio.to_thread.run_sync(
        lambda: load_font_chain(spec.font, base, system=system_fonts())
    )
    probes, known = await anyio.to_thread.run_sync(_open_caches, cache_dir, verdicts)
    # Only whole clips are joined (issue 11 §3): a header may promise what is not there.
    digests = await check_clips_whole(clips, digests=probes, verdicts=known)
    infos = await probe_clips(clips, cache=probes)
    plan = plan_join(clips, infos, spec, target)
    encoded = 0
    try:
        async with _work_folder(cache_dir) as work:
            options = JoinOptions(ffmpeg=ffmpeg, spec=spec, output=output, work=work,
                                  base_dir=base, concurrency=concurrency or cores,
                                  progress=progress)  # fmt: skip
            if plan.copy and not await _join_copied(options, plan):
                plan = plan_join(clips, infos, spec, target,
                                 copy_refused="the copy join was unclean")  # fmt: skip
            if not plan.copy:
                encoding = EncodeOptions(ffmpeg=ffmpeg, target=plan.target, preset=spec.preset,
                                         crf=spec.crf, cache_dir=cache_dir, base_dir=base,
                                         fonts=fonts, cores=cores,
                                         safe_area=_safe_area(spec))  # fmt: skip
                encoded = await _join_normalised(options, plan, encoding, digests, probes)
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(probes.save)
    await check_length(spec, output)
    sidecars = await write_sidecars(
        plan, clips, infos, spec=spec, output=output, fonts=fonts, progress=progress
    )
    # The editors' timeline beside the video (issue 17 §3).
    await write_timeline(
        plan, clips, spec=spec, output=output, ffmpeg=ffmpeg, base_dir=base, fonts=fonts
    )
    return AssemblyResult(output=output, duration=plan.duration, copied=plan.copy,
                          reason=plan.reason, encoded=encoded, chapters=plan.chapters,
                          sidecars=sidecars)  # fmt: skip


def _safe_area(spec: OutputSpec) -> SafeArea | None:
    """Where a deliverable's burned captions go; ``None`` for an ``output:`` block."""
    return spec.safe_area if isinstance(spec, DeliverableSpec) else None


async def _join_copied(options: JoinOptions, plan: JoinPlan) -> bool:
    """Join the clips' video as it is, under their sound cut to it; ``False`` when ffmpeg
    reported broken timestamps."""
    clips = [piece for piece in plan.pieces if isinstance(piece, ClipPiece)]
    sound = await write_clip_sound(options, clips)
    files = tuple((clip.info.path, round(clip.info.video_duration, 6)) for clip in clips)
    return await run_join(options, plan, CopiedClips(files, sound))


async def _join_normalised(
    options: JoinOptions,
    plan: JoinPlan,
    encoding: EncodeOptions,
    whole: Mapping[Path, str],
    probes: ProbeCache,
) -> int:
    """Normalise the pieces not yet in the cache, then join them; how many were encoded now.

    ``whole``: the digests of the clips checked whole (every source, unless one appeared since).
    """
    sources = [info.path for piece in plan.pieces for info in _infos_of(piece)]
    late = [path for path in sources if path not in whole]
    digests = {**await digest_files(late, cache=probes), **whole}
    paths, encoded = await normalise_pieces(
        plan.pieces, encoding, digests, concurrency=options.concurrency, progress=options.progress
    )
    seconds = [plan.target.seconds_of(piece.frames) for piece in plan.pieces]
    await run_join(options, plan, NormalisedPieces(tuple(zip(paths, seconds, strict=True))))
    return encoded


def _infos_of(piece: Piece) -> list[ClipInfo]:
    """The probed clips a piece is cut from (none for a card)."""
    if isinstance(piece, ClipPiece):
        return [piece.info]
    if isinstance(piece, CrossfadePiece):
        return [piece.before.info, piece.after.info]
    return []


def _open_caches(
    cache_dir: Path, verdicts: MediaVerdicts | None
) -> tuple[ProbeCache, MediaVerdicts]:
    """The probe cache kept in ``cache_dir``, and ``verdicts`` or else the media verdicts kept
    there. Blocking (reads them)."""
    probes = ProbeCache(cache_dir / "probes.json")
    return probes, MediaVerdicts(cache_dir) if verdicts is None else verdicts


@asynccontextmanager
async def _work_folder(cache_dir: Path) -> AsyncIterator[Path]:
    """A fresh scratch folder in ``cache_dir`` for one assembly, removed afterwards whatever
    happens (even when cancelled); both in worker threads."""
    work = await anyio.to_thread.run_sync(_make_work_folder, cache_dir)
    try:
        yield work
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(partial(shutil.rmtree, work, ignore_errors=True))


def _make_work_folder(cache_dir: Path) -> Path:
    cache_dir.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="join-", dir=cache_dir))

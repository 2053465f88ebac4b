"""The videos of a run: every deliverable, each joined by the assembly stage from the clips
:mod:`.deliverable_clips` chooses for it.

``run`` and ``assemble`` build them here, one after the other, sharing the cache folder: the
normalised pieces (keyed by the clips' content and the frame's size and rate, so deliverables
of one size share them), the probes and the digests. Re-assembly of a deliverable is skipped
when its video was already built from exactly the same inputs, so a no-op rerun costs no
encoding (and imports no assembly code: the inputs are compared as the stored clips and
rendered shots, before a :class:`~rdpipe.assemble.ClipInput` is made of each).
:func:`current_video` makes the same comparison without an event loop, for a run that has
nothing else to do.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from rdpipe.errors import RdpipeError
from rdpipe.files import write_atomically
from rdpipe.model.deliverables import MAIN, DeliverableSpec
from rdpipe.prepare.pipeline import PreparedPipeline
from rdpipe.progress_steps import StepListener
from rdpipe.scheduler import Outcome, ShotResult
from rdpipe.session.deliverable_clips import ChosenClip, choose_clips
from rdpipe.session.workspace import Workspace

if TYPE_CHECKING:
    from rdpipe.model.output import ClipTrim, OutputSpec
    from rdpipe.render import RenderedShot
    from rdpipe.state import MediaVerdicts, StoredClip

_FINGERPRINT_VERSION = 2  # bump when the same inputs make a different video


@dataclass(frozen=True)
class BuiltVideo:
    """One deliverable's video: its name (``main`` for an ``output:`` block) and path, and
    notes for the film-maker about the clips it shows (a regeneration without a clip yet)."""

    name: str
    path: Path
    notes: tuple[str, ...] = ()


def picked_takes(
    prepared: PreparedPipeline, results: Sequence[ShotResult], *, drafts: bool = False
) -> list[ShotResult]:
    """One result per shot, in storyboard order, as the first deliverable shows it: its pick,
    else its first finished take (for a drafted shot, its final or draft; see
    :mod:`.deliverable_clips`)."""
    first = prepared.loaded.pipeline.deliverables[0]
    return [chosen.result for chosen in choose_clips(prepared, results, first, drafts=drafts).clips]


def shots_without_clip(
    prepared: PreparedPipeline, results: Sequence[ShotResult], *, drafts: bool = False
) -> list[str]:
    """Shots with no finished take to put in the video (the pick, or any take)."""
    chosen = {result.shot_id for result in picked_takes(prepared, results, drafts=drafts)}
    return [shot.id for shot in prepared.loaded.pipeline.shots if shot.id not in chosen]


def shots_left_out(
    prepared: PreparedPipeline, results: Sequence[ShotResult], *, drafts: bool = False
) -> list[str]:
    """Shots with no clip that their ``on_failure: skip`` left out of the video (each of their
    takes without a clip ended skipped), in storyboard order."""
    by_shot: dict[str, list[ShotResult]] = {}
    for result in results:
        by_shot.setdefault(result.shot_id, []).append(result)
    return [
        shot_id
        for shot_id in shots_without_clip(prepared, results, drafts=drafts)
        if by_shot.get(shot_id)
        and all(result.outcome is Outcome.SKIPPED for result in by_shot[shot_id])
    ]


async def assemble_video(
    prepared: PreparedPipeline,
    results: Sequence[ShotResult],
    workspace: Workspace,
    *,
    verdicts: MediaVerdicts,
    environ: Mapping[str, str],
    progress: StepListener | None = None,
    drafts: bool = False,
) -> Path:
    """Build every deliverable (:func:`assemble_deliverables`); the first one's video."""
    built = await assemble_deliverables(
        prepared, results, workspace, verdicts=verdicts, environ=environ, progress=progress,
        drafts=drafts,
    )  # fmt: skip
    return built[0].path


async def assemble_deliverables(
    prepared: PreparedPipeline,
    results: Sequence[ShotResult],
    workspace: Workspace,
    *,
    verdicts: MediaVerdicts,
    environ: Mapping[str, str],
    progress: StepListener | None = None,
    drafts: bool = False,
) -> tuple[BuiltVideo, ...]:
    """Join the clips each deliverable shows, in storyboard order, into its video; in file
    order, one deliverable after the other.

    Each clip goes to the join with the digest the clip store gave it, and is judged whole or
    not by ``verdicts`` (the session's clip store's), so no clip is hashed again. Nothing is
    imported or encoded for a deliverable whose video was built from exactly these inputs.
    ``progress`` hears the long steps (:class:`~rdpipe.progress_steps.StepProgress`:
    normalising, joining). ``drafts``: assemble from the draft takes, into ``<stem>.draft.mp4``.
    Raises :class:`~rdpipe.errors.RdpipeError` when no shot has a clip.
    """
    built: list[BuiltVideo] = []
    ffmpeg: str | None = None
    for spec in prepared.loaded.pipeline.deliverables:
        cut = choose_clips(prepared, results, spec, drafts=drafts)
        joined = _joined_clips(prepared, cut.clips)
        if not joined:
            raise RdpipeError("no clip to assemble: no shot has finished yet")
        video = workspace.deliverable_video(spec, drafts=drafts)
        stamp = _stamp_of(workspace, spec, video)
        fingerprint = _assembly_fingerprint(joined, prepared, spec)
        if not await anyio.to_thread.run_sync(_up_to_date, video, stamp, fingerprint):
            if ffmpeg is None:
                ffmpeg = await anyio.to_thread.run_sync(_load_assembly, environ)
            await _assemble_one(prepared, joined, spec, video, workspace, ffmpeg=ffmpeg,
                                verdicts=verdicts, progress=progress)  # fmt: skip
            await anyio.to_thread.run_sync(_write_stamp, stamp, video, fingerprint)
        built.append(BuiltVideo(spec.name, video, cut.notes))
    return tuple(built)


async def _assemble_one(
    prepared: PreparedPipeline,
    joined: Sequence[tuple[RenderedShot, StoredClip, ChosenClip]],
    spec: DeliverableSpec,
    video: Path,
    workspace: Workspace,
    *,
    ffmpeg: str,
    verdicts: MediaVerdicts,
    progress: StepListener | None,
) -> None:
    """Join one deliverable's clips into ``video`` (the assembly stage is loaded)."""
    from rdpipe.assemble import ClipInput, assemble

    clips = [
        ClipInput(shot.id, clip.path, shot.request.prompt, shot.caption, _trim(prepared, shot),
                  sha256=clip.sha256, fit=chosen.fit, focus=chosen.focus)
        for shot, clip, chosen in joined
    ]  # fmt: skip
    await assemble(clips, _output_spec(prepared, spec), output=video,
                   cache_dir=workspace.cache_dir, ffmpeg=ffmpeg, base_dir=prepared.loaded.root,
                   verdicts=verdicts, progress=progress)  # fmt: skip


def current_video(
    prepared: PreparedPipeline,
    results: Sequence[ShotResult],
    workspace: Workspace,
    *,
    drafts: bool = False,
) -> Path | None:
    """The first deliverable's video, if :func:`assemble_deliverables` would leave every
    deliverable as it is: each built from exactly the clips ``results`` pick and untouched
    since; else ``None`` (also when no shot has a clip). Blocks: reads each video's stamp and
    a ``stat`` of it, imports nothing.
    """
    current = current_videos(prepared, results, workspace, drafts=drafts)
    return current[0].path if current else None


def current_videos(
    prepared: PreparedPipeline,
    results: Sequence[ShotResult],
    workspace: Workspace,
    *,
    drafts: bool = False,
) -> tuple[BuiltVideo, ...]:
    """Every deliverable's video, as :func:`current_video` judges them; empty unless each one
    is current. Blocks, imports nothing."""
    built: list[BuiltVideo] = []
    for spec in prepared.loaded.pipeline.deliverables:
        cut = choose_clips(prepared, results, spec, drafts=drafts)
        joined = _joined_clips(prepared, cut.clips)
        video = workspace.deliverable_video(spec, drafts=drafts)
        fingerprint = _assembly_fingerprint(joined, prepared, spec)
        if not joined or not _up_to_date(video, _stamp_of(workspace, spec, video), fingerprint):
            return ()
        built.append(BuiltVideo(spec.name, video, cut.notes))
    return tuple(built)


def _load_assembly(environ: Mapping[str, str]) -> str:
    """Import the assembly stage (PyAV with it) and find ffmpeg; both read files (blocking)."""
    importlib.import_module("rdpipe.assemble")
    from rdpipe.ffmpeg_path import find_ffmpeg

    return find_ffmpeg(environ)


def _joined_clips(
    prepared: PreparedPipeline, chosen: Sequence[ChosenClip]
) -> list[tuple[RenderedShot, StoredClip, ChosenClip]]:
    """Each chosen take that has a clip, in storyboard order: its rendered shot and its clip."""
    rendered = {(shot.id, shot.rendition, shot.take): shot for shot in prepared.shots}
    return [
        (rendered[each.result.shot_id, each.result.rendition, each.result.take], clip, each)
        for each in chosen
        if (clip := each.result.clip) is not None
    ]


def _trim(prepared: PreparedPipeline, shot: RenderedShot) -> ClipTrim | None:
    return prepared.loaded.pipeline.shots[shot.index].trim


def _output_spec(prepared: PreparedPipeline, spec: DeliverableSpec) -> OutputSpec:
    """What the join is told: the ``output:`` block as it is for a pipeline without
    ``outputs:`` (the video it always made), else the deliverable."""
    pipeline = prepared.loaded.pipeline
    return pipeline.output if pipeline.outputs is None else spec


def _assembly_fingerprint(
    joined: Sequence[tuple[RenderedShot, StoredClip, ChosenClip]],
    prepared: PreparedPipeline,
    spec: DeliverableSpec,
) -> str:
    """A digest of everything a deliverable's video is made from: the clips, their order, how
    each fills the frame and the spec.

    A clip counts by its content (size and SHA-256, as the store verified or adopted it), so
    nothing is read from disk here. The video's size and rate are the clips' own (or the
    spec's size, ratio and fps), never one computed from the storyboard's ratio (issue 11
    §4), so they need no part of their own. A pipeline with an ``output:`` block counts it as
    it always did.
    """
    parts: list[Any] = [
        _FINGERPRINT_VERSION,
        _output_spec(prepared, spec).model_dump(mode="json"),
    ]
    for shot, clip, chosen in joined:
        trim = _trim(prepared, shot)
        part = [shot.id, clip.relative, clip.size, clip.sha256, shot.caption,
                shot.request.prompt, trim.model_dump() if trim else None]  # fmt: skip
        if chosen.fit != "pad":
            part.append([chosen.fit, list(chosen.focus)])
        parts.append(part)
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _stamp_of(workspace: Workspace, spec: DeliverableSpec, video: Path) -> Path:
    """Where the fingerprint of the inputs a deliverable's video was last built from is kept."""
    prefix = "" if spec.name == MAIN else f"{spec.name}."
    return workspace.cache_dir / f"{prefix}{video.name}.inputs"


def _up_to_date(video: Path, stamp: Path, fingerprint: str) -> bool:
    """Whether ``video`` was built from exactly these inputs and is untouched since (blocks)."""
    try:
        recorded = stamp.read_text(encoding="utf-8").split()
        info = video.stat()
    except OSError:
        return False
    return recorded == [fingerprint, str(info.st_size), str(info.st_mtime_ns)]


def _write_stamp(stamp: Path, video: Path, fingerprint: str) -> None:
    """Note that ``video``, as it is on disk now, was built from ``fingerprint`` (blocks).

    A cache, not fsynced; a full disk raises a :class:`~rdpipe.files.FileWriteFailed` naming it.
    """
    info = video.stat()
    text = f"{fingerprint} {info.st_size} {info.st_mtime_ns}\n"
    write_atomically(stamp, text.encode("utf-8"), durable=False)

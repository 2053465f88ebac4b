"""The storyboard video of a run: the picked take of every shot, joined by the assembly stage.

``run`` and ``assemble`` build it here. Re-assembly is skipped when the video was already built
from exactly the same inputs, so a no-op rerun costs no encoding (and imports no assembly code:
the inputs are compared as the stored clips and rendered shots, before a
:class:`~rdpipe.assemble.ClipInput` is made of each). :func:`current_video` makes the same
comparison without an event loop, for a run that has nothing else to do.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from rdpipe.errors import RdpipeError
from rdpipe.files import write_atomically
from rdpipe.prepare.pipeline import PreparedPipeline
from rdpipe.progress_steps import StepListener
from rdpipe.scheduler import Outcome, ShotResult, picked_result
from rdpipe.session.workspace import Workspace

if TYPE_CHECKING:
    from rdpipe.model.output import ClipTrim
    from rdpipe.render import RenderedShot
    from rdpipe.state import MediaVerdicts, StoredClip

_FINGERPRINT_VERSION = 2  # bump when the same inputs make a different video


def picked_takes(prepared: PreparedPipeline, results: Sequence[ShotResult]) -> list[ShotResult]:
    """One result per shot, in storyboard order: its pick, else its first finished take."""
    by_shot: dict[str, list[ShotResult]] = {}
    for result in results:
        by_shot.setdefault(result.shot_id, []).append(result)
    chosen = []
    for shot in prepared.loaded.pipeline.shots:
        picked = picked_result(by_shot.get(shot.id, []), shot.pick)
        if picked is not None:
            chosen.append(picked)
    return chosen


def shots_without_clip(prepared: PreparedPipeline, results: Sequence[ShotResult]) -> list[str]:
    """Shots with no finished take to put in the video (the pick, or any take)."""
    chosen = {result.shot_id for result in picked_takes(prepared, results)}
    return [shot.id for shot in prepared.loaded.pipeline.shots if shot.id not in chosen]


def shots_left_out(prepared: PreparedPipeline, results: Sequence[ShotResult]) -> list[str]:
    """Shots with no clip that their ``on_failure: skip`` left out of the video (each of their
    takes without a clip ended skipped), in storyboard order."""
    by_shot: dict[str, list[ShotResult]] = {}
    for result in results:
        by_shot.setdefault(result.shot_id, []).append(result)
    return [
        shot_id
        for shot_id in shots_without_clip(prepared, results)
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
) -> Path:
    """Join the finished clips, in storyboard order, into the storyboard video.

    Each clip goes to the join with the digest the clip store gave it, and is judged whole or
    not by ``verdicts`` (the session's clip store's), so no clip is hashed again. Nothing is
    imported or encoded when the video was built from exactly these inputs. ``progress`` hears
    the long steps (:class:`~rdpipe.progress_steps.StepProgress`: normalising, joining). Raises
    :class:`~rdpipe.errors.RdpipeError` when no shot has a clip.
    """
    joined = _joined_clips(prepared, results)
    if not joined:
        raise RdpipeError("no clip to assemble: no shot has finished yet")
    stamp = _stamp_of(workspace)
    fingerprint = _assembly_fingerprint(joined, prepared)
    if await anyio.to_thread.run_sync(_up_to_date, workspace.video, stamp, fingerprint):
        return workspace.video
    ffmpeg = await anyio.to_thread.run_sync(_load_assembly, environ)
    from rdpipe.assemble import ClipInput, assemble  # loaded above

    outcome = await assemble(
        [
            ClipInput(
                shot.id,
                clip.path,
                shot.request.prompt,
                shot.caption,
                _trim(prepared, shot),
                sha256=clip.sha256,
            )
            for shot, clip in joined
        ],
        prepared.loaded.pipeline.output,
        output=workspace.video,
        cache_dir=workspace.cache_dir,
        ffmpeg=ffmpeg,
        base_dir=prepared.loaded.root,
        verdicts=verdicts,
        progress=progress,
    )
    await anyio.to_thread.run_sync(_write_stamp, stamp, outcome.output, fingerprint)
    return outcome.output


def current_video(
    prepared: PreparedPipeline, results: Sequence[ShotResult], workspace: Workspace
) -> Path | None:
    """The storyboard video, if :func:`assemble_video` would return it as it is: built from
    exactly the clips ``results`` pick and untouched since; else ``None`` (also when no shot has
    a clip). Blocks: reads the video's stamp and a ``stat`` of it, imports nothing.
    """
    joined = _joined_clips(prepared, results)
    if not joined:
        return None
    fingerprint = _assembly_fingerprint(joined, prepared)
    current = _up_to_date(workspace.video, _stamp_of(workspace), fingerprint)
    return workspace.video if current else None


def _load_assembly(environ: Mapping[str, str]) -> str:
    """Import the assembly stage (PyAV with it) and find ffmpeg; both read files (blocking)."""
    importlib.import_module("rdpipe.assemble")
    from rdpipe.ffmpeg_path import find_ffmpeg

    return find_ffmpeg(environ)


def _joined_clips(
    prepared: PreparedPipeline, results: Sequence[ShotResult]
) -> list[tuple[RenderedShot, StoredClip]]:
    """The picked take of every shot that has a clip, in storyboard order, and that clip."""
    rendered = {(shot.id, shot.take): shot for shot in prepared.shots}
    return [
        (rendered[take.shot_id, take.take], take.clip)
        for take in picked_takes(prepared, results)
        if take.clip is not None
    ]


def _trim(prepared: PreparedPipeline, shot: RenderedShot) -> ClipTrim | None:
    return prepared.loaded.pipeline.shots[shot.index].trim


def _assembly_fingerprint(
    joined: Sequence[tuple[RenderedShot, StoredClip]], prepared: PreparedPipeline
) -> str:
    """A digest of everything the video is made from: the clips, their order and the spec.

    A clip counts by its content (size and SHA-256, as the store verified or adopted it), so
    nothing is read from disk here. The video's size and rate are the clips' own (or
    ``output.size``/``output.fps``), never one computed from the storyboard's ratio (issue 11
    §4), so they need no part of their own.
    """
    parts: list[Any] = [
        _FINGERPRINT_VERSION,
        prepared.loaded.pipeline.output.model_dump(mode="json"),
    ]
    for shot, clip in joined:
        trim = _trim(prepared, shot)
        parts.append(
            [shot.id, clip.relative, clip.size, clip.sha256, shot.caption, shot.request.prompt,
             trim.model_dump() if trim else None]
        )  # fmt: skip
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _stamp_of(workspace: Workspace) -> Path:
    """Where the fingerprint of the inputs the video was last built from is kept."""
    return workspace.cache_dir / f"{workspace.video.name}.inputs"


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

"""The storyboard video of a run: the picked take of every shot, joined by the assembly stage.

``run`` and ``assemble`` build it here. Re-assembly is skipped when the video was already built
from exactly the same inputs, so a no-op rerun costs no encoding.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdpipe.errors import RdpipeError
from rdpipe.model.output import ClipTrim
from rdpipe.prepare.pipeline import PreparedPipeline
from rdpipe.scheduler import ShotResult, picked_result
from rdpipe.session.workspace import Workspace

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


async def assemble_video(
    prepared: PreparedPipeline,
    results: Sequence[ShotResult],
    workspace: Workspace,
    *,
    environ: Mapping[str, str],
) -> Path:
    """Join the finished clips, in storyboard order, into the storyboard video.

    Nothing is imported or encoded when the video was built from exactly these inputs.
    """
    shots = {shot.id: shot for shot in prepared.loaded.pipeline.shots}
    rendered = {(shot.id, shot.take): shot for shot in prepared.shots}
    pieces = [
        _Piece(
            shot_id=result.shot_id,
            path=workspace.output_dir / result.clip,
            prompt=rendered[result.shot_id, result.take].request.prompt,
            caption=rendered[result.shot_id, result.take].caption,
            trim=shots[result.shot_id].trim,
        )
        for result in picked_takes(prepared, results)
        if result.clip is not None
    ]
    if not pieces:
        raise RdpipeError("no clip to assemble: no shot has finished yet")
    stamp = workspace.output_dir / ".cache" / f"{workspace.video.name}.inputs"
    fingerprint = _assembly_fingerprint(pieces, prepared)
    if _up_to_date(workspace.video, stamp, fingerprint):
        return workspace.video
    from rdpipe.assemble import ClipInput, assemble
    from rdpipe.ffmpeg_path import find_ffmpeg

    outcome = await assemble(
        [ClipInput(p.shot_id, p.path, p.prompt, p.caption, p.trim) for p in pieces],
        prepared.loaded.pipeline.output,
        output=workspace.video,
        cache_dir=workspace.output_dir / ".cache",
        ffmpeg=find_ffmpeg(environ),
        base_dir=prepared.loaded.root,
    )
    video = outcome.output.stat()
    stamp.write_text(f"{fingerprint} {video.st_size} {video.st_mtime_ns}\n", encoding="utf-8")
    return outcome.output


@dataclass(frozen=True)
class _Piece:
    shot_id: str
    path: Path
    prompt: str
    caption: str | None
    trim: ClipTrim | None


def _assembly_fingerprint(pieces: Sequence[_Piece], prepared: PreparedPipeline) -> str:
    """A digest of everything the video is made from: clip files, their order and the spec.

    The video's size and rate are the clips' own (or ``output.size``/``output.fps``), never
    one computed from the storyboard's ratio (issue 11 §4), so they need no part of their own.
    """
    parts: list[Any] = [
        _FINGERPRINT_VERSION,
        prepared.loaded.pipeline.output.model_dump(mode="json"),
    ]
    for piece in pieces:
        info = piece.path.stat()
        parts.append(
            [piece.shot_id, str(piece.path), info.st_size, info.st_mtime_ns, piece.caption,
             piece.prompt, piece.trim.model_dump() if piece.trim else None]
        )  # fmt: skip
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _up_to_date(video: Path, stamp: Path, fingerprint: str) -> bool:
    """Whether ``video`` was built from exactly these inputs and is untouched since."""
    try:
        recorded = stamp.read_text(encoding="utf-8").split()
        info = video.stat()
    except OSError:
        return False
    return recorded == [fingerprint, str(info.st_size), str(info.st_mtime_ns)]

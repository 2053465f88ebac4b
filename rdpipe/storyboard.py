"""The storyboard video of a run: the picked take of every shot, joined by the assembly stage.

Re-assembly is skipped when the video was already built from exactly the same inputs, so a
no-op rerun costs no encoding.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rdpipe.errors import RdpipeError
from rdpipe.run import Workspace
from rdpipe.scheduler import ShotResult
from rdpipe.scheduler.scheduler import picked_result
from rdpipe.validate import PreparedPipeline


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


def _target_format(prepared: PreparedPipeline) -> Any:
    """The storyboard's frame size from the file's ratio and resolution, when both are known."""
    import re

    from rdpipe.assemble import TargetFormat

    pipeline = prepared.loaded.pipeline
    ratio = pipeline.defaults.ratio
    resolution: str | None = pipeline.defaults.resolution
    if resolution is None:
        found = re.search(r"-(480p|720p|1080p)$", pipeline.defaults.model or pipeline.model or "")
        resolution = found.group(1) if found else None
    if ratio is None or ratio == "adaptive" or resolution is None:
        return None
    return TargetFormat.from_ratio(ratio, resolution)


async def assemble_video(
    prepared: PreparedPipeline,
    results: Sequence[ShotResult],
    workspace: Workspace,
    *,
    environ: Mapping[str, str],
) -> Path:
    """Join the finished clips, in storyboard order, into the storyboard video."""
    from rdpipe.assemble import ClipInput, assemble
    from rdpipe.ffmpeg_path import find_ffmpeg

    shots = {shot.id: shot for shot in prepared.loaded.pipeline.shots}
    rendered = {(shot.id, shot.take): shot for shot in prepared.shots}
    clips = [
        ClipInput(
            shot_id=result.shot_id,
            path=workspace.output_dir / result.clip,
            prompt=str(rendered[result.shot_id, result.take].request["prompt"]),
            caption=rendered[result.shot_id, result.take].caption,
            trim=shots[result.shot_id].trim,
        )
        for result in picked_takes(prepared, results)
        if result.clip is not None
    ]
    if not clips:
        raise RdpipeError("no clip to assemble: no shot has finished yet")
    target = _target_format(prepared)
    stamp = workspace.output_dir / ".cache" / f"{workspace.video.name}.inputs"
    fingerprint = _assembly_fingerprint(clips, prepared, target)
    if _up_to_date(workspace.video, stamp, fingerprint):
        return workspace.video
    outcome = await assemble(
        clips,
        prepared.loaded.pipeline.output,
        output=workspace.video,
        cache_dir=workspace.output_dir / ".cache",
        ffmpeg=find_ffmpeg(environ),
        target=target,
        base_dir=prepared.loaded.root,
    )
    video = outcome.output.stat()
    stamp.write_text(f"{fingerprint} {video.st_size} {video.st_mtime_ns}\n", encoding="utf-8")
    return outcome.output


def _assembly_fingerprint(clips: Sequence[Any], prepared: PreparedPipeline, target: Any) -> str:
    """A digest of everything the video is made from: clip files, their order and the spec."""
    import hashlib

    parts: list[Any] = [prepared.loaded.pipeline.output.model_dump(mode="json"), repr(target)]
    for clip in clips:
        info = clip.path.stat()
        parts.append(
            [clip.shot_id, str(clip.path), info.st_size, info.st_mtime_ns, clip.caption,
             clip.prompt, clip.trim.model_dump() if clip.trim else None]
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

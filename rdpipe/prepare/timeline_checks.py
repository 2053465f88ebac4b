"""The timeline rule of ``validate``: trims, transitions and cards against the planned lengths.

The arithmetic is :func:`rdpipe.model.timeline.plan_timeline`, the same the assembly lays the
clips out with, run here on the seconds each shot requests, so a join ffmpeg could not draw
is refused before anything is paid for. Each ``outputs:`` entry is checked the same way, with
its own transition, cards and ``max_seconds``, and its ``path`` as ``output.path`` is (the
rule runs for every pipeline, so it holds the deliverables' path check too).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

from rdpipe.model import Pipeline
from rdpipe.model.deliverables import DeliverableSpec
from rdpipe.model.timeline import ShotLength, Timeline, plan_timeline, planned_fps
from rdpipe.render import RenderedShot
from rdpipe.templates import Problem


def check_timeline(pipeline: Pipeline, shots: Sequence[RenderedShot]) -> list[Problem]:
    """Every trim, transition and card length the planned shots cannot take.

    Takes of one shot request the same seconds, so each shot counts once. When a shot could
    not be rendered its length is unknown, and so is its neighbours' place in the joins:
    the rule waits until the other errors are fixed.
    """
    paths = _path_problems(pipeline)
    seconds = {shot.index: shot.seconds for shot in shots}
    if len(seconds) != len(pipeline.shots):
        return paths
    lengths = [
        ShotLength(shot.id, seconds[index], shot.trim) for index, shot in enumerate(pipeline.shots)
    ]
    timeline = plan_timeline(lengths, pipeline.output, planned_fps(pipeline.output))
    problems = [*paths, *(Problem(problem.path, problem.message) for problem in timeline.problems)]
    for index, deliverable in enumerate(pipeline.outputs or ()):
        for problem in _deliverable_problems(index, deliverable, lengths):
            if problem not in problems:  # a trim too short for every deliverable: said once
                problems.append(problem)
    return problems


def _path_problems(pipeline: Pipeline) -> list[Problem]:
    """Each ``outputs:`` entry whose ``path`` would write outside the pipeline's folder."""
    problems = []
    for index, deliverable in enumerate(pipeline.outputs or ()):
        path = PurePosixPath(deliverable.path.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or not path.name:
            problems.append(Problem(("outputs", index, "path"), (
                f"{deliverable.path!r} must be a file path inside the pipeline's folder "
                "(relative, without '..')"
            )))  # fmt: skip
    return problems


def _deliverable_problems(
    index: int, deliverable: DeliverableSpec, lengths: Sequence[ShotLength]
) -> list[Problem]:
    """The timeline problems of one ``outputs:`` entry (its own transition and cards), placed
    at that entry, then its length against its ``max_seconds``."""
    timeline = plan_timeline(lengths, deliverable, planned_fps(deliverable))
    if not timeline.problems:
        return _length_problems(index, deliverable, lengths)
    entry = f"outputs[{index}]."
    return [
        Problem(
            ("outputs", index, *problem.path[1:]) if problem.path[0] == "output" else problem.path,
            problem.message.replace("output.", entry),
        )
        for problem in timeline.problems
    ]


def _length_problems(
    index: int, deliverable: DeliverableSpec, lengths: Sequence[ShotLength]
) -> list[Problem]:
    """The problem of a deliverable whose cut, at the shots' planned seconds with its own
    trims, transitions and cards, would last longer than its ``max_seconds``."""
    limit = deliverable.max_seconds
    fps = planned_fps(deliverable)
    timeline = plan_timeline(lengths, deliverable, fps)
    if limit is None:
        return []
    seconds = float(_frames(timeline) / fps)
    if seconds <= limit:
        return []
    source = f" ({deliverable.platform})" if deliverable.platform else ""
    return [Problem(("outputs", index, "max_seconds"), (
        f"deliverable {deliverable.name!r} would last about {seconds:.1f} s, longer than its "
        f"max_seconds of {limit:g} s{source}; leave shots out, trim them, or raise max_seconds"
    ))]  # fmt: skip


def _frames(timeline: Timeline) -> int:
    """Frames of the whole cut: cards, and each shot but what it blends with the one before."""
    shots = sum(shot.frames - shot.head for shot in timeline.shots)
    return timeline.title_frames + shots + timeline.end_frames

"""The timeline rule of ``validate``: trims, transitions and cards against the planned lengths.

The arithmetic is :func:`rdpipe.model.timeline.plan_timeline`, the same the assembly lays the
clips out with, run here on the seconds each shot requests, so a join ffmpeg could not draw
is refused before anything is paid for.
"""

from __future__ import annotations

from collections.abc import Sequence

from rdpipe.model import Pipeline
from rdpipe.model.timeline import ShotLength, plan_timeline, planned_fps
from rdpipe.render import RenderedShot
from rdpipe.templates import Problem


def check_timeline(pipeline: Pipeline, shots: Sequence[RenderedShot]) -> list[Problem]:
    """Every trim, transition and card length the planned shots cannot take.

    Takes of one shot request the same seconds, so each shot counts once. When a shot could
    not be rendered its length is unknown, and so is its neighbours' place in the joins:
    the rule waits until the other errors are fixed.
    """
    seconds = {shot.index: shot.seconds for shot in shots}
    if len(seconds) != len(pipeline.shots):
        return []
    lengths = [
        ShotLength(shot.id, seconds[index], shot.trim) for index, shot in enumerate(pipeline.shots)
    ]
    timeline = plan_timeline(lengths, pipeline.output, planned_fps(pipeline.output))
    return [Problem(problem.path, problem.message) for problem in timeline.problems]

"""Which clip each deliverable uses for each shot, and how it fills the deliverable's frame
(issue 17 §2, design17 §5). Pure: the run's results in, one choice per shot out.

For deliverable D and shot s the method is ``s.aspect.get(D.name, D.aspect)`` (an ``output:``
block pads, as it always did, unless the shot says otherwise). Then:

- a drafted shot in drafts mode, or without a finished final: its draft take (its ``pick:``,
  else the first finished), fitted by the method;
- a shot that is not drafted: its storyboard take (rendition ``""``), picked as ever;
- otherwise, the clip regenerated for D (rendition ``D.name``) when it has one, as it is;
  else the final, fitted by the method (``regenerate`` without a clip falls back to
  ``reframe``, and a note says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rdpipe.model.deliverables import CENTRE, AspectMethod, DeliverableSpec, Fit
from rdpipe.model.pipeline import Pipeline, Shot
from rdpipe.prepare.pipeline import PreparedPipeline
from rdpipe.prepare.renditions import draft_of
from rdpipe.render import DRAFT
from rdpipe.scheduler import ShotResult, picked_result


@dataclass(frozen=True)
class ChosenClip:
    """The take a deliverable shows for one shot, and how it fills the frame."""

    result: ShotResult
    fit: Fit
    focus: tuple[float, float]


@dataclass(frozen=True)
class DeliverableCut:
    """The clips of one deliverable in storyboard order (shots without one left out), and
    notes for the film-maker (a regeneration that has no clip yet)."""

    clips: tuple[ChosenClip, ...]
    notes: tuple[str, ...] = ()


def choose_clips(
    prepared: PreparedPipeline,
    results: Sequence[ShotResult],
    deliverable: DeliverableSpec,
    *,
    drafts: bool = False,
) -> DeliverableCut:
    """The clip of every shot that has one for ``deliverable`` (rules in the module's text);
    ``drafts``: the run assembles from drafts (``run --drafts``, or a shot awaits a pick)."""
    pipeline = prepared.loaded.pipeline
    ratios: dict[str, str | None] = {}  # the shape a shot's own clips have (drafts share it)
    for rendered in prepared.shots:
        if rendered.rendition in ("", DRAFT):
            ratios.setdefault(rendered.id, rendered.request.metadata.ratio)
    by_shot: dict[str, dict[str, list[ShotResult]]] = {}
    for each in results:
        by_shot.setdefault(each.shot_id, {}).setdefault(each.rendition, []).append(each)
    chosen: list[ChosenClip] = []
    reframed: list[str] = []  # shots to regenerate for the deliverable, reframed meanwhile
    for index, shot in enumerate(pipeline.shots):
        method = shot.aspect.get(deliverable.name, _default_method(pipeline, deliverable))
        focus = (shot.focus.x, shot.focus.y) if shot.focus is not None else CENTRE
        drafted = draft_of(pipeline, index)[0] is not None
        result = _pick(shot, drafted, by_shot.get(shot.id, {}), deliverable, drafts=drafts)
        if result is None:
            continue
        fit: Fit = "reframe" if method == "regenerate" else method
        if result.rendition == deliverable.name:
            fit = "as_is"
        elif method == "regenerate" and ratios.get(shot.id) != deliverable.target_ratio:
            reframed.append(shot.id)
        chosen.append(ChosenClip(result, fit, focus))
    return DeliverableCut(tuple(chosen), _fallback_note(deliverable, reframed, drafts=drafts))


def _fallback_note(
    deliverable: DeliverableSpec, shot_ids: Sequence[str], *, drafts: bool
) -> tuple[str, ...]:
    """One note naming the shots ``deliverable`` shows reframed because their clip regenerated
    at its ratio is not there yet (in drafts mode it comes with the finals)."""
    if not shot_ids:
        return ()
    names = ", ".join(shot_ids)
    have = "has" if len(shot_ids) == 1 else "have"
    why = " (it is generated with the finals)" if drafts else ""
    return (
        f"{deliverable.name}: {names} {have} no clip regenerated at {deliverable.target_ratio} "
        f"yet{why}: reframed instead",
    )


def _default_method(pipeline: Pipeline, deliverable: DeliverableSpec) -> AspectMethod:
    """An ``outputs:`` entry's ``aspect``; ``pad`` for an ``output:`` block (bars, as before)."""
    return deliverable.aspect if pipeline.outputs is not None else "pad"


def _pick(
    shot: Shot,
    drafted: bool,
    renditions: dict[str, list[ShotResult]],
    deliverable: DeliverableSpec,
    *,
    drafts: bool,
) -> ShotResult | None:
    """The result whose clip the deliverable shows for ``shot``, or ``None``."""
    draft = picked_result(renditions.get(DRAFT, []), shot.pick) if drafted else None
    if drafts:
        return draft if drafted else picked_result(renditions.get("", []), shot.pick)
    if deliverable.name not in ("", DRAFT):
        regenerated = picked_result(renditions.get(deliverable.name, []), None)
        if regenerated is not None:
            return regenerated
    if not drafted:
        return picked_result(renditions.get("", []), shot.pick)
    final = picked_result(renditions.get("", []), None)  # one take: it renders the pick
    return final if final is not None else draft

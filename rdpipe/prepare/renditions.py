"""A shot's renditions (issue 17): its draft takes, its final, its regenerations per deliverable.

Pure: a rendered shot (its final request, no seed yet) and the storyboard give every request the
shot makes, each a :class:`~rdpipe.render.RenderedShot` with its ``rendition``:

- a shot without drafts and regenerations is its takes, as :meth:`ShotRenderer.takes` makes
  them (byte for byte what it always was);
- a drafted shot (``draft:`` on the shot, else on ``defaults``) is its draft takes (rendition
  ``"draft"``, each with an explicit seed derived from the *draft* request), and, once it has
  ``pick:``, its final (rendition ``""``): the final request with the picked draft's seed;
- a deliverable whose aspect for the shot is ``regenerate`` (and whose ratio differs from the
  shot's) adds the shot's storyboard request at that ratio (rendition = the deliverable's name).

Problems come back as values at the data path they were written at, as the renderer's do.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

from rdpipe.catalog import Catalog
from rdpipe.load.yaml_source import DataPath
from rdpipe.model import Pipeline, Shot, ShotFrame
from rdpipe.model.deliverables import DELIVERABLE_RATIOS, DeliverableSpec, ratio_value
from rdpipe.model.drafts import Draft, DraftSpec
from rdpipe.render import DRAFT, RenderedShot, derived_seed
from rdpipe.request import GenerationRequest
from rdpipe.templates import Problem

#: The family whose resolution is part of the model id (``doubao-seedance-2-0-480p``).
SEEDANCE_2 = "seedance-2.0"
#: The cheapest resolution a draft asks for.
DRAFT_RESOLUTION = "480p"

#: Expands a rendered shot into its takes (:meth:`rdpipe.render.ShotRenderer.takes`).
Takes = Callable[[RenderedShot, Shot], tuple[list[RenderedShot], list[Problem]]]


class Renditions:
    """Every rendition of each shot of one pipeline; pass :meth:`expand` to
    :meth:`~rdpipe.render.ShotRenderer.render_all`."""

    def __init__(self, pipeline: Pipeline, catalog: Catalog, takes: Takes) -> None:
        self._pipeline = pipeline
        self._catalog = catalog
        self._takes = takes
        #: Warnings found while expanding (a draft model the catalog does not know), in order
        #: found; a ``defaults.draft`` warning comes once per shot (deduplicate when shown).
        self.warnings: list[Problem] = []
        #: The final request (no seed) of each drafted shot awaiting its pick, in shot order:
        #: its model id is checked before any draft is paid for.
        self.awaited_finals: list[RenderedShot] = []

    def expand(
        self, rendered: RenderedShot, shot: Shot
    ) -> tuple[list[RenderedShot], list[Problem]]:
        """The shot's renditions in order: draft takes (or takes), final, regenerations."""
        problems = self._aspect_problems(shot, rendered.index)
        problems += self._ratio_problems(shot, rendered.index)
        draft, where = draft_of(self._pipeline, rendered.index)
        if draft is None:
            takes, found = self._takes(rendered, shot)
            if found:
                return [], problems + found
            source = next(t for t in takes if t.take == (shot.pick or 1))
            regenerated = self._regenerated(source, shot, source.take)
            if self._storyboard_clip_unused(shot, regenerated):
                self.warnings.append(self._unused_clip_warning(shot, source, regenerated))
            return takes + regenerated, problems
        drafts, found = self._draft_takes(rendered, shot, draft, where)
        if found:
            return [], problems + found
        if shot.pick is None:  # awaits a pick: drafts only
            self.awaited_finals.append(rendered)
            return drafts, problems
        seed = drafts[shot.pick - 1].request.metadata.seed
        assert seed is not None  # every draft take has its seed
        final = replace(rendered, request=rendered.request.with_seed(seed), from_take=shot.pick)
        regenerated = self._regenerated(final, shot, shot.pick)
        if self._storyboard_clip_unused(shot, regenerated):  # the drafts are its takes
            return [*drafts, *regenerated], problems
        return [*drafts, final, *regenerated], problems

    def _storyboard_clip_unused(self, shot: Shot, regenerated: list[RenderedShot]) -> bool:
        """Whether no deliverable shows the shot's storyboard clip: each has its own
        regeneration of the shot, and no shot starts from this one's last frame."""
        names = {each.rendition for each in regenerated}
        every = all(d.name in names for d in self._pipeline.deliverables)
        return every and not any(
            isinstance(frame, ShotFrame) and frame.shot.lower() == shot.id.lower()
            for other in self._pipeline.shots
            for frame in (other.first_frame, other.last_frame)
        )

    def _unused_clip_warning(
        self, shot: Shot, source: RenderedShot, regenerated: list[RenderedShot]
    ) -> Problem:
        """A shot without drafts whose storyboard clip no deliverable shows, yet is paid for:
        at its ``ratio:`` (else the shot), with the ratio that would make it the one shown."""
        ratio = source.request.metadata.ratio
        shown = f"at {ratio}" if ratio is not None else "at the model's default ratio"
        targets = list(dict.fromkeys(str(each.request.metadata.ratio) for each in regenerated))
        uses = ", ".join(
            f"{each.rendition} at {each.request.metadata.ratio}" for each in regenerated
        )
        advice = (
            f"set ratio: '{targets[0]}' on the shot to generate it at that ratio in the first place"
            if len(targets) == 1
            else f"set ratio: on the shot to one of {', '.join(targets)} to generate that one "
            "in the first place"
        )
        place: DataPath = ("shots", source.index)
        if "ratio" in shot.model_fields_set:
            place = ("shots", source.index, "ratio")
        return Problem(
            place,
            f"shot {shot.id}'s clip {shown} is used by no deliverable (each regenerates it: "
            f"{uses}), yet it is generated and paid for; {advice}",
        )

    def _draft_takes(
        self, rendered: RenderedShot, shot: Shot, draft: DraftSpec, where: DataPath
    ) -> tuple[list[RenderedShot], list[Problem]]:
        request, problem = self._draft_request(rendered.request, draft, where)
        if problem is not None:
            return [], [problem]
        assert request is not None
        unpicked = shot.model_copy(update={"pick": None})
        takes, problems = self._takes(replace(rendered, request=request), unpicked)
        if shot.pick is not None and takes and shot.pick > takes[0].takes:
            problems.append(
                Problem(
                    ("shots", rendered.index, "pick"),
                    f"draft take {shot.pick} does not exist: the shot has "
                    f"{_count(takes[0].takes, 'draft take')}",
                )
            )
        if problems:
            return [], problems
        seeded = [
            take
            if take.request.metadata.seed is not None
            else replace(take, request=take.request.with_seed(derived_seed(request, take.take)))
            for take in takes
        ]
        return [replace(take, rendition=DRAFT, pick=shot.pick) for take in seeded], []

    def _draft_request(
        self, final: GenerationRequest, draft: DraftSpec, where: DataPath
    ) -> tuple[GenerationRequest | None, Problem | None]:
        """The final request on the draft configuration, or the problem why there is none."""
        model, resolution = final.model, final.metadata.resolution
        if draft.model is not None:
            model = draft.model
            problem = self._family_problem(final.model, model, (*where, "model"))
            if problem is not None:
                return None, problem
        elif draft.resolution is None:
            cheaper = self._cheapest(final.model)
            if cheaper is None:
                return None, Problem(
                    where,
                    f"draft: true: rdpipe knows no cheaper configuration of {final.model}; "
                    "write draft: {model: ...}",
                )
            model, resolution = cheaper
        if draft.resolution is not None:
            model, resolution = self._at_resolution(model, draft.resolution)
        metadata = final.metadata
        audio, problem = self._draft_audio(final, model, draft, where)
        if problem is not None:
            return None, problem
        request = replace(final, model=model).with_settings(
            ratio=metadata.ratio, resolution=resolution, generate_audio=audio
        )
        if draft.metadata:
            request = request.with_extra({**metadata.extra.to_json(), **draft.metadata})
        if request.body == final.body:
            return None, Problem(
                where,
                f"the draft request is the final one ({final.model}): drafts would cost what "
                "finals cost; give draft: a cheaper model or resolution",
            )
        return request, None

    def _family_problem(self, final: str, model: str, where: DataPath) -> Problem | None:
        """An error when the draft ``model`` is of another family than the ``final`` one (its
        seed would not reproduce the picture); a warning (kept in :attr:`warnings`) when the
        catalog does not know one of them, so the family cannot be told."""
        if model == final:
            return None
        draft_info, final_info = self._catalog.get(model), self._catalog.get(final)
        if draft_info is None or final_info is None:
            unknown = model if draft_info is None else final
            self.warnings.append(
                Problem(
                    where,
                    f"rdpipe cannot tell whether {model} is of the family of the final {final} "
                    f"({unknown} is not in its catalog): {_SAME_FAMILY}",
                )
            )
            return None
        if draft_info.family == final_info.family:
            return None
        family = final_info.family
        others = [
            other.id
            for other in self._catalog.models.values()
            if other.family == family and other.id != final
        ]
        advice = (
            f"draft on a {family} model ({', '.join(others)})"
            if others
            else f"draft on {final} at a lower resolution (draft: {{resolution: 480p}})"
        )
        return Problem(
            where,
            f"{model} is a {draft_info.family} model and the final {final} a {family} one: "
            f"{_SAME_FAMILY}; {advice}",
        )

    def _draft_audio(
        self, final: GenerationRequest, model: str, draft: DraftSpec, where: DataPath
    ) -> tuple[bool | None, Problem | None]:
        """The draft request's ``generate_audio``: the draft's own, else the final's; not sent
        (``None``) when the draft is on another model whose id fixes its sound (a
        ``-no-audio`` model, or one without audio), where asking otherwise is an error."""
        own = draft.generate_audio
        inherited = final.metadata.generate_audio if own is None else own
        info = self._catalog.get(model)
        if model == final.model or info is None or info.audio is None:
            return inherited, None
        if own is not None and own != info.audio:
            fixed = "always has" if info.audio else "never has"
            return None, Problem(
                (*where, "generate_audio"),
                f"{model} {fixed} audio, so its drafts cannot be made with generate_audio: "
                f"{str(own).lower()}; leave generate_audio out of the draft",
            )
        return None, None

    def _cheapest(self, model: str) -> tuple[str, str | None] | None:
        """The cheapest configuration of ``model``: its family's 480p id (Seedance 2.0), else
        the resolution 480p where it offers it; ``None`` when neither is known."""
        info = self._catalog.get(model)
        if info is None:
            return None
        if info.family == SEEDANCE_2:
            cheapest = self._seedance_2_id(DRAFT_RESOLUTION)
            return None if cheapest is None else (cheapest, None)
        if DRAFT_RESOLUTION in info.resolutions:
            return model, DRAFT_RESOLUTION
        return None

    def _at_resolution(self, model: str, resolution: str) -> tuple[str, str | None]:
        """``model`` at ``resolution``: for a Seedance 2.0 id, whose id names its one
        resolution, the family's id of that resolution (and no resolution field)."""
        info = self._catalog.get(model)
        if info is not None and info.family == SEEDANCE_2:
            named = self._seedance_2_id(resolution)
            if named is not None:
                return named, None
        return model, resolution

    def _seedance_2_id(self, resolution: str) -> str | None:
        return next(
            (
                other.id
                for other in self._catalog.models.values()
                if other.family == SEEDANCE_2 and other.resolutions == (resolution,)
            ),
            None,
        )

    def _regenerated(self, source: RenderedShot, shot: Shot, from_take: int) -> list[RenderedShot]:
        """``source`` again at the ratio of each deliverable that regenerates the shot."""
        regenerated = []
        for deliverable in self._pipeline.deliverables:
            method = shot.aspect.get(deliverable.name, deliverable.aspect)
            if method != "regenerate":
                continue
            ratio = deliverable.target_ratio
            if ratio is None or ratio == source.request.metadata.ratio:
                continue  # no ratio: _ratio_problems says so
            request = source.request
            request = replace(request, metadata=replace(request.metadata, ratio=ratio))
            regenerated.append(
                replace(
                    source,
                    request=request,
                    take=1,
                    takes=1,
                    pick=None,
                    rendition=deliverable.name,
                    from_take=from_take,
                )
            )
        return regenerated

    def _ratio_problems(self, shot: Shot, index: int) -> list[Problem]:
        """Each deliverable that would regenerate the shot but has no ratio the API can
        generate at: none given, or a size of another shape (checked with or without picks)."""
        problems = []
        for position, deliverable in enumerate(self._pipeline.deliverables):
            method = shot.aspect.get(deliverable.name, deliverable.aspect)
            if method == "regenerate" and deliverable.target_ratio is None:
                place = self._aspect_place(shot, index, deliverable, position)
                problems.append(Problem(place, no_ratio_message(deliverable)))
        return problems

    def _aspect_place(
        self, shot: Shot, index: int, deliverable: DeliverableSpec, position: int
    ) -> DataPath:
        if deliverable.name in shot.aspect:
            return ("shots", index, "aspect", deliverable.name)
        return ("outputs", position, "aspect")

    def _aspect_problems(self, shot: Shot, index: int) -> list[Problem]:
        names = [deliverable.name for deliverable in self._pipeline.deliverables]
        return [
            Problem(
                ("shots", index, "aspect", name),
                f"no deliverable named {name!r}; the deliverables are {', '.join(names)}",
            )
            for name in shot.aspect
            if name not in names
        ]


#: Why a draft must be on the final's model family (issue 17 §1).
_SAME_FAMILY = "a draft's seed reproduces the picture only on the same model family"


def draft_of(pipeline: Pipeline, index: int) -> tuple[DraftSpec | None, DataPath]:
    """The effective draft stage of shot ``index`` (``None``: no drafts) and where it is
    written: the shot's ``draft:``, else ``defaults.draft``."""
    draft: Draft | None = pipeline.shots[index].draft
    where: DataPath = ("shots", index, "draft")
    if draft is None:
        draft, where = pipeline.defaults.draft, ("defaults", "draft")
    if draft is None or draft is False:
        return None, where
    return (DraftSpec() if draft is True else draft), where


def draft_setting_place(pipeline: Pipeline, index: int, name: str) -> DataPath | None:
    """Where a draft take of shot ``index`` has its ``name`` setting (model, resolution,
    generate_audio) from: its draft mapping when that sets it, else ``None`` (the final's)."""
    draft, where = draft_of(pipeline, index)
    if draft is None or name not in draft.model_fields_set:
        return None
    return (*where, name)


def no_ratio_message(deliverable: DeliverableSpec) -> str:
    """Why ``deliverable`` cannot regenerate a shot: it names no ratio, or its size is of a
    shape the API does not generate (with the closest one it does, at the same width)."""
    size = deliverable.frame_size
    if size is None:
        return (
            f"regenerate needs the ratio to generate at: set ratio: or size: on deliverable "
            f"{deliverable.name!r}"
        )
    width, height = size
    divisor = math.gcd(width, height)
    shape = f"{width // divisor}:{height // divisor}"
    closest = min(
        DELIVERABLE_RATIOS, key=lambda ratio: abs(math.log(width / height / ratio_value(ratio)))
    )
    across, down = (int(part) for part in closest.split(":"))
    even = round(width * down / across / 2) * 2
    return (
        f"{deliverable.size} is {shape}, which the API cannot generate (it generates "
        f"{', '.join(DELIVERABLE_RATIOS)}): use aspect: reframe or pad for deliverable "
        f"{deliverable.name!r}, or a size of one of those ratios (closest: {closest}, "
        f"{width}x{even})"
    )


def awaiting_pick(shots: Sequence[RenderedShot]) -> list[str]:
    """Ids of the drafted shots without a final or regeneration (no ``pick:`` yet), in
    storyboard order."""
    drafted = dict.fromkeys(shot.id for shot in shots if shot.rendition == DRAFT)
    # A picked shot has its final, or only regenerations when no deliverable shows the final.
    rendered = {shot.id for shot in shots if shot.rendition != DRAFT}
    return [shot_id for shot_id in drafted if shot_id not in rendered]


def draft_stage(shots: Sequence[RenderedShot]) -> list[RenderedShot]:
    """What ``run --drafts`` makes: the draft takes, and the storyboard takes of the shots
    without drafts; no final and no regeneration."""
    drafted = {shot.id for shot in shots if shot.rendition == DRAFT}
    return [
        shot
        for shot in shots
        if shot.rendition == DRAFT or (shot.rendition == "" and shot.id not in drafted)
    ]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"

"""What the run after this one generates (issue 17): the finals and regenerations that follow
the picks, so ``plan`` gives the whole price before the drafts are paid for.

A drafted shot without ``pick:`` makes its drafts only: its final (and the regenerations made
from it) wait for the pick, which gives their seed. The seed changes no price, so the final is
priced as the pick would make it, from take 1's seed. Under ``run --drafts`` (``plan
--drafts``), the next run also renders the finals of the shots already picked and every
regeneration, planned against the state as a plain run would.

Read-only: nothing here is sent or written. The budget never counts these: a run is checked
against what it sends.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from rdpipe.plan import Action, Job, ModelTotals, Plan, Stage

if TYPE_CHECKING:
    from rdpipe.prepare.pipeline import PreparedPipeline
    from rdpipe.prices import ShotCost
    from rdpipe.session.pricing import PlanMoney, Prices
    from rdpipe.session.settings import RunSettings

#: Why a job that follows a pick is counted as a generation.
AFTER_PICK = "rendered once the shot's draft is picked (the pick gives its seed)"


@dataclass(frozen=True)
class LaterStage:
    """One stage of the next run: ``after_picks`` when its jobs wait for drafted shots to be
    picked, else (``plan --drafts``) jobs the next plain run renders anyway."""

    stage: Stage
    after_picks: bool

    @property
    def title(self) -> str:
        """``finals, after picks (next run)``, ``regenerated for vertical (next run)``."""
        when = ", after picks (next run)" if self.after_picks else " (next run)"
        return f"{self.stage.title}{when}"


@dataclass(frozen=True)
class NextRun:
    """The jobs the next run renders that this one does not (``plan.jobs``, storyboard
    order), ``awaiting_pick`` the drafted shots they wait for (ids, in order), ``after_picks``
    the labels of the jobs the picks make (a drafted shot's final and regenerations, and a
    take continuing from it, whose key the pick changes), and with ``money`` their costs at
    the prices this plan read."""

    plan: Plan
    awaiting_pick: tuple[str, ...]
    after_picks: frozenset[str] = frozenset()
    money: PlanMoney | None = None

    @property
    def generations(self) -> int:
        return self.plan.generations

    @property
    def billed_seconds(self) -> int:
        return self.plan.billed_seconds

    @property
    def stages(self) -> list[LaterStage]:
        """The jobs by stage (drafts, finals, regenerations per deliverable), those after the
        picks before the others of each stage."""
        split = [
            (after, _plan_of(self.plan.pipeline, [j for j in self.plan.jobs
                                                  if (j.shot.label in self.after_picks) == after]))
            for after in (True, False)
        ]  # fmt: skip
        stages = [LaterStage(stage, after) for after, plan in split for stage in plan.stages]
        order = {(s.name, s.deliverable): i for i, s in enumerate(self.plan.stages)}
        return sorted(stages, key=lambda s: order[s.stage.name, s.stage.deliverable])

    def priced(self, prices: Prices) -> NextRun:
        """These jobs with their costs at ``prices``."""
        from rdpipe.session.pricing import PlanMoney

        return replace(self, money=PlanMoney.of(self.plan, prices))

    def cost(self, stage: Stage | None = None) -> ShotCost | None:
        """What the jobs to generate (of ``stage``, else all) cost; ``None`` without prices
        or when one of them is not priced."""
        from rdpipe.prices import ShotCost

        if self.money is None:
            return None
        total: ShotCost | None = ShotCost(0, 0)
        for job in self.plan.jobs if stage is None else stage.jobs:
            if job.action is not Action.GENERATE:
                continue
            cost = self.money.billed(job)
            total = None if cost is None or total is None else total + cost
        return total


def next_run(
    prepared: PreparedPipeline, settings: RunSettings, this_run: Plan, *, allow_outside: bool
) -> NextRun | None:
    """What the run after ``this_run`` (the plan of ``prepared`` with ``settings``) renders
    that this one does not; ``None`` when nothing: every drafted shot is picked, and this is
    not ``--drafts``. A job waiting for a pick (a drafted shot's final and regenerations, a
    take continuing from them) is a generation whatever the state holds: the pick, not made,
    decides its key. Reads the state as :func:`read_plan` does."""
    from rdpipe.session.session import read_plan

    awaiting = tuple(prepared.awaiting_pick)
    if not awaiting and not settings.drafts:
        return None
    full = read_plan(_picked(prepared, awaiting, allow_outside), replace(settings, drafts=False))
    # A take whose key changes sends again: a shot continuing from a drafted one starts from
    # its draft now, from its final once picked.
    sent = {job.shot.label: job.key for job in this_run.jobs}
    later = [job for job in full.jobs if sent.get(job.shot.label) != job.key]
    after = frozenset(
        job.shot.label for job in later if job.shot.id in awaiting or job.shot.label in sent
    )
    jobs = [
        Job(job.shot, job.key, Action.GENERATE, AFTER_PICK) if job.shot.label in after else job
        for job in later
    ]
    if not jobs:
        return None
    return NextRun(_plan_of(this_run.pipeline, jobs), awaiting, after)


def _picked(
    prepared: PreparedPipeline, awaiting: tuple[str, ...], allow_outside: bool
) -> PreparedPipeline:
    """``prepared`` as if each shot of ``awaiting`` picked its first draft take: its final and
    regenerations rendered (at take 1's seed, which changes no price)."""
    if not awaiting:
        return prepared
    from rdpipe.prepare.pipeline import check_loaded

    pipeline = prepared.loaded.pipeline
    shots = [
        shot.model_copy(update={"pick": 1}) if shot.id in awaiting else shot
        for shot in pipeline.shots
    ]
    loaded = replace(prepared.loaded, pipeline=pipeline.model_copy(update={"shots": shots}))
    return check_loaded(loaded, allow_outside=allow_outside)


def _plan_of(pipeline: str, jobs: list[Job]) -> Plan:
    """A plan of ``jobs`` with its totals by model (the jobs to generate)."""
    totals: dict[str, ModelTotals] = {}
    for job in jobs:
        if job.action is Action.GENERATE:
            before = totals.get(job.shot.model, ModelTotals())
            totals[job.shot.model] = ModelTotals(
                before.generations + 1, before.billed_seconds + job.shot.seconds
            )
    return Plan(pipeline, jobs, totals)


#: What a plain run does after ``run --drafts`` with every drafted shot picked.
FinalsState = Literal["render", "assemble", "current"]


def finals_after_drafts(prepared: PreparedPipeline, settings: RunSettings) -> FinalsState:
    """What the plain run after a ``run --drafts`` of ``prepared`` (every drafted shot picked)
    would do, from the state alone: ``"render"`` when a final or regeneration still has to be
    generated (or followed), ``"assemble"`` when each one has its clip but a final video is
    not built from them, ``"current"`` when the final videos are current. Read-only; needs the
    state the drafts run wrote."""
    from rdpipe.session.assembly import current_videos
    from rdpipe.session.session import Access, open_session

    with open_session(prepared, replace(settings, drafts=False), access=Access.READ) as session:
        if session.plan.needs_api:
            return "render"
        results = session.settle()
        built = current_videos(session.prepared, results, session.workspace, drafts=False)
        return "current" if built else "assemble"

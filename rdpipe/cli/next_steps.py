"""What to run next after a run that did not finish every shot, as commands to paste.

A run's summary line counts the shots without a clip; the lines here name the command that
deals with each kind, in the user's terms (:class:`~rdpipe.hints.Invocation`): the same file
from where they are, the same mode (``--offline``), the same ``--set`` values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from rdpipe.render import DRAFT
from rdpipe.scheduler import Outcome, Phase

if TYPE_CHECKING:
    from rdpipe.hints import Invocation
    from rdpipe.session.next_run import FinalsState
    from rdpipe.session.summary import RunSummary


def next_steps(
    summary: RunSummary,
    invocation: Invocation,
    *,
    awaiting_pick: Sequence[str] = (),
    drafts_run: bool = False,
    finals: FinalsState = "render",
) -> list[str]:
    """One sentence per thing left to do, each naming its command in backticks; ``[]`` when
    every shot has its clip and the video was built, and no drafted shot awaits a pick.

    - shots in flight, failed, or not submitted: ``rdpipe run FILE`` (tasks in flight are
      followed and finished tasks downloaded, never paid again; the others are submitted);
    - shots of unknown outcome, online: ``rdpipe run FILE --resubmit-unknown`` after checking
      the dashboard (they may be paid twice); offline: ``rdpipe run FILE --offline`` (free);
    - a video not built while some shots have a clip: ``rdpipe assemble FILE --partial``;
    - drafted shots with no ``pick:`` (``awaiting_pick``, ids): last, which they are and how
      to go on (:func:`pick_advice`); after ``run --drafts`` (``drafts_run``) with every
      drafted shot picked, as ``finals`` says
      (:func:`~rdpipe.session.next_run.finals_after_drafts`): the run that renders the
      finals, the run that builds the final videos from the finals already rendered, or
      nothing when those videos are current.
    """
    results = summary.results
    unknown = [r.shot_id for r in results if r.phase is Phase.UNKNOWN]
    in_flight = [r.shot_id for r in results if r.phase is Phase.IN_FLIGHT]
    # A refused request (a model not served, say) is refused again unchanged: not "try again".
    # So is an input refused (skipped by its on_failure or not); shots that a refusal of an
    # earlier run stops (on_failure: stop) wait on it being changed.
    refused = [
        r.shot_id for r in results if not r.ok and (r.outcome is Outcome.REFUSED or r.input_refused)
    ]
    stopped_by = {r.shot_id: r.waits_on for r in results if not r.ok and r.waits_on}
    again = [
        r.shot_id
        for r in results
        if not r.ok
        and r.phase not in (Phase.UNKNOWN, Phase.IN_FLIGHT)
        and r.outcome is not Outcome.REFUSED
        and not r.input_refused
        and r.shot_id not in stopped_by
    ]
    steps = []
    if invocation.offline and unknown:  # the simulator bills nothing: send them again
        again, unknown = [*again, *unknown], []
    if again or in_flight:
        parts = []
        if in_flight:
            parts.append(f"follows the tasks still in flight ({_ids(in_flight)}; no new charge)")
        if again:
            free = " (free)" if invocation.offline else ""
            parts.append(
                f"tries again the shots without a clip ({_ids(again)}){free}: a task already "
                "paid for is downloaded again, not paid twice"
            )
        steps.append(f"`{invocation.command('run')}` {' and '.join(parts)}.")
    if refused:
        steps.append(
            f"RelayDance refused {_ids(refused)} as sent and refuses the same request again: "
            "change the pipeline file as the reasons above say, then "
            f"`{invocation.command('run')}`."
        )
    if stopped_by:
        [*_, blocker] = stopped_by.values()
        steps.append(
            f"{_ids(list(stopped_by))} wait on {blocker}: RelayDance refused it in an earlier run "
            "and its on_failure: stop stops every run's submits while it is unchanged; once it "
            f"is changed, `{invocation.command('run')}` sends them too."
        )
    if unknown:
        steps.append(unknown_outcome_advice(unknown, invocation))
    has_clip = any(r.ok for r in results)
    if summary.output is None and has_clip and not all(r.ok for r in results):
        partial = invocation.command("assemble", options=("--partial",))
        steps.append(f"`{partial}` builds the video from the shots that have a clip.")
    drafted = {
        job.shot.id: job.shot.takes for job in summary.plan.jobs if job.shot.rendition == DRAFT
    }
    waiting = [shot for shot in awaiting_pick if shot in drafted]
    if waiting:
        steps += pick_advice({shot: drafted[shot] for shot in waiting}, invocation)
    elif drafts_run and drafted and finals != "current":
        steps.append(_finals_step(invocation, finals))
    return steps


def _finals_step(invocation: Invocation, finals: FinalsState) -> str:
    """After ``run --drafts`` with every drafted shot picked: the run that makes the finals."""
    run = invocation.command("run")
    if finals == "render":
        return f"`{run}` renders the finals of the picked drafts."
    return (
        f"`{run}` builds the final videos from the finals already rendered (nothing to generate)."
    )


def pick_advice(takes: Mapping[str, int], invocation: Invocation) -> list[str]:
    """What to do about drafted shots with no ``pick:`` (their ids, each with its number of
    draft takes): look at the drafts, pick one take of each (the exact command for a shot of
    one take), then run to render the finals."""
    shots = list(takes)
    which = f"{shots[0]} awaits" if len(shots) == 1 else f"{_ids(shots)} await"
    steps = [
        f"{which} a pick of its draft takes: `{invocation.command('review')}` shows them."
        if len(shots) == 1
        else f"{which} a pick of their draft takes: `{invocation.command('review')}` shows them."
    ]
    for shot, count in takes.items():
        if count == 1:  # nothing to choose: the exact command
            command = invocation.command("pick", shot, "1")
            steps.append(f"`{command}` picks the only draft take of {shot}.")
            continue
        command = invocation.command("pick", shot, "TAKE")
        steps.append(f"`{command}` picks the take of {shot} (TAKE: 1 to {count}).")
    steps.append(f"Then `{invocation.command('run')}` renders the finals.")
    return steps


def unknown_outcome_advice(shots: Sequence[str], invocation: Invocation) -> str:
    """What to do about ``shots`` (ids or labels) whose submit has an unknown outcome, online:
    look for their tasks on the dashboard, then the command that submits them again (a task
    that was made is then paid twice). Said after a run and by ``rdpipe status``."""
    resubmit = invocation.command("run", options=("--resubmit-unknown",))
    if len(set(shots)) == 1:
        return (
            f"The submit of {shots[0]} has an unknown outcome: check your RelayDance dashboard "
            f"for its task; if none was made, `{resubmit}` submits it again (if one was, it is "
            "paid twice)."
        )
    return (
        f"The submits of {_ids(shots)} have an unknown outcome: check your RelayDance "
        f"dashboard for their tasks; if none was made, `{resubmit}` submits them again "
        "(if one was, they are paid twice)."
    )


def _ids(shots: Sequence[str]) -> str:
    return ", ".join(dict.fromkeys(shots))

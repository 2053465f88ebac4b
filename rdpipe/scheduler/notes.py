"""What to say about a paid task this run leaves recorded instead of following it to its end.

A task the server asked does not know, a task submitted to another host, a task still running
when ``--fail-fast`` or ``--timeout`` stopped the run, polls lost to a network outage: in each
case the task stays in the journal (it was paid for and may still be running), and the text says
why and what the next run does with it. Pure functions, no I/O.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the session reads offline_resubmit_reason at start-up: no HTTP client then
    from rdpipe.client import ApiError, RelayDanceError

RESUBMIT = "--resubmit-unknown"


def lost_text(task_id: str, error: ApiError, asked: str | None, submitted_to: str | None) -> str:
    """A recorded task the server at ``asked`` says does not exist: kept, not given up."""
    return (
        f"{_server(asked)} has no task {task_id} ({_status(error)}); {_sent(submitted_to, asked)}. "
        "It stays recorded and is not submitted again: if it was submitted with another API key "
        "or server, set RELAYDANCE_API_KEY and RELAYDANCE_BASE_URL back to those and rerun to "
        f"follow it (no new charge); if RelayDance no longer keeps it, rerun with {RESUBMIT} to "
        "pay for a new one"
    )


def lost_resubmitted_text(
    task_id: str, error: ApiError, asked: str | None, submitted_to: str | None
) -> str:
    """The same, when the user asked to pay for a new task over it."""
    return (
        f"{_server(asked)} has no task {task_id} ({_status(error)}); "
        f"{_sent(submitted_to, asked)}; submitting a new one ({RESUBMIT}, billed)"
    )


def elsewhere_text(task_id: str, submitted_to: str, asked: str) -> str:
    """A recorded task submitted to another API host: it is not polled on this one."""
    return (
        f"task {task_id} was submitted to {submitted_to}, but RELAYDANCE_BASE_URL points at "
        f"{asked}, so it is not polled there. It stays recorded: set RELAYDANCE_BASE_URL back to "
        f"the server at {submitted_to} and rerun to follow it (no new charge), or rerun with "
        f"{RESUBMIT} to pay for a new one at {asked}"
    )


def elsewhere_resubmitted_text(task_id: str, submitted_to: str, asked: str) -> str:
    """The same, when the user asked to pay for a new task on this host."""
    return (
        f"task {task_id} was submitted to {submitted_to}, not {asked}; it stays recorded there "
        f"and a new one is submitted at {asked} ({RESUBMIT}, billed)"
    )


def stopped_text(cause: str, *, has_task: bool, downloading: bool, submitted: bool) -> str:
    """Why a shot ended unfinished when the run stopped early (``cause`` says what stopped it)."""
    if downloading:
        return f"{cause}; its task finished and the next run downloads its clip (no new charge)"
    if has_task:
        return f"{cause}; its task is still running and the next run follows it (no new charge)"
    if submitted:
        return f"{cause}; none of its tasks is still running"
    return f"{cause}; nothing was submitted for it"


def outage_text(error: RelayDanceError, minutes: float) -> str:
    """A poll that could not reach RelayDance: polling goes on, nothing is lost. Said once per
    outage, above the live view (not in a shot's row), so it stays short enough to read."""
    from rdpipe.client import NoAnswer, NotSent

    detail = error.reason if isinstance(error, NotSent | NoAnswer) else error.message.rstrip(".")
    return (
        f"could not reach RelayDance to poll ({detail}); rdpipe keeps polling each task until "
        f"--shot-timeout ({minutes:g} min). Ctrl-C stops waiting: the tasks submitted stay "
        "recorded, and the resume command is printed"
    )


#: Said once when a poll reaches RelayDance again after :func:`outage_text`.
OUTAGE_OVER = "RelayDance answers again: polling goes on"


def offline_resubmit_reason(task_id: str | None) -> str:
    """Why an offline run submits again what an earlier offline run left unfinished: the
    built-in simulator keeps a task only while the run that submitted it lasts."""
    task = f"task {task_id}" if task_id else "the task"
    return (
        f"{task} was left by an earlier offline run, whose simulator is gone; "
        "it is submitted again (free)"
    )


def _server(asked: str | None) -> str:
    return f"RelayDance at {asked}" if asked else "RelayDance"


def _status(error: ApiError) -> str:
    return f"{error.status} {error.code}" if error.code else str(error.status)


def _sent(submitted_to: str | None, asked: str | None) -> str:
    if submitted_to is None:
        return "an earlier run submitted it"
    if submitted_to == asked:
        return f"it was submitted there ({submitted_to})"
    return f"it was submitted to {submitted_to}"


def gate_refused_text(answers: int, deadline: float) -> str:
    """Why a shot was not submitted: the relay's concurrency gate refused each of its
    ``answers`` submits until the shot's deadline (``deadline`` seconds) passed."""
    waited = f"{deadline:g} s" if deadline < 60 else f"{deadline / 60:g} min"
    return (
        f"the relay's concurrency gate refused every submit for {waited} ({answers} times, 429 "
        "token_concurrency_limit_reached) and the shot's time limit (--shot-timeout) passed; "
        "nothing was created (not billed): rerun when fewer requests of this API key run at "
        "once (other runs, or a lower -j)"
    )
